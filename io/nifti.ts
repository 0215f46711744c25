// NIfTI-1 and NIfTI-2 (.nii, .nii.gz): read any common scalar type; write NIfTI-1 .nii.gz.
// Geometry follows nibabel: sform if its code is set, else qform, else a centred x-flipped
// diagonal; intensities are scaled by scl_slope/scl_inter unless the slope is 0 or not finite.
import { type Volume, FileFormatError, toFileOrder, voxelCount } from './volume.ts';
import { type SampleType, decodeSamples, sampleBytes } from './samples.ts';
import { quaternToAffine, affineToQuatern } from './affine.ts';
import { gunzip, gzip, isGzip } from './gzip.ts';

const DATATYPES: Record<number, SampleType> = {
  2: 'uint8', 4: 'int16', 8: 'int32', 16: 'float32', 64: 'float64',
  256: 'int8', 512: 'uint16', 768: 'uint32', 1024: 'int64', 1280: 'uint64',
};

interface RawHeader {
  version: 1 | 2; le: boolean; dim: number[]; datatype: number; pixdim: number[];
  voxOffset: number; sclSlope: number; sclInter: number; qformCode: number; sformCode: number;
  quatern: number[]; srow: number[];
}

function readHeader(bytes: Uint8Array, file: string): RawHeader {
  if (bytes.length < 348) throw new FileFormatError(file, `too short for a NIfTI header (${bytes.length} bytes)`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = v.getInt32(0, true), sizeBE = v.getInt32(0, false);
  const version = size === 348 || sizeBE === 348 ? 1 : size === 540 || sizeBE === 540 ? 2 : 0;
  if (!version) throw new FileFormatError(file, `not a NIfTI file (header size field is ${size}, expected 348 or 540)`);
  const le = size === 348 || size === 540;
  const ascii = (o: number, n: number) => String.fromCharCode(...bytes.subarray(o, o + n));
  if (version === 1) {
    const magic = ascii(344, 4);
    if (magic === 'ni1\0') throw new FileFormatError(file, 'is a NIfTI-1 .hdr/.img pair header; only single-file .nii is supported');
    if (magic !== 'n+1\0') throw new FileFormatError(file, `bad NIfTI-1 magic ${JSON.stringify(magic)}`);
    const i16 = (o: number) => v.getInt16(o, le), f32 = (o: number) => v.getFloat32(o, le);
    const arr = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
    return {
      version, le, dim: arr(8, (i) => i16(40 + 2 * i)), datatype: i16(70), pixdim: arr(8, (i) => f32(76 + 4 * i)),
      voxOffset: f32(108), sclSlope: f32(112), sclInter: f32(116), qformCode: i16(252), sformCode: i16(254),
      quatern: arr(6, (i) => f32(256 + 4 * i)), srow: arr(12, (i) => f32(280 + 4 * i)),
    };
  }
  if (bytes.length < 540) throw new FileFormatError(file, `too short for a NIfTI-2 header (${bytes.length} bytes)`);
  const magic = ascii(4, 8);
  if (magic !== 'n+2\0\r\n\x1a\n') throw new FileFormatError(file, `bad NIfTI-2 magic ${JSON.stringify(magic)}`);
  const i64 = (o: number) => Number(v.getBigInt64(o, le)), f64 = (o: number) => v.getFloat64(o, le);
  const arr = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
  return {
    version, le, dim: arr(8, (i) => i64(16 + 8 * i)), datatype: v.getInt16(12, le), pixdim: arr(8, (i) => f64(104 + 8 * i)),
    voxOffset: i64(168), sclSlope: f64(176), sclInter: f64(184), qformCode: v.getInt32(344, le), sformCode: v.getInt32(348, le),
    quatern: arr(6, (i) => f64(352 + 8 * i)), srow: arr(12, (i) => f64(400 + 8 * i)),
  };
}

/** nibabel's fallback for files with neither sform nor qform: centred, x flipped (radiological). */
function baseAffine(shape: readonly number[], zooms: readonly number[]): number[] {
  const z = [-zooms[0], zooms[1], zooms[2]];
  const t = z.map((zi, i) => -zi * (shape[i] - 1) / 2);
  return [z[0], 0, 0, t[0], 0, z[1], 0, t[1], 0, 0, z[2], t[2], 0, 0, 0, 1];
}

export async function parseNifti(input: Uint8Array, file: string): Promise<Volume> {
  const bytes = isGzip(input) ? await gunzip(input, file) : input;
  const h = readHeader(bytes, file);
  const ndim = h.dim[0];
  if (ndim < 1 || ndim > 7) throw new FileFormatError(file, `dim[0] = ${ndim} is not a valid number of dimensions`);
  const extra = h.dim.slice(4, ndim + 1).filter((n) => n > 1);
  if (extra.length) throw new FileFormatError(file, `has ${ndim} dimensions (${h.dim.slice(1, ndim + 1).join('×')}); only 3-D volumes are supported`);
  const shape = [1, 2, 3].map((i) => (i <= ndim ? h.dim[i] : 1)) as [number, number, number];
  if (shape.some((n) => !(n >= 1))) throw new FileFormatError(file, `invalid dimensions ${shape.join('×')}`);
  const type = DATATYPES[h.datatype];
  if (!type) throw new FileFormatError(file, `unsupported NIfTI datatype code ${h.datatype}`);
  const minOffset = h.version === 1 ? 352 : 544;
  const offset = Math.max(Math.floor(h.voxOffset), minOffset);
  const need = offset + voxelCount(shape) * sampleBytes[type];
  if (bytes.length < need)
    throw new FileFormatError(file, `truncated: ${shape.join('×')} ${type} voxels from byte ${offset} need ${need} bytes, the file has ${bytes.length}`);
  const scaled = Number.isFinite(h.sclSlope) && h.sclSlope !== 0;
  const slope = scaled ? h.sclSlope : 1, inter = scaled && Number.isFinite(h.sclInter) ? h.sclInter : 0;
  const data = decodeSamples(bytes, offset, type, h.le, shape, slope, inter);
  const zooms = [1, 2, 3].map((i) => h.pixdim[i]);
  let affine: number[];
  if (h.sformCode > 0) affine = [...h.srow, 0, 0, 0, 1];
  else if (h.qformCode > 0) {
    const [b, c, d, qx, qy, qz] = h.quatern;
    affine = quaternToAffine({ b, c, d, qx, qy, qz, qfac: h.pixdim[0] }, zooms);
  } else affine = baseAffine(shape, zooms);
  const spacing = zooms.map(Math.abs) as [number, number, number];
  return { data, shape, spacing, affine, sformCode: h.sformCode, qformCode: h.qformCode, source: file };
}

export type NiftiOutputType = 'uint8' | 'float32';

/**
 * NIfTI-1 .nii.gz bytes for `vol` (masks as uint8, probabilities as float32). The affine goes into
 * both sform and qform so that nibabel (sform first) and ITK-based viewers (qform first) agree.
 */
export async function encodeNifti(vol: Pick<Volume, 'data' | 'shape' | 'affine' | 'sformCode' | 'qformCode'>, type: NiftiOutputType): Promise<Uint8Array> {
  const n = voxelCount(vol.shape);
  if (vol.data.length !== n) throw new Error(`encodeNifti: ${vol.data.length} values for shape ${vol.shape.join('×')}`);
  const bpv = type === 'uint8' ? 1 : 4;
  const bytes = new Uint8Array(352 + n * bpv);
  const v = new DataView(bytes.buffer);
  const { q, pixdim } = affineToQuatern(vol.affine);
  const sformCode = vol.sformCode > 0 ? vol.sformCode : 2;
  const qformCode = vol.qformCode > 0 ? vol.qformCode : sformCode;
  v.setInt32(0, 348, true);
  [3, vol.shape[0], vol.shape[1], vol.shape[2], 1, 1, 1, 1].forEach((d, i) => v.setInt16(40 + 2 * i, d, true));
  v.setInt16(70, type === 'uint8' ? 2 : 16, true);
  v.setInt16(72, bpv * 8, true);
  [q.qfac, ...pixdim, 0, 0, 0, 0].forEach((p, i) => v.setFloat32(76 + 4 * i, p, true));
  v.setFloat32(108, 352, true);
  v.setFloat32(112, 1, true);
  v.setFloat32(116, 0, true);
  v.setUint8(123, 2 | 8); // mm and seconds
  v.setInt16(252, qformCode, true);
  v.setInt16(254, sformCode, true);
  [q.b, q.c, q.d, q.qx, q.qy, q.qz].forEach((x, i) => v.setFloat32(256 + 4 * i, x, true));
  vol.affine.slice(0, 12).forEach((x, i) => v.setFloat32(280 + 4 * i, x, true));
  bytes.set([0x6e, 0x2b, 0x31, 0], 344); // "n+1\0"
  const body = type === 'uint8' ? new Uint8Array(n) : new Float32Array(n);
  toFileOrder(type === 'uint8' ? vol.data.map((x) => Math.min(255, Math.max(0, Math.round(x)))) : vol.data, vol.shape, body);
  // Typed-array bytes are host-endian; every platform voxgrad runs on is little-endian like the header.
  bytes.set(new Uint8Array(body.buffer), 352);
  return gzip(bytes);
}
