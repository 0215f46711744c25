// `npm start`, the main job: UG-MCL trained on the bundled hippocampus subset (configs/demo.json),
// a supervised-only baseline trained with the same iterations, patch and seed, both evaluated on
// the bundled evaluation cases with medpy's metrics; then one predicted mask as NIfTI and a picture
// of it, everything in one output folder.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Command } from './command.ts';
import type { Volume } from '../io/volume.ts';
import { normalize } from '../datasets/normalize.ts';
import { openConfigDataset } from '../train/loop/config-data.ts';
import { readList } from '../datasets/list.ts';
import { predictScan, type ScanOptions } from '../infer/predict.ts';
import { writeNifti } from '../io/files.ts';
import { loadConfig } from '../train/loop/config-file.ts';
import { binarize } from '../train/loop/batches.ts';
import { scoreCases, type Scores } from '../infer/score-cases.ts';
import { sliceOverlayPng } from '../report/slice-overlay.ts';
import { loadModel } from './model.ts';
import { runTraining } from './train.ts';

interface ScanCase { id: string; image: Volume; label: Volume }

// The CLI is bundled to dist/cli.js; configs/ and data/ sit beside dist/.
const bundledConfig = fileURLToPath(new URL('../configs/demo.json', import.meta.url));

async function score(modelPath: string, cases: ScanCase[], window: Omit<ScanOptions, 'batch'>): Promise<Scores> {
  const { net } = await loadModel(modelPath, 'auto');
  const byId = new Map(cases.map((c) => [c.id, c]));
  const scores = await scoreCases(net, cases.map((c) => c.id), async (id) => {
    const c = byId.get(id)!;
    return { id, image: c.image, label: binarize(c.label.data, 'nonzero') };
  }, { ...window, batch: 2 });
  net.dispose();
  return scores;
}

const row = (name: string, s: Scores) =>
  `  ${name.padEnd(12)} ${s.mean.dice.toFixed(4).padStart(8)} ${s.mean.jaccard.toFixed(4).padStart(8)} ` +
  `${s.mean.hd95.toFixed(2).padStart(8)} ${s.mean.asd.toFixed(2).padStart(8)}` + (s.empty ? `   (${s.empty} empty prediction(s))` : '');

const usage = `usage: voxgrad demo [--config FILE] [--out DIR] [--backend B] [--iterations N]
  The main job (npm start): UG-MCL and a supervised baseline trained with the same budget on the
  bundled MSD hippocampus cases (configs/demo.json), both scored on held-out cases with medpy's
  metrics; then one predicted mask as NIfTI and a picture of it. About 6 minutes on 2 cores.
  --config FILE    another training config (default: configs/demo.json)
  --out DIR        where everything goes (default: runs/demo)
  --backend B      auto (default), wasm, webgpu or ref
  --iterations N   train N iterations instead of the config's`;

async function demo(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: {
    config: { type: 'string' }, out: { type: 'string', default: 'runs/demo' }, backend: { type: 'string' }, iterations: { type: 'string' },
  } });
  const config = loadConfig(values.config ?? bundledConfig);
  const iterations = values.iterations ? Number(values.iterations) : undefined;
  if (iterations !== undefined && !(Number.isInteger(iterations) && iterations > 0)) throw new Error(`--iterations ${values.iterations}: expected a positive integer`);
  const out = resolve(values.out);
  const train = await readList(config.data.train);
  console.log(`voxgrad demo: UG-MCL on ${train.length} MSD hippocampus cases (${config.data.labeled} labelled, ` +
              `${train.length - config.data.labeled} unlabelled; CC BY-SA 4.0, see data/hippocampus/README.md), ` +
              `then a supervised-only baseline with the same budget; both scored on held-out cases.\n`);

  const flags = { backend: values.backend, iterations };
  const ugmcl = await runTraining(config, { ...flags, out: join(out, 'ugmcl') }, 'UG-MCL');
  const supervised = await runTraining({ ...config, name: 'demo-supervised', method: 'supervised' },
                                       { ...flags, out: join(out, 'supervised') }, 'supervised');

  const evalList = config.data.validation!;
  const ds = await openConfigDataset(config.data, evalList);
  const cases: ScanCase[] = [];
  for (const id of ds.ids) cases.push({ id, ...(await ds.read(id)) });
  const stride = config.validation.stride;
  const window = { patch: config.patch, stride, normalization: ds.normalization, downsample: config.data.downsample ?? 1 };
  const su = await score(ugmcl.result.model, cases, window);
  const ss = await score(supervised.result.model, cases, window);

  console.log(`\nHeld-out evaluation: ${cases.length} cases (${evalList}), sliding window ${config.patch.join('×')} ` +
              `stride ${stride.join('×')}, medpy metrics in voxels (1 mm), ASD from prediction to label.`);
  console.log(`  ${'method'.padEnd(12)} ${'Dice'.padStart(8)} ${'Jaccard'.padStart(8)} ${'95HD'.padStart(8)} ${'ASD'.padStart(8)}`);
  console.log(row('UG-MCL', su));
  console.log(row('supervised', ss));
  const better = su.mean.dice > ss.mean.dice ? 'UG-MCL' : su.mean.dice < ss.mean.dice ? 'supervised' : 'neither';
  const wins = su.perCase.filter((r, i) => r.dice > ss.perCase[i].dice).length;
  console.log(`Dice is higher for ${better} (UG-MCL − supervised = ${(su.mean.dice - ss.mean.dice).toFixed(4)}; ` +
              `UG-MCL better on ${wins} of ${cases.length} cases), after ${ugmcl.result.iterations} iterations each ` +
              `(${ugmcl.result.seconds.toFixed(0)} s and ${supervised.result.seconds.toFixed(0)} s on ${ugmcl.backend}). ` +
              'A short CPU run: the paper trains 6000 iterations.');

  const shown = cases[0];
  const { net } = await loadModel(ugmcl.result.model, 'auto');
  const pred = await predictScan(net, shown.image, { ...window, batch: 2 });
  net.dispose();
  const predictions = join(out, 'predictions');
  mkdirSync(predictions, { recursive: true });
  const maskPath = join(predictions, `${shown.id.replace(/\.nii(\.gz)?$/, '')}_ugmcl.nii.gz`);
  await writeNifti(maskPath, { ...shown.image, data: Float32Array.from(pred.label) }, 'uint8');
  const pngPath = join(out, 'overlay.png');
  writeFileSync(pngPath, sliceOverlayPng({ image: normalize(shown.image.data, ds.normalization), shape: shown.image.shape, prediction: pred.label,
                                          reference: binarize(shown.label.data, 'nonzero') }));
  writeFileSync(join(out, 'evaluation.json'), `${JSON.stringify({ cases: evalList, ugmcl: su, supervised: ss }, null, 2)}\n`);
  console.log(`\nOutputs in ${out}:\n  ugmcl/ and supervised/: model.safetensors, checkpoint.safetensors, log.jsonl, curves.svg\n` +
              `  ${maskPath} (the UG-MCL mask of ${shown.id}, input geometry)\n  ${pngPath} (a slice with the prediction and the label)\n` +
              `  ${join(out, 'evaluation.json')} (per-case metrics)`);
}

export const demoCommand: Command = {
  name: 'demo', summary: 'the main job: UG-MCL and a supervised baseline trained on the bundled hippocampus cases, then scored', usage, run: demo,
};
