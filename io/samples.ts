// Decodes a file's x-fastest voxel block of any common numeric type straight into the row-major
// [X, Y, Z] Float32Array of volume.ts, applying a linear intensity scaling in double precision.

export type SampleType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'uint64' | 'int64' | 'float32' | 'float64';

export const sampleBytes: Record<SampleType, number> = {
  uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, uint64: 8, int64: 8, float32: 4, float64: 8,
};

function getter(view: DataView, type: SampleType, le: boolean): (offset: number) => number {
  switch (type) {
    case 'uint8': return (o) => view.getUint8(o);
    case 'int8': return (o) => view.getInt8(o);
    case 'uint16': return (o) => view.getUint16(o, le);
    case 'int16': return (o) => view.getInt16(o, le);
    case 'uint32': return (o) => view.getUint32(o, le);
    case 'int32': return (o) => view.getInt32(o, le);
    case 'uint64': return (o) => Number(view.getBigUint64(o, le));
    case 'int64': return (o) => Number(view.getBigInt64(o, le));
    case 'float32': return (o) => view.getFloat32(o, le);
    case 'float64': return (o) => view.getFloat64(o, le);
  }
}

export function decodeSamples(
  bytes: Uint8Array, offset: number, type: SampleType, littleEndian: boolean,
  shape: readonly [number, number, number], slope = 1, inter = 0,
): Float32Array {
  const [nx, ny, nz] = shape;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const get = getter(view, type, littleEndian);
  const step = sampleBytes[type];
  const out = new Float32Array(nx * ny * nz);
  const scaled = slope !== 1 || inter !== 0;
  let o = offset;
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++, o += step) {
        const v = get(o);
        out[(x * ny + y) * nz + z] = scaled ? v * slope + inter : v;
      }
  return out;
}
