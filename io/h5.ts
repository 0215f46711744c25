// HDF5 volumes through h5wasm (HDF5's own C library compiled to WebAssembly), loaded on first use
// so that commands which never touch HDF5 do not pay for its 4 MB module. The LA files of UA-MT
// hold `image` (float32) and `label` (uint8), both (x, y, z) in row-major order: already volume.ts's
// convention. They carry no geometry; `spacing` says what to assume (LA: 0.625 mm).
//
// A damaged file can make the C library fail in ways that leave its instance unfit for the next
// file: h5wasm reports HDF5 errors by throwing a JavaScript exception from inside the C call, which
// skips the C side's cleanup (open object handles that keep the file and its caches alive, the
// WebAssembly stack pointer), and some damage makes HDF5 itself trap ("memory access out of
// bounds") in the middle of its own bookkeeping. So the reader keeps an instance only while files
// pass: once a file has been handed to the library and refused, for whatever reason, that instance
// is dropped (its memory and file system with it) and the next file gets a fresh one from h5wasm's
// Emscripten factory (tens of milliseconds; the intact files of a dataset share one instance).
import { type Volume, FileFormatError, spacingAffine, voxelCount } from './volume.ts';

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** HDF5 allows a user block of 0, 512, 1024, 2048… bytes before the superblock. */
function hasSignature(bytes: Uint8Array): boolean {
  for (let at = 0; at + 8 <= bytes.length; at = at ? at * 2 : 512)
    if (SIGNATURE.every((b, i) => bytes[at + i] === b)) return true;
  return false;
}

/** HDF5 error stacks end in the most specific complaint, e.g. "minor: File has been truncated". */
function hdf5Problem(e: unknown): string {
  const text = String((e as Error)?.message ?? e);
  const minor = text.match(/minor: (.*)/g)?.pop()?.slice(7).trim();
  return minor ? minor[0].toLowerCase() + minor.slice(1) : text.split('\n')[0];
}

/** The part of an h5wasm module instance (src/hdf5_util_helpers.d.ts) that the reader calls. */
interface H5Instance {
  FS: { writeFile(path: string, data: Uint8Array): void; unlink(path: string): void };
  HEAPU8: Uint8Array;
  H5F_ACC_RDONLY: number;
  H5G_DATASET: number;
  H5T_class_t: { H5T_INTEGER: { value: number }; H5T_FLOAT: { value: number } };
  activate_throwing_error_handler(): number;
  open(path: string, mode: number, trackOrder: boolean, libverLow: number, libverHigh: number): bigint;
  close_file(id: bigint): number;
  get_names(id: bigint, path: string, recursive: boolean): string[];
  get_type(id: bigint, path: string): number;
  get_dataset_metadata(id: bigint, path: string): { type: number; size: number; signed: boolean; littleEndian: boolean; vlen: boolean; shape: number[] | null; total_size: number };
  get_dataset_data(id: bigint, path: string, count: null, offset: null, strides: null, ptr: bigint): number;
  _malloc(n: number): number;
  _free(ptr: number): void;
}

interface Library { instance: H5Instance; dead: boolean }
type Factory = () => Promise<H5Instance>;

/** Instances made so far, and of those the ones dropped after a refused file (for tests and docs). */
export const h5Instances = { made: 0, dropped: 0 };

let factory: Promise<Factory> | null = null;
let current: Promise<Library> | null = null;

/**
 * h5wasm's package exports only its high-level module, whose classes all use the one instance it
 * makes on import. The Emscripten factory beside that module (hdf5_util.js) makes a fresh instance
 * per call. Where the factory cannot be reached (no import.meta.resolve: Node before 20.6, or a
 * bundler), the high-level module's own instance is used, and it cannot be replaced.
 */
async function makeFactory(): Promise<Factory> {
  try {
    const hl = import.meta.resolve?.('h5wasm');
    if (hl) {
      const make = (await import(/* @vite-ignore */ new URL('./hdf5_util.js', hl).href)).default as (args: object) => Promise<H5Instance>;
      let compiled: WebAssembly.Module | undefined;
      // Instances after the first reuse its compiled module (10 ms instead of 40 for decoding and
      // compiling the embedded 3.7 MB binary again). Emscripten hands the compiled module to no one,
      // so the first start is watched for it: WebAssembly.instantiate, wrapped for that call only,
      // keeps the module of the instantiation that carries Emscripten's dynamic-linking imports.
      return async () => {
        if (compiled) {
          const module = compiled;
          return make({
            noInitialRun: true,
            instantiateWasm: (imports: WebAssembly.Imports, done: (i: WebAssembly.Instance, m: WebAssembly.Module) => void) => {
              WebAssembly.instantiate(module, imports).then((instance) => done(instance, module));
              return {};
            },
          });
        }
        const instantiate = WebAssembly.instantiate;
        const watched = async (...args: Parameters<typeof instantiate>) => {
          const result = await (instantiate as (...a: unknown[]) => Promise<unknown>).apply(WebAssembly, args);
          const imports = args[1] as Record<string, unknown> | undefined;
          const r = result as Partial<WebAssembly.WebAssemblyInstantiatedSource>;
          if (imports && 'GOT.mem' in imports && r.module instanceof WebAssembly.Module) compiled ??= r.module;
          return result;
        };
        WebAssembly.instantiate = watched as typeof instantiate;
        try {
          return await make({ noInitialRun: true });
        } finally {
          if (WebAssembly.instantiate === (watched as typeof instantiate)) WebAssembly.instantiate = instantiate;
        }
      };
    }
  } catch { /* use the shared instance below */ }
  const h5wasm = (await import('h5wasm')).default;
  let given = false;
  return async () => {
    if (given) throw new Error('the HDF5 library faulted on an earlier file, and this build cannot start a fresh instance of it');
    given = true;
    return (await h5wasm.ready) as unknown as H5Instance;
  };
}

async function library(): Promise<Library> {
  for (;;) {
    current ??= (async () => {
      factory ??= makeFactory();
      const instance = await (await factory)();
      // Turn HDF5's printed error stacks into exceptions, so a bad file gives one error, not stderr noise.
      instance.activate_throwing_error_handler();
      h5Instances.made++;
      return { instance, dead: false };
    })();
    const pending = current;
    try {
      const lib = await pending;
      if (!lib.dead) return lib;
    } catch (e) {
      if (current === pending) current = null; // a failed start is not kept either
      throw e;
    }
    if (current === pending) current = null;
  }
}

function drop(lib: Library): void {
  if (lib.dead) return;
  lib.dead = true;
  h5Instances.dropped++;
}

/** The values of a numeric dataset, read into a Float32Array (HDF5 converts nothing here). */
function readNumeric(h: H5Instance, id: bigint, file: string, name: string, shape: number[]): Float32Array {
  const md = h.get_dataset_metadata(id, `/${name}`);
  const { type, size, signed, littleEndian } = md;
  const count = voxelCount(shape);
  const integer = type === h.H5T_class_t.H5T_INTEGER.value, float = type === h.H5T_class_t.H5T_FLOAT.value;
  if (md.vlen || !((integer && [1, 2, 4, 8].includes(size)) || (float && [4, 8].includes(size))) || Number(md.total_size) !== count)
    throw new FileFormatError(file, `dataset "${name}" is not numeric or has the wrong number of values`);
  const nbytes = size * count;
  // wasm32 addresses 4 GiB at most; a lying shape must not become a huge allocation attempt
  if (!Number.isSafeInteger(nbytes) || nbytes > 2 ** 31) throw new FileFormatError(file, `dataset "${name}" is too large (${shape.join('×')} values of ${size} bytes)`);
  const ptr = h._malloc(Math.max(nbytes, 1));
  if (!ptr) throw new FileFormatError(file, `dataset "${name}" does not fit in the HDF5 library's memory (${nbytes} bytes)`);
  try {
    h.get_dataset_data(id, `/${name}`, null, null, null, BigInt(ptr));
    const raw = h.HEAPU8.slice(ptr, ptr + nbytes);
    if (float && size === 4 && littleEndian) return new Float32Array(raw.buffer);
    const dv = new DataView(raw.buffer), out = new Float32Array(count), le = littleEndian !== false;
    const get: (at: number) => number =
      float ? (size === 4 ? (at) => dv.getFloat32(at, le) : (at) => dv.getFloat64(at, le))
      : size === 1 ? (signed ? (at) => dv.getInt8(at) : (at) => dv.getUint8(at))
      : size === 2 ? (signed ? (at) => dv.getInt16(at, le) : (at) => dv.getUint16(at, le))
      : size === 4 ? (signed ? (at) => dv.getInt32(at, le) : (at) => dv.getUint32(at, le))
      : signed ? (at) => Number(dv.getBigInt64(at, le)) : (at) => Number(dv.getBigUint64(at, le));
    for (let i = 0; i < count; i++) out[i] = get(i * size);
    return out;
  } finally {
    h._free(ptr);
  }
}

let opened = 0;

/** Reads the named 3-D datasets of one HDF5 file image. */
export async function parseH5(bytes: Uint8Array, file: string, names: readonly string[], spacing: [number, number, number] = [1, 1, 1]): Promise<Record<string, Volume>> {
  if (!hasSignature(bytes)) throw new FileFormatError(file, 'not an HDF5 file (no HDF5 signature)');
  let lib: Library;
  try {
    lib = await library();
  } catch (e) {
    throw new FileFormatError(file, `the HDF5 library cannot start: ${String((e as Error)?.message ?? e).split('\n')[0]}`);
  }
  const h = lib.instance;
  const path = `/voxgrad-${opened++}.h5`;
  let id: bigint | null = null;
  let refused = true;
  try {
    h.FS.writeFile(path, bytes);
    try { id = h.open(path, h.H5F_ACC_RDONLY, false, -1, -1); } catch (e) { throw new FileFormatError(file, `HDF5 cannot open it: ${hdf5Problem(e)}`); }
    if (id < 0n) throw new FileFormatError(file, 'HDF5 cannot open it');
    const present = h.get_names(id, '/', false);
    const out: Record<string, Volume> = {};
    for (const name of names) {
      if (!present.includes(name))
        throw new FileFormatError(file, `has no dataset "${name}" (it has: ${present.join(', ') || 'nothing readable; the file may be truncated'})`);
      if (h.get_type(id, `/${name}`) !== h.H5G_DATASET) throw new FileFormatError(file, `"${name}" is not a dataset`);
      const shape = h.get_dataset_metadata(id, `/${name}`).shape;
      if (!shape || shape.length !== 3) throw new FileFormatError(file, `dataset "${name}" has shape [${shape}], expected 3 axes`);
      let data: Float32Array;
      try { data = readNumeric(h, id, file, name, shape); } catch (e) {
        if (e instanceof FileFormatError) throw e;
        throw new FileFormatError(file, `dataset "${name}" cannot be read: ${hdf5Problem(e)}`);
      }
      out[name] = { data, shape: shape as [number, number, number], spacing, affine: spacingAffine(spacing), sformCode: 0, qformCode: 0, source: `${file}:${name}` };
    }
    refused = false;
    return out;
  } catch (e) {
    // A damaged file can fail anywhere inside the library (listing links, reading a shape), and some
    // damage makes the C library itself fault (a WebAssembly RuntimeError): one message either way.
    if (e instanceof FileFormatError) throw e;
    throw new FileFormatError(file, `HDF5 cannot read it: ${hdf5Problem(e)}`);
  } finally {
    if (refused) {
      drop(lib); // nothing more runs in this instance: its state after the refusal is not to be trusted
    } else {
      try {
        if (id !== null && h.close_file(id) < 0) drop(lib);
        h.FS.unlink(path);
      } catch {
        drop(lib); // the volumes were read; a failed close only retires the instance
      }
    }
  }
}
