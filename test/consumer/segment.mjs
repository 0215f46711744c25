// Run in Node from the consumer project: segments a case the package ships with the model it ships,
// on the wasm backend, through the public API only. Prints one JSON line.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setBackend, decodeSafetensors, modelFromCheckpoint, windowDefaults, parseNifti, predictScan, dice, grad, sum, mul, tensor } from 'voxgrad';

// The installed package's folder (its package.json is exported), where data/ and models/ are.
const root = dirname(createRequire(import.meta.url).resolve('voxgrad/package.json'));
const id = process.argv[2] ?? 'hippocampus_092';
const started = performance.now();
const backend = await setBackend('wasm');
const [dx] = grad((x) => sum(mul(x, x)), [tensor([1, 2, 3])]);
const gradient = Array.from(await dx.data());
const modelPath = join(root, 'models', 'hippocampus-ugmcl-l16-s0.safetensors');
const model = modelFromCheckpoint(decodeSafetensors(new Uint8Array(await readFile(modelPath)), modelPath), modelPath);
const image = await parseNifti(new Uint8Array(await readFile(join(root, 'data/hippocampus/images', `${id}.nii.gz`))), id);
const label = await parseNifti(new Uint8Array(await readFile(join(root, 'data/hippocampus/labels', `${id}.nii.gz`))), id);
const prediction = await predictScan(model.net, image, { ...windowDefaults(model), normalization: 'zscore', downsample: model.downsample, batch: 2 });
model.net.dispose();
const reference = Uint8Array.from(label.data, (v) => (v > 0 ? 1 : 0));
const foreground = prediction.label.reduce((n, v) => n + (v > 0 ? 1 : 0), 0);
console.log(JSON.stringify({ backend, gradient, shape: image.shape, foreground, dice: dice(prediction.label, reference),
  seconds: (performance.now() - started) / 1000 }));
