// The WebGPU backend in headless Chromium: esbuild bundles web/conv-page.ts, a local server serves it,
// Debian's chromium (SwiftShader WebGPU) runs a conv3d forward and backward, and the results must
// match the same computation in Node. Without chromium the test is reported and skipped, except
// under CI=true, where it fails. No tool may download a browser here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vg from '../index.ts';
import { convCheck, type ConvCheckResult } from '../web/conv-check.ts';
import { createAppServer } from '../web/server.ts';
import { assertClose } from './helpers/compare.ts';
import { CHROMIUM, CHROMIUM_ARGS, haveChromium } from './helpers/chromium.ts';
import { repoRoot } from './helpers/fixtures.ts';


function buildPage(dir: string) {
  execFileSync(join(repoRoot, 'node_modules/.bin/esbuild'), [
    join(repoRoot, 'web/conv-page.ts'), '--bundle', '--format=esm', '--platform=browser', '--loader:.wgsl=text', '--loader:.wasm=binary',
    '--external:webgpu', '--external:node:*', '--external:h5wasm', `--outfile=${join(dir, 'page.js')}`, '--log-level=warning',
  ], { stdio: 'inherit' });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="page.js"></script>');
}

async function runInChromium(dir: string): Promise<ConvCheckResult> {
  const server = createAppServer({ '/': dir });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  try {
    const page = await browser.newPage();
    const logs: string[] = [];
    page.on('console', (m) => logs.push(m.text()));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => {
      const w = window as unknown as { voxgradResult?: unknown; voxgradError?: string };
      return w.voxgradResult !== undefined || w.voxgradError !== undefined;
    }, undefined, { timeout: 120_000 });
    const { result, error } = await page.evaluate(() => {
      const w = window as unknown as { voxgradResult?: ConvCheckResult; voxgradError?: string };
      return { result: w.voxgradResult, error: w.voxgradError };
    });
    if (error || !result) throw new Error(`the page failed: ${error}\nconsole:\n${logs.join('\n')}`);
    return result;
  } finally {
    await browser.close();
    server.close();
  }
}

test('conv3d forward and backward on WebGPU in headless Chromium match Node', async () => {
  if (!haveChromium('browser test')) return;
  const dir = mkdtempSync(join(tmpdir(), 'voxgrad-browser-'));
  try {
    buildPage(dir);
    const inBrowser = await runInChromium(dir);
    const inNode = await convCheck(vg);
    console.log(`\n  browser: ${inBrowser.adapter}\n  node:    ${inNode.adapter}`);
    assert.is(inBrowser.y.length, 2 * 4 * 3 * 3 * 2);
    assertClose(inBrowser.y, inNode.y, 1e-4, 'forward');
    assertClose(inBrowser.dx, inNode.dx, 1e-3, 'input gradient');
    assertClose(inBrowser.dw, inNode.dw, 1e-3, 'weight gradient');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    vg.disposeBackends();
  }
});

test.run();
