// The models that ship with voxgrad (models/NAME.safetensors beside dist/), offered by name to
// `voxgrad predict --model NAME` and `voxgrad evaluate --model NAME`.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './command.ts';

/** The package root: the bundled CLI is dist/cli.js. */
const modelsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'models');

export function shippedModels(): string[] {
  return existsSync(modelsDir) ? readdirSync(modelsDir).filter((f) => f.endsWith('.safetensors')).map((f) => f.slice(0, -12)).sort() : [];
}

export function shippedModelPath(name: string): string {
  const names = shippedModels();
  if (!names.includes(name)) {
    throw new UsageError(`--model ${name}: no shipped model has that name (${names.length ? `shipped: ${names.join(', ')}` : `none in ${modelsDir}`})`);
  }
  return join(modelsDir, `${name}.safetensors`);
}
