// NRRD with an attached header (the 2018 LA challenge's lgemri.nrrd / laendo.nrrd): raw or gzip
// encoding, any common scalar type, orientation from "space directions" and "space origin".
import { type Volume, FileFormatError, spacingAffine, voxelCount } from './volume.ts';
import { type SampleType, decodeSamples, sampleBytes } from './samples.ts';
import { gunzip } from './gzip.ts';
import { affineSpacing } from './affine.ts';

const TYPES: [SampleType, string[]][] = [
  ['int8', ['signed char', 'int8', 'int8_t']],
  ['uint8', ['uchar', 'unsigned char', 'uint8', 'uint8_t']],
  ['int16', ['short', 'short int', 'signed short', 'signed short int', 'int16', 'int16_t']],
  ['uint16', ['ushort', 'unsigned short', 'unsigned short int', 'uint16', 'uint16_t']],
  ['int32', ['int', 'signed int', 'int32', 'int32_t']],
  ['uint32', ['uint', 'unsigned int', 'uint32', 'uint32_t']],
  ['int64', ['longlong', 'long long', 'long long int', 'signed long long', 'signed long long int', 'int64', 'int64_t']],
  ['uint64', ['ulonglong', 'unsigned long long', 'unsigned long long int', 'uint64', 'uint64_t']],
  ['float32', ['float']],
  ['float64', ['double']],
];
const typeOf = new Map(TYPES.flatMap(([t, names]) => names.map((n) => [n, t] as const)));

/** Sign flips that take each NRRD world space to RAS+. */
const TO_RAS: Record<string, [number, number, number]> = {
  'right-anterior-superior': [1, 1, 1], ras: [1, 1, 1],
  'left-anterior-superior': [-1, 1, 1], las: [-1, 1, 1],
  'left-posterior-superior': [-1, -1, 1], lps: [-1, -1, 1],
};

const parseVector = (s: string) => s.replace(/[()]/g, '').split(',').map(Number);

function headerEnd(bytes: Uint8Array): number {
  for (let i = 1; i < bytes.length; i++) {
    if (bytes[i] !== 0x0a) continue;
    if (bytes[i - 1] === 0x0a) return i + 1;
    if (bytes[i - 1] === 0x0d && bytes[i - 2] === 0x0a) return i + 1;
  }
  return -1;
}

export async function parseNrrd(bytes: Uint8Array, file: string): Promise<Volume> {
  if (String.fromCharCode(...bytes.subarray(0, 4)) !== 'NRRD') throw new FileFormatError(file, 'not a NRRD file (no "NRRD" magic)');
  const end = headerEnd(bytes);
  if (end < 0) throw new FileFormatError(file, 'NRRD header has no terminating blank line');
  const fields = new Map<string, string>();
  for (const line of new TextDecoder().decode(bytes.subarray(0, end)).split(/\r?\n/).slice(1)) {
    if (!line || line.startsWith('#') || line.includes(':=')) continue;
    const colon = line.indexOf(': ');
    if (colon < 0) throw new FileFormatError(file, `malformed NRRD header line ${JSON.stringify(line)}`);
    fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 2).trim());
  }
  const field = (k: string) => {
    const v = fields.get(k);
    if (v === undefined) throw new FileFormatError(file, `NRRD header lacks the required "${k}" field`);
    return v;
  };
  if (fields.has('data file') || fields.has('datafile')) throw new FileFormatError(file, 'detached NRRD data files are not supported');
  const type = typeOf.get(field('type').toLowerCase());
  if (!type) throw new FileFormatError(file, `unsupported NRRD type "${field('type')}"`);
  const dimension = Number(field('dimension'));
  const sizes = field('sizes').split(/\s+/).map(Number);
  if (sizes.length !== dimension || sizes.some((n) => !(n >= 1 && Number.isInteger(n))))
    throw new FileFormatError(file, `NRRD sizes "${field('sizes')}" do not give ${dimension} positive integers`);
  if (dimension > 3 && sizes.slice(3).some((n) => n > 1))
    throw new FileFormatError(file, `has ${dimension} axes (${sizes.join('×')}); only 3-D volumes are supported`);
  const shape = [0, 1, 2].map((i) => sizes[i] ?? 1) as [number, number, number];
  const encoding = field('encoding').toLowerCase();
  if (encoding !== 'raw' && encoding !== 'gzip' && encoding !== 'gz')
    throw new FileFormatError(file, `unsupported NRRD encoding "${encoding}" (raw and gzip are read)`);
  const endian = (fields.get('endian') ?? 'little').toLowerCase();
  if (sampleBytes[type] > 1 && endian !== 'little' && endian !== 'big') throw new FileFormatError(file, `bad NRRD endian "${endian}"`);
  const body = encoding === 'raw' ? bytes.subarray(end) : await gunzip(bytes.subarray(end), file);
  const need = voxelCount(shape) * sampleBytes[type];
  if (body.length < need)
    throw new FileFormatError(file, `truncated: ${shape.join('×')} ${type} voxels need ${need} bytes of ${encoding} data, found ${body.length}`);
  const data = decodeSamples(body, 0, type, endian !== 'big', shape);

  const space = fields.get('space')?.toLowerCase();
  const flip = (space && TO_RAS[space]) || [1, 1, 1];
  const dirs = fields.get('space directions')?.match(/\([^)]*\)|none/g);
  let affine: number[];
  if (dirs) {
    const cols = dirs.filter((d) => d !== 'none').map(parseVector);
    if (cols.length < Math.min(dimension, 3) || cols.some((c) => c.length !== 3 || c.some((x) => !Number.isFinite(x))))
      throw new FileFormatError(file, `NRRD "space directions" ${JSON.stringify(fields.get('space directions'))} is not three 3-vectors`);
    while (cols.length < 3) cols.push([0, 0, 1]);
    const origin = fields.has('space origin') ? parseVector(field('space origin')) : [0, 0, 0];
    affine = [];
    for (let r = 0; r < 3; r++) affine.push(...cols.map((c) => flip[r] * c[r]), flip[r] * (origin[r] ?? 0));
    affine.push(0, 0, 0, 1);
  } else {
    const sp = (fields.get('spacings') ?? '1 1 1').split(/\s+/).map((x) => Math.abs(Number(x)) || 1);
    affine = spacingAffine([sp[0] ?? 1, sp[1] ?? 1, sp[2] ?? 1]);
  }
  const code = dirs ? 2 : 0;
  return { data, shape, spacing: affineSpacing(affine), affine, sformCode: code, qformCode: code, source: file };
}
