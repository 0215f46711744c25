// A consumer of the installed package: the public API type-checks against its declarations
// (dist/types), with the strictest module resolution (NodeNext) and skipLibCheck off.
import {
  tensor, randn, grad, valueAndGrad, conv3d, sum, mean, Generator, Tensor, setBackend,
  nn, saveCheckpoint, loadCheckpoint, readCheckpoint, decodeSafetensors, parseNifti, parseVolume,
  modelFromCheckpoint, windowDefaults, predictScan, dice, caseMetrics,
  type Volume, type LoadedCheckpoint, type SegmentationModel, type Prediction, type ScanOptions,
} from 'voxgrad';

export async function gradients(): Promise<Float32Array> {
  await setBackend('wasm');
  const g = new Generator(1);
  const x: Tensor = randn([1, 1, 4, 4, 4], g);
  const w = randn([2, 1, 3, 3, 3], g);
  const [dw] = grad((weights) => sum(conv3d(x, weights, undefined, { padding: 1 })), [w]);
  const [value] = valueAndGrad((a) => mean(a), [tensor([1, 2, 3])]);
  const shape: readonly number[] = dw.shape;
  void shape;
  return value.data();
}

export async function network(path: string): Promise<LoadedCheckpoint> {
  const net = new nn.VNet({ nChannels: 1, nClasses: 2, nFilters: 8, normalization: 'batchnorm' });
  const out: Tensor = net.forward(tensor(new Float32Array(32 * 48 * 32), [1, 1, 32, 48, 32]), { dropout: false }).seg;
  out.dispose();
  await saveCheckpoint(net, path, { metadata: { note: 'consumer' } });
  return loadCheckpoint(net, path);
}

export async function segment(imageBytes: Uint8Array, modelBytes: Uint8Array): Promise<{ prediction: Prediction; dice: number }> {
  const image: Volume = await parseNifti(imageBytes, 'case.nii.gz');
  const again: Volume = await parseVolume(imageBytes, 'case.nii.gz');
  const model: SegmentationModel = modelFromCheckpoint(decodeSafetensors(modelBytes, 'model'), 'model');
  const opts: ScanOptions = { ...windowDefaults(model), normalization: 'zscore', downsample: model.downsample, batch: 2 };
  const prediction = await predictScan(model.net, image, opts);
  model.net.dispose();
  const metrics = caseMetrics(prediction.label, again.data, image.shape, image.spacing);
  return { prediction, dice: dice(prediction.label, again.data) + 0 * metrics.hd95 };
}

export const fromDisk = (path: string) => readCheckpoint(path);
