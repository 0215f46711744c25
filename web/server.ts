// The static server behind `voxgrad serve`: the built app and the folders it reads (shipped models,
// bundled cases), nothing else. WebAssembly threads need cross-origin isolation, so every response
// carries COOP/COEP; the content security policy keeps the page from reaching any other origin.
// Requests are bounded: GET and HEAD only, short URLs, small headers, timeouts, regular files of known
// types inside a mounted folder after decoding and resolving links.
import { createReadStream, realpathSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';

/** URL prefix ("/", "/models/") → folder on disk. The longest matching prefix wins. */
export type Mounts = Record<string, string>;

const MAX_URL = 2048;
const MAX_HEADER_BYTES = 8192;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.safetensors': 'application/octet-stream',
  '.gz': 'application/octet-stream',
  '.nii': 'application/octet-stream',
  '.list': 'text/plain; charset=utf-8',
};

const SECURITY_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; " +
    "connect-src 'self'; img-src 'self' blob: data:; style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'",
  'referrer-policy': 'no-referrer',
};

function refuse(res: ServerResponse, status: number, message: string, extra: Record<string, string> = {}) {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...extra });
  res.end(`${status} ${message}\n`);
}

/** The file a decoded path names inside one of the mounts, with its size, or null where it names none. */
function locate(mounts: [string, string][], path: string): { file: string; size: number } | null {
  for (const [prefix, root] of mounts) {
    if (!path.startsWith(prefix)) continue;
    const rest = path.slice(prefix.length) || 'index.html';
    const file = resolve(root, rest);
    if (!file.startsWith(root + sep)) return null;
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      return null;
    }
    // a link inside the folder may point anywhere: what counts is where it lands
    if (!real.startsWith(root + sep)) return null;
    const stat = statSync(real);
    return stat.isFile() ? { file: real, size: stat.size } : null;
  }
  return null;
}

function handle(mounts: [string, string][], req: IncomingMessage, res: ServerResponse) {
  if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'only GET and HEAD', { allow: 'GET, HEAD' });
  const raw = req.url ?? '';
  if (raw.length > MAX_URL) return refuse(res, 414, 'URL too long');
  if (!raw.startsWith('/') || raw.startsWith('//')) return refuse(res, 400, 'bad path');
  let path: string;
  try {
    path = decodeURIComponent(raw.split(/[?#]/)[0]);
  } catch {
    return refuse(res, 400, 'bad escape in path');
  }
  // decoded, the path must still be a plain relative walk: no dot segments, backslashes, NULs or empty segments
  const segments = path.slice(1).split('/');
  if (/[\\\0]/.test(path) || segments.some((s, i) => s === '..' || s === '.' || (s === '' && i < segments.length - 1))) {
    return refuse(res, 403, 'path outside the app');
  }
  const found = locate(mounts, path.endsWith('/') ? `${path}index.html` : path);
  const type = found && TYPES[extname(found.file)];
  if (!found || !type) return refuse(res, 404, 'not found');
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': String(found.size), 'cache-control': 'no-cache' });
  if (req.method === 'HEAD') return res.end();
  createReadStream(found.file).on('error', () => res.destroy()).pipe(res);
}

/** How long a client may take, and how many may be connected at once. */
export interface Limits {
  /** To send its request headers (a client that drips them is dropped). */
  headersTimeoutMs: number;
  /** To send its whole request. */
  requestTimeoutMs: number;
  /** How often idle and slow connections are looked at. */
  checkEveryMs: number;
  maxConnections: number;
}
export const LIMITS: Limits = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, checkEveryMs: 1_000, maxConnections: 64 };

/** A server for the mounts, not yet listening. */
export function createAppServer(mounts: Mounts, limits: Limits = LIMITS): Server {
  const list = Object.entries(mounts)
    .map(([prefix, dir]) => [prefix, realpathSync(resolve(dir))] as [string, string])
    .sort((a, b) => b[0].length - a[0].length);
  for (const [prefix] of list) {
    if (!prefix.startsWith('/') || !prefix.endsWith('/')) throw new Error(`mount "${prefix}": a prefix starts and ends with "/"`);
  }
  const server = createServer({
    maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: limits.requestTimeoutMs, headersTimeout: limits.headersTimeoutMs,
    connectionsCheckingInterval: limits.checkEveryMs,
  }, (req, res) => handle(list, req, res));
  server.keepAliveTimeout = 5_000;
  server.maxConnections = limits.maxConnections;
  return server;
}
