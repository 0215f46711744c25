// Configs as files (configs/*.json): read with their "extends" chain, paths relative to the file,
// and written back in the same form.
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { parseConfig, type TrainConfig } from './config.ts';
import { ConfigError, type Json } from './config-fields.ts';

export function loadConfig(path: string): TrainConfig {
  const dir = dirname(resolve(path));
  return parseConfig(readJson(path, []), path, (p) => resolve(dir, p));
}

/**
 * A config's JSON with its "extends" chain merged in: the named file (relative to this one) is the
 * base, and every field here replaces the base's, sections merged field by field. Paths inside a
 * base are resolved against the extending file's folder, so a chain stays in one folder.
 */
function readJson(path: string, chain: string[]): Json {
  if (chain.includes(resolve(path))) throw new ConfigError(`${path}: "extends" forms a cycle (${[...chain, resolve(path)].join(' → ')})`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`${path}: cannot read the config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError(`${path}: must hold a JSON object`);
  const { extends: base, ...own } = json as Json;
  if (base === undefined) return own;
  if (typeof base !== 'string' || !base) throw new ConfigError(`${path}: "extends" must name a config file, got ${JSON.stringify(base)}`);
  return merge(readJson(resolve(dirname(resolve(path)), base), [...chain, resolve(path)]), own);
}

const isSection = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function merge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isSection(v) && isSection(base[k]) ? merge(base[k] as Json, v) : v;
  return out;
}

/**
 * The config as a file again, its paths relative to `dir`: what `loadConfig` reads back into the
 * same config (a shipped model's recipe, runnable from where it is written).
 */
export function configJson(c: TrainConfig, dir: string): Json {
  const { file: _file, data, optimizer: { base, step, gamma, momentum, weightDecay }, ...rest } = c;
  const at = (p: string | undefined) => p && relative(dir, p);
  return {
    ...rest,
    data: { ...data, root: at(data.root), train: at(data.train), validation: at(data.validation) },
    optimizer: { lr: base, momentum, weightDecay, lrStep: step, lrGamma: gamma },
  };
}
