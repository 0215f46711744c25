// HDF5 volumes through h5wasm (HDF5's own C library compiled to WebAssembly), loaded on first use
// so that commands which never touch HDF5 do not pay for its 4 MB module. The LA files of UA-MT
// hold `image` (float32) and `label` (uint8), both (x, y, z) in row-major order: already volume.ts's
// convention. They carry no geometry; `spacing` says what to assume (LA: 0.625 mm).
import { type Volume, FileFormatError, spacingAffine, voxelCount } from './volume.ts';

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** HDF5 allows a user block of 0, 512, 1024, 2048… bytes before the superblock. */
function hasSignature(bytes: Uint8Array): boolean {
  for (let at = 0; at + 8 <= bytes.length; at = at ? at * 2 : 512)
    if (SIGNATURE.every((b, i) => bytes[at + i] === b)) return true;
  return false;
}

let opened = 0;

/** HDF5 error stacks end in the most specific complaint, e.g. "minor: File has been truncated". */
function hdf5Problem(e: unknown): string {
  const text = String((e as Error)?.message ?? e);
  const minor = text.match(/minor: (.*)/g)?.pop()?.slice(7).trim();
  return minor ? minor[0].toLowerCase() + minor.slice(1) : text.split('\n')[0];
}

async function library() {
  const h5wasm = (await import('h5wasm')).default;
  const module = await h5wasm.ready;
  // Turn HDF5's printed error stacks into exceptions, so a bad file gives one error, not stderr noise.
  module.activate_throwing_error_handler();
  return { h5wasm, FS: module.FS };
}

/** Reads the named 3-D datasets of one HDF5 file image. */
export async function parseH5(bytes: Uint8Array, file: string, names: readonly string[], spacing: [number, number, number] = [1, 1, 1]): Promise<Record<string, Volume>> {
  if (!hasSignature(bytes)) throw new FileFormatError(file, 'not an HDF5 file (no HDF5 signature)');
  const { h5wasm, FS } = await library();
  const path = `/voxgrad-${opened++}.h5`;
  let f: InstanceType<typeof h5wasm.File> | null = null;
  try {
    FS.writeFile(path, bytes);
    try { f = new h5wasm.File(path, 'r'); } catch (e) { throw new FileFormatError(file, `HDF5 cannot open it: ${hdf5Problem(e)}`); }
    const present = f.keys();
    const out: Record<string, Volume> = {};
    for (const name of names) {
      if (!present.includes(name))
        throw new FileFormatError(file, `has no dataset "${name}" (it has: ${present.join(', ') || 'nothing readable; the file may be truncated'})`);
      const ds = f.get(name);
      if (!(ds instanceof h5wasm.Dataset)) throw new FileFormatError(file, `"${name}" is not a dataset`);
      const shape = ds.shape;
      if (!shape || shape.length !== 3) throw new FileFormatError(file, `dataset "${name}" has shape [${shape}], expected 3 axes`);
      let value;
      try { value = ds.value; } catch (e) { throw new FileFormatError(file, `dataset "${name}" cannot be read: ${hdf5Problem(e)}`); }
      if (!ArrayBuffer.isView(value) || (value as ArrayLike<number>).length !== voxelCount(shape))
        throw new FileFormatError(file, `dataset "${name}" is not numeric or has the wrong number of values`);
      const data = value instanceof Float32Array ? value : Float32Array.from(value as ArrayLike<number> as number[]);
      out[name] = { data, shape: shape as [number, number, number], spacing, affine: spacingAffine(spacing), sformCode: 0, qformCode: 0, source: `${file}:${name}` };
    }
    return out;
  } catch (e) {
    // A damaged file can fail anywhere inside the library (listing links, reading a shape), and some
    // damage makes the C library itself fault (a WebAssembly RuntimeError): one message either way.
    if (e instanceof FileFormatError) throw e;
    throw new FileFormatError(file, `HDF5 cannot read it: ${hdf5Problem(e)}`);
  } finally {
    // closing or removing after such a fault may fail too; the error above is the one to report
    try { f?.close(); } catch { /* see above */ }
    try { FS.unlink(path); } catch { /* see above */ }
  }
}
