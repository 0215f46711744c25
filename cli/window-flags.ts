// Flags shared by predict and evaluate: backend, window geometry, batching, post-processing, the
// resolution the model runs at.
import { UsageError } from './command.ts';
import { parseTriple, type LoadedModel } from './model.ts';
import { shippedModelPath, shippedModels } from './shipped-models.ts';
import { windowDefaults } from '../infer/model.ts';
import type { PredictOptions } from '../infer/predict.ts';

export const windowFlagOptions = {
  checkpoint: { type: 'string' },
  model: { type: 'string' },
  backend: { type: 'string', default: 'auto' },
  patch: { type: 'string' },
  stride: { type: 'string' },
  batch: { type: 'string', default: '2' },
  lcc: { type: 'boolean', default: false },
  downsample: { type: 'string' },
} as const;

const INDENT = ' '.repeat(21);
/** Names on lines under 100 columns after the usage's hanging indent. */
function wrapped(names: string[]): string {
  const lines: string[][] = [[]];
  for (const n of names) {
    if (lines[lines.length - 1].length && `${INDENT}${[...lines[lines.length - 1], n].join(', ')},`.length > 100) lines.push([]);
    lines[lines.length - 1].push(n);
  }
  return lines.map((l) => INDENT + l.join(', ')).join(',\n');
}

const shipped = shippedModels();
export const modelFlagUsage = `  --checkpoint C     a model file (.safetensors, as voxgrad train writes it), or
  --model NAME       a shipped model${shipped.length ? `:\n${wrapped(shipped)}` : ' (none found)'}`;

export const windowFlagUsage = `  --backend B        auto (default), wasm, webgpu or ref
  --patch a,b,c      window size (default: the checkpoint's "patch" metadata, else 112,112,80)
  --stride a,b,c     window step (default: the checkpoint's "stride" metadata, else 18,18,4)
  --batch N          windows per network call (default 2)
  --lcc              keep only the largest connected component (DTC/DTML post-processing)
  --downsample N     run the model on the scan reduced N× per axis (default: the checkpoint's
                     "downsample", which training with "data.downsample" writes, else 1); its
                     probabilities are resampled to the scan's grid, so masks and scores are there`;

export function windowOptions(values: { patch?: string; stride?: string; batch?: string; lcc?: boolean },
                              model: LoadedModel): PredictOptions {
  const batch = Number(values.batch);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`--batch ${values.batch}: expected a positive integer`);
  const defaults = windowDefaults(model);
  return {
    patch: values.patch ? parseTriple(values.patch, '--patch') : defaults.patch,
    stride: values.stride ? parseTriple(values.stride, '--stride') : defaults.stride,
    batch, lcc: values.lcc,
  };
}

/** The model file that --checkpoint or --model names (exactly one of them). */
export function checkpointPath(values: { checkpoint?: string; model?: string }): string {
  if (values.checkpoint && values.model) throw new UsageError('--checkpoint and --model name two models: give one');
  if (values.model) return shippedModelPath(values.model);
  if (!values.checkpoint) throw new UsageError('--checkpoint FILE or --model NAME is required');
  return values.checkpoint;
}

/** --downsample N, or the factor the checkpoint was trained at. */
export function downsampleOption(text: string | undefined, model: LoadedModel): number {
  if (text === undefined) return model.downsample;
  const f = Number(text);
  if (!Number.isInteger(f) || f < 1 || f > 8) throw new Error(`--downsample ${text}: expected an integer from 1 to 8`);
  return f;
}

/** One progress line per volume on stderr, rewritten in place on a terminal. */
export function progressReporter(label: string) {
  const started = performance.now();
  return (done: number, total: number) => {
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    const line = `${label}: window ${done}/${total} (${secs} s)`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}${done === total ? '\n' : ''}`);
    else if (done === total) process.stderr.write(`${line}\n`);
  };
}
