// The app server (web/server.ts): the mounted files with cross-origin isolation, and a refusal for
// everything else — raw and encoded "..", absolute paths, links out of the folder, other methods,
// long URLs, large headers, unknown types; a client that drips its headers is dropped, and 2,000
// requests from 50 clients at once are all answered with the server's memory flat.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createAppServer, LIMITS } from '../web/server.ts';

const top = mkdtempSync(join(tmpdir(), 'voxgrad-serve-'));
const app = join(top, 'app'), models = join(top, 'models');
mkdirSync(app);
mkdirSync(models);
writeFileSync(join(app, 'index.html'), '<!doctype html><title>voxgrad</title>');
writeFileSync(join(app, 'app.js'), 'console.log(1)');
writeFileSync(join(app, 'notes.txt'), 'unknown type');
writeFileSync(join(models, 'm.safetensors'), Buffer.alloc(16));
writeFileSync(join(top, 'secret.json'), '{"secret": true}');
symlinkSync(join(top, 'secret.json'), join(app, 'link.json'));

const server = createAppServer({ '/': app, '/models/': models });
await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
const port = (server.address() as AddressInfo).port;

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string }
function get(path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => ok({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

test('the app and the mounted folders, with the cross-origin isolation WebAssembly threads need', async () => {
  const page = await get('/');
  assert.is(page.status, 200);
  assert.match(page.body, '<title>voxgrad</title>');
  assert.is(page.headers['content-type'], 'text/html; charset=utf-8');
  assert.is(page.headers['cross-origin-opener-policy'], 'same-origin');
  assert.is(page.headers['cross-origin-embedder-policy'], 'require-corp');
  assert.match(String(page.headers['content-security-policy']), "connect-src 'self'");
  assert.is((await get('/app.js')).headers['content-type'], 'text/javascript; charset=utf-8');
  const model = await get('/models/m.safetensors');
  assert.is(model.status, 200);
  assert.is(model.headers['content-length'], '16');
  const head = await get('/app.js', { method: 'HEAD' });
  assert.is(head.status, 200);
  assert.is(head.body, '');
});

const outside: [string, number][] = [
  ['/../secret.json', 403],
  ['/%2e%2e/secret.json', 403],
  ['/%2E%2E%2Fsecret.json', 403],
  ['/..%2fsecret.json', 403],
  ['/models/..%2f..%2fsecret.json', 403],
  ['/models/%2e%2e/%2e%2e/secret.json', 403],
  ['/.%2e/secret.json', 403],
  ['//etc/passwd', 400],
  ['/%2Fetc%2Fpasswd', 403],
  [`/${encodeURIComponent(join(top, 'secret.json'))}`, 403],
  ['/etc/passwd', 404],
  ['/..\\secret.json', 403],
  ['/%5c..%5csecret.json', 403],
  ['/app.js%00.html', 403],
  ['/%zz', 400],
  ['/link.json', 404],
  ['/notes.txt', 404],
  ['/missing.js', 404],
];
for (const [path, status] of outside) {
  test(`refused: ${path} → ${status}`, async () => {
    const r = await get(path);
    assert.is(r.status, status, `${path}: ${r.status} ${r.body}`);
    assert.not.match(r.body, 'secret');
  });
}

test('bounded: other methods, long URLs and large headers are refused', async () => {
  const post = await get('/', { method: 'POST' });
  assert.is(post.status, 405);
  assert.is(post.headers.allow, 'GET, HEAD');
  assert.is((await get(`/${'a'.repeat(3000)}`)).status, 414);
  assert.is((await get('/', { headers: { 'x-big': 'b'.repeat(16_000) } })).status, 431);
  assert.is(server.headersTimeout, LIMITS.headersTimeoutMs);
  assert.is(server.requestTimeout, LIMITS.requestTimeoutMs);
  assert.is(server.maxConnections, LIMITS.maxConnections);
});

test('a client that drips its headers is dropped once the header time is up', async () => {
  const quick = createAppServer({ '/': app }, { ...LIMITS, headersTimeoutMs: 500, checkEveryMs: 100 });
  await new Promise<void>((ok) => quick.listen(0, '127.0.0.1', ok));
  const socket = connect((quick.address() as AddressInfo).port, '127.0.0.1');
  const began = Date.now();
  socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  const drip = setInterval(() => socket.write('X-Slow: 1\r\n'), 100);
  let reply = '';
  socket.on('data', (d) => { reply += d; });
  await new Promise<void>((ok) => socket.once('close', () => ok()));
  clearInterval(drip);
  const held = Date.now() - began;
  assert.ok(held < 5_000, `held for ${held} ms`);
  assert.match(reply, /^HTTP\/1\.1 408/);
  await new Promise((ok) => quick.close(ok));
});

test('under load: 2,000 requests from 50 clients at once, every one answered, memory flat', async () => {
  const bodies = ['/', '/app.js', '/models/m.safetensors', '/missing.js'];
  const expected = [200, 200, 200, 404];
  const round = async (requests: number, clients: number) => {
    let next = 0, failed = 0;
    const client = async () => {
      while (next < requests) {
        const k = next++ % bodies.length;
        try {
          if ((await get(bodies[k])).status !== expected[k]) failed++;
        } catch {
          failed++;
        }
      }
    };
    const began = Date.now();
    await Promise.all(Array.from({ length: clients }, client));
    return { failed, ms: Date.now() - began };
  };
  await round(500, 50); // warm: the first requests fill caches and pools
  const before = process.memoryUsage().rss;
  const r = await round(2_000, 50);
  const grown = process.memoryUsage().rss - before;
  assert.is(r.failed, 0);
  assert.ok(r.ms < 60_000, `${r.ms} ms`);
  assert.ok(grown < 48 * 2 ** 20, `resident memory grew by ${(grown / 2 ** 20).toFixed(1)} MiB`);
});

test('a mount prefix must start and end with "/"', () => {
  assert.throws(() => createAppServer({ models: models }), /mount "models": a prefix starts and ends with "\/"/);
});

test.after(() => { server.close(); });
test.run();
