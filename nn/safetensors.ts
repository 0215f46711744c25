// The safetensors format, read and written here: an 8-byte little-endian header length, a JSON
// header mapping each name to {dtype, shape, data_offsets} (plus an optional "__metadata__" map of
// strings), then the raw little-endian tensor bytes. Pure byte work, so it runs in browsers too.
// Files voxgrad writes carry the CRC-32 of their tensor bytes in the metadata ("crc32"), checked on
// every read, so a file damaged after it was written is refused instead of loaded; files from
// elsewhere have none and are read as they are.
import { crc32 } from './crc32.ts';

export type SafeDType = 'F32' | 'I64';

export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  /** Values as float32; I64 entries (counters) are converted, exactly up to 2^24. */
  data: Float32Array;
}

export interface SafeFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

const bytesPer: Record<SafeDType, number> = { F32: 4, I64: 8 };

const CRC_KEY = 'crc32';
const hex8 = (n: number) => n.toString(16).padStart(8, '0');

/**
 * Serialises tensors in the given order; the header is padded with spaces to 8 bytes, as upstream
 * does. With `checksum`, the metadata's first entry is the CRC-32 of the tensor bytes.
 */
export function encodeSafetensors(file: SafeFile, opts: { checksum?: boolean } = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  const { [CRC_KEY]: _old, ...rest } = file.metadata;
  // a placeholder of the checksum's length, filled in once the tensor bytes are written
  const metadata = opts.checksum ? { [CRC_KEY]: hex8(0), ...rest } : file.metadata;
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of file.tensors) {
    if (name === '__metadata__') throw new Error('voxgrad: a tensor may not be named __metadata__');
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`voxgrad: safetensors entry '${name}' has ${t.data.length} values for shape [${t.shape}]`);
    const end = offset + count * bytesPer[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, end] };
    offset = end;
  }
  const text = JSON.stringify(header);
  const pad = (8 - (new TextEncoder().encode(text).length % 8)) % 8;
  const json = new TextEncoder().encode(text + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  const base = 8 + json.length;
  for (const [name, t] of file.tensors) {
    let p = base + (header[name] as { data_offsets: number[] }).data_offsets[0];
    if (t.dtype === 'F32') {
      for (const v of t.data) { view.setFloat32(p, v, true); p += 4; }
    } else {
      for (const v of t.data) {
        if (!Number.isInteger(v)) throw new Error(`voxgrad: safetensors entry '${name}' is I64 but holds ${v}`);
        view.setBigInt64(p, BigInt(v), true);
        p += 8;
      }
    }
  }
  if (opts.checksum) {
    const at = 8 + text.indexOf(`"${CRC_KEY}":"`) + CRC_KEY.length + 4;
    out.set(new TextEncoder().encode(hex8(crc32(out.subarray(base)))), at);
  }
  return out;
}

/** Parses a safetensors file; `source` names it in errors. */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors data'): SafeFile {
  const fail = (why: string): never => { throw new Error(`voxgrad: ${source}: ${why}`); };
  if (bytes.length < 8) fail('shorter than the 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (8 + headerLen > bytes.length) fail(`header length ${headerLen} runs past the end of the file (${bytes.length} bytes)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch (err) {
    return fail(`header is not JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail('header is not a JSON object');
  const header = parsed as Record<string, any>;
  const base = 8 + headerLen, dataLen = bytes.length - base;
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(header.__metadata__ ?? {})) {
    if (typeof v !== 'string') fail(`metadata '${k}' is not a string`);
    metadata[k] = v as string;
  }
  const tensors = new Map<string, SafeTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: offsets } = entry ?? {};
    if (dtype !== 'F32' && dtype !== 'I64') fail(`tensor '${name}' has dtype ${dtype}; voxgrad reads F32 and I64`);
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) fail(`tensor '${name}' has a bad shape`);
    if (!Array.isArray(offsets) || offsets.length !== 2) fail(`tensor '${name}' has no data_offsets`);
    const [begin, end] = offsets as number[];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (!(begin >= 0 && end <= dataLen && end - begin === count * bytesPer[dtype as SafeDType])) {
      fail(`tensor '${name}' has data_offsets [${begin}, ${end}] that do not fit shape [${shape}] ${dtype} in ${dataLen} data bytes`);
    }
    const data = new Float32Array(count);
    if (dtype === 'F32') for (let i = 0; i < count; i++) data[i] = view.getFloat32(base + begin + 4 * i, true);
    else for (let i = 0; i < count; i++) data[i] = Number(view.getBigInt64(base + begin + 8 * i, true));
    tensors.set(name, { dtype, shape: shape as number[], data });
  }
  // the checksum belongs to the format: checked here and not handed on with the caller's metadata
  const { [CRC_KEY]: expected, ...rest } = metadata;
  if (expected !== undefined) {
    const actual = hex8(crc32(bytes.subarray(base)));
    if (actual !== expected) fail(`the tensor bytes' CRC-32 is ${actual}, the file says ${expected}: the file was damaged after it was written`);
  }
  return { tensors, metadata: rest };
}
