// Checkpoints as safetensors files. A module's state dict is stored under its PyTorch names, so a
// weights-only file loads into the reference model with load_state_dict(strict=True) and back.
// Training checkpoints add named tensor groups (optimizer momentum, the EMA teacher, …) under
// "group/name" — '/' never occurs in a module name — and string metadata (iteration, RNG state, config).
import type { Tensor } from '../engine/tensor.ts';
import { Module } from './module.ts';
import type { SafeFile, SafeTensor } from './safetensors.ts';
import { decodeSafetensors, encodeSafetensors } from './safetensors.ts';

export interface CheckpointExtras {
  /** Tensor groups saved beside the module; a Module contributes its whole state dict. */
  groups?: Record<string, Module | Map<string, Tensor>>;
  /** Free-form strings; JSON-encode anything structured. */
  metadata?: Record<string, string>;
}

export interface LoadedCheckpoint {
  metadata: Record<string, string>;
  /** The file's tensor groups on the host; pass one to Module.loadStateDict to restore a module. */
  groups: Map<string, Map<string, SafeTensor>>;
}

async function hostEntries(prefix: string, source: Module | Map<string, Tensor>): Promise<[string, SafeTensor][]> {
  const entries = source instanceof Module
    ? [...source.stateEntries()].map(([k, e]) => [k, e.tensor, e.dtype] as const)
    : [...source].map(([k, t]) => [k, t, 'F32'] as const);
  const out: [string, SafeTensor][] = [];
  for (const [name, t, dtype] of entries) out.push([prefix + name, { dtype, shape: [...t.shape], data: await t.data() }]);
  return out;
}

/** `module` (and any extras) as safetensors bytes. */
export async function encodeCheckpoint(module: Module, extras: CheckpointExtras = {}): Promise<Uint8Array> {
  const file: SafeFile = { tensors: new Map(await hostEntries('', module)), metadata: { ...extras.metadata } };
  for (const [group, source] of Object.entries(extras.groups ?? {})) {
    if (!group || group.includes('/')) throw new Error(`voxgrad: checkpoint group name '${group}' must be non-empty without '/'`);
    for (const [name, t] of await hostEntries(`${group}/`, source)) file.tensors.set(name, t);
  }
  return encodeSafetensors(file, { checksum: true });
}

/** Writes `module` (and any extras) to `path` atomically. */
export async function saveCheckpoint(module: Module, path: string, extras: CheckpointExtras = {}): Promise<void> {
  await writeCheckpointBytes(path, await encodeCheckpoint(module, extras));
}

/**
 * Writes encoded checkpoint bytes to `path` through a temporary file, flushed to disk before the
 * rename, so that a crash or power loss leaves either the old file or the new one whole.
 */
export async function writeCheckpointBytes(path: string, bytes: Uint8Array): Promise<void> {
  const fs = await import('node:fs/promises');
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, path);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw new Error(`voxgrad: cannot write checkpoint ${path}: ${(err as Error).message}`);
  }
}

/** Reads and decodes a checkpoint file (errors name the file). */
export async function readCheckpoint(path: string): Promise<SafeFile> {
  const fs = await import('node:fs/promises');
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (err) {
    throw new Error(`voxgrad: cannot read checkpoint ${path}: ${(err as Error).message}`);
  }
  return decodeSafetensors(bytes, path);
}

/**
 * Loads `path` into `module` strictly (a missing or extra name, or a shape mismatch, is an error
 * naming the file and the tensor) and returns the file's metadata and extra groups.
 */
export async function loadCheckpoint(module: Module, path: string): Promise<LoadedCheckpoint> {
  return applyCheckpoint(module, await readCheckpoint(path), path);
}

/** loadCheckpoint for a file already read, e.g. to build the module from its metadata first. */
export function applyCheckpoint(module: Module, file: SafeFile, path: string): LoadedCheckpoint {
  const own = new Map<string, SafeTensor>();
  const groups = new Map<string, Map<string, SafeTensor>>();
  for (const [name, t] of file.tensors) {
    const slash = name.indexOf('/');
    if (slash < 0) {
      own.set(name, t);
      continue;
    }
    const group = name.slice(0, slash);
    if (!groups.has(group)) groups.set(group, new Map());
    groups.get(group)!.set(name.slice(slash + 1), t);
  }
  module.loadStateDict(own, path);
  return { metadata: file.metadata, groups };
}
