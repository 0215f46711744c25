// The wasm backend in a real browser (headless Chromium, $CHROMIUM or /usr/bin/chromium): a
// cross-origin-isolated page gets the thread pool, a plain page one thread and a warning; both agree
// with the ref backend. Serves dist/voxgrad.browser.js, so it runs after `npm run build`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './helpers/fixtures.ts';

const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';

// The page's script: conv3d and its weight gradient on wasm, the same on ref, the result posted back.
const pageScript = `
import * as vg from '/dist/voxgrad.browser.js';
const out = { isolated: crossOriginIsolated, warnings: [] };
const warn = console.warn;
console.warn = (...a) => { out.warnings.push(a.join(' ')); warn(...a); };
try {
  await vg.setBackend('wasm');
  out.threads = vg.getBackend().threads;
  const x = vg.randn([2, 3, 9, 8, 7], new vg.Generator(1)), w = vg.randn([5, 3, 3, 3, 3], new vg.Generator(2));
  const run = (x, w) => [vg.conv3d(x, w, undefined, { padding: 1 }),
                         vg.grad((w) => vg.sum(vg.conv3d(x, w, undefined, { stride: 2 })), [w])[0]];
  const ours = await Promise.all(run(x, w).map((t) => t.data()));
  const xs = await x.data(), ws = await w.data();
  await vg.setBackend('ref');
  const refs = await Promise.all(run(vg.tensor(xs, x.shape), vg.tensor(ws, w.shape)).map((t) => t.data()));
  out.relativeErrors = ours.map((a, k) => {
    let e = 0, m = 0;
    for (let i = 0; i < a.length; i++) { e = Math.max(e, Math.abs(a[i] - refs[k][i])); m = Math.max(m, Math.abs(refs[k][i])); }
    return e / m;
  });
} catch (err) {
  out.error = String(err?.stack ?? err);
}
await fetch('/result', { method: 'POST', body: JSON.stringify(out) });
`;

interface PageResult { isolated: boolean; warnings: string[]; threads?: number; relativeErrors?: number[]; error?: string }

/** Loads the page in headless Chromium, served with or without the cross-origin isolation headers. */
async function runPage(isolated: boolean): Promise<PageResult> {
  const headers: Record<string, string> = isolated
    ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {};
  let resolve!: (r: PageResult) => void;
  const result = new Promise<PageResult>((r) => { resolve = r; });
  const server: Server = createServer((req, res) => {
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => { res.end(); resolve(JSON.parse(body)); });
      return;
    }
    if (req.url === '/') {
      res.writeHead(200, { ...headers, 'content-type': 'text/html' });
      res.end(`<!doctype html><script type="module">${pageScript}</script>`);
      return;
    }
    const file = join(repoRoot, (req.url ?? '').replace(/\?.*/, ''));
    if (!req.url?.startsWith('/dist/') || !existsSync(file)) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { ...headers, 'content-type': 'text/javascript' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const profile = mkdtempSync(join(tmpdir(), 'voxgrad-chromium-'));
  const browser = spawn(chromium, ['--headless=new', '--no-sandbox', '--disable-gpu', `--user-data-dir=${profile}`,
    `http://127.0.0.1:${(server.address() as AddressInfo).port}/`], { stdio: 'ignore', detached: true });
  const closed = new Promise<number | null>((r) => browser.on('exit', r));
  const exited = closed.then((code) => { throw new Error(`chromium exited (${code}) before the page answered`); });
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no result from the page in 60 s')), 60_000).unref());
  try {
    return await Promise.race([result, exited, timeout]);
  } finally {
    // its own process group: the helper processes go too, and stop writing to the profile
    process.kill(-browser.pid!, 'SIGTERM');
    await closed;
    server.close();
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}

test('chromium is installed (set CHROMIUM to its path otherwise)', () => {
  assert.ok(existsSync(chromium), `${chromium} not found: the browser checks of the wasm backend need Chromium`);
});

test('cross-origin-isolated page: wasm runs on a thread pool and matches ref', async () => {
  const r = await runPage(true);
  assert.is(r.error, undefined);
  assert.ok(r.isolated);
  assert.ok((r.threads ?? 0) > 1, `threads: ${r.threads}`);
  for (const e of r.relativeErrors!) assert.ok(e <= 1e-5, `relative error ${e}`);
});

test('plain page: wasm falls back to one thread with a warning and matches ref', async () => {
  const r = await runPage(false);
  assert.is(r.error, undefined);
  assert.not.ok(r.isolated);
  assert.is(r.threads, 1);
  assert.ok(r.warnings.some((w) => /cross-origin isolated/.test(w)), `warnings: ${r.warnings}`);
  for (const e of r.relativeErrors!) assert.ok(e <= 1e-5, `relative error ${e}`);
});

test.run();
