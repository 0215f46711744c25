// The app server (web/server.ts): the mounted files with cross-origin isolation, and a refusal for
// everything else — raw and encoded "..", absolute paths, links out of the folder, other methods,
// long URLs, large headers, unknown types.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createAppServer } from '../web/server.ts';

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
  assert.is(server.headersTimeout, 10_000);
  assert.is(server.requestTimeout, 30_000);
});

test('a mount prefix must start and end with "/"', () => {
  assert.throws(() => createAppServer({ models: models }), /mount "models": a prefix starts and ends with "\/"/);
});

test.after(() => { server.close(); });
test.run();
