// gzip in both worlds: node:zlib in Node (fast, synchronous inside), the Compression Streams API
// in browsers. Callers see one async function each way.
import { FileFormatError } from './volume.ts';

const inNode = typeof process !== 'undefined' && !!process.versions?.node;

export const isGzip = (bytes: Uint8Array) => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

async function viaStream(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const out = new Response(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

/** The browsers' path, exported so that Node tests exercise it too. */
export const streams = {
  gunzip: (bytes: Uint8Array) => viaStream(bytes, new DecompressionStream('gzip')),
  gzip: (bytes: Uint8Array) => viaStream(bytes, new CompressionStream('gzip')),
};

/** Inflates gzip data; corrupt input is reported against `file`. */
export async function gunzip(bytes: Uint8Array, file: string): Promise<Uint8Array> {
  try {
    return inNode ? (await import('node:zlib')).gunzipSync(bytes) : await streams.gunzip(bytes);
  } catch (e) {
    throw new FileFormatError(file, `gzip data is corrupt or truncated (${(e as Error).message})`);
  }
}

export async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  return inNode ? (await import('node:zlib')).gzipSync(bytes, { level: 6 }) : streams.gzip(bytes);
}
