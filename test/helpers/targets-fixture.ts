// Reads test/fixtures/targets.json (written by test/fixtures/make_targets.py): zlib-compressed
// float32 arrays and bit-packed masks.
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { repoRoot } from './fixtures.ts';
import { unpackMask } from './masks.ts';

export type Shape3 = [number, number, number];

export interface SdfCase { name: string; shape: Shape3; label: string; sdf: string; boundary: string; note?: string }
export interface Transforms {
  input: { shape: Shape3; data: string };
  rotflip: { k: number; axis: number; shape: Shape3; data: string }[];
  pad: { shape: Shape3; patch: Shape3; out_shape: Shape3; data: string }[];
  crop: { patch: Shape3; offsets: Shape3; data: string }[];
}

export const targets: { sdf: SdfCase[]; transforms: Transforms } =
  JSON.parse(readFileSync(`${repoRoot}test/fixtures/targets.json`, 'utf8'));

export function f32z(b64: string): Float32Array {
  const bytes = inflateSync(Buffer.from(b64, 'base64'));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export const mask = (b64: string, shape: readonly number[]) => unpackMask(b64, shape[0] * shape[1] * shape[2]);
