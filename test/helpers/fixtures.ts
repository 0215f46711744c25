// Reads the PyTorch fixtures written by test/fixtures/*.py (base64 float32 arrays in JSON).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root, from a test bundle in build/test/. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export function decodeF32(b64: string): Float32Array {
  const bytes = Buffer.from(b64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export interface FixtureArray { shape: number[]; data: string }
export interface OpCase {
  name: string;
  op: string;
  attrs: Record<string, any>;
  inputs: (FixtureArray & { grad: boolean })[];
  outputs: FixtureArray[];
  cotangent?: string;
  grads?: (string | null)[];
}

export function loadOpCases(): OpCase[] {
  return JSON.parse(readFileSync(`${repoRoot}test/fixtures/ops.json`, 'utf8')).cases;
}
