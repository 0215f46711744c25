// The browser app end to end: `voxgrad serve` on a free port, Debian's chromium driven by
// playwright-core loads a bundled case, segments it with a shipped model on each backend, and the
// downloaded mask must equal `voxgrad predict`'s for the same case and checkpoint; the page may log no
// error and request nothing outside its origin. A screenshot with the overlay goes to test-output/.
// Without chromium the test is reported and skipped, except under CI=true (test/helpers/chromium.ts).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';
import { openApp, useBackend } from './helpers/app-page.ts';
import { haveChromium } from './helpers/chromium.ts';
import { repoRoot } from './helpers/fixtures.ts';

const CASE = 'hippocampus_092.nii.gz', MODEL = 'hippocampus-ugmcl-l16-s0.safetensors';
const dir = mkdtempSync(join(tmpdir(), 'voxgrad-app-'));
const shots = join(repoRoot, 'test-output');

/** `voxgrad predict`'s mask for the case on a backend. */
async function cliMask(backend: string): Promise<Float32Array> {
  const out = join(dir, `cli-${backend}`);
  const r = spawnSync(process.execPath, [`${repoRoot}dist/cli.js`, 'predict', '--checkpoint', `${repoRoot}models/${MODEL}`,
    '--input', `${repoRoot}data/hippocampus/images/${CASE}`, '--out', out, '--backend', backend], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return (await vg.parseVolume(readFileSync(join(out, CASE)), CASE)).data;
}

test('the app segments a bundled case on wasm and on webgpu as voxgrad predict does', async () => {
  if (!haveChromium('app test')) return;
  const { page, errors, foreign, close } = await openApp();
  try {
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'cross-origin isolated (threads)');
    await page.selectOption('#model', MODEL);
    await page.selectOption('#demo', CASE);
    await page.waitForFunction(() => document.getElementById('volume-info')!.textContent!.includes('label'));
    for (const backend of ['wasm', 'webgpu']) {
      await useBackend(page, backend);
      await page.evaluate(() => { delete document.body.dataset.segmented; });
      await page.click('#segment');
      await page.waitForSelector('body[data-segmented="true"]', { timeout: 300_000 });
      const metrics = await page.textContent('#metrics');
      assert.match(metrics!, new RegExp(`on ${backend}: .*\\nDice 0\\.\\d{4}`), metrics!);
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-mask')]);
      const saved = join(dir, `${backend}-${download.suggestedFilename()}`);
      await download.saveAs(saved);
      const mask = (await vg.parseVolume(readFileSync(saved), saved)).data;
      const expected = await cliMask(backend);
      assert.is(mask.length, expected.length);
      const differing = mask.reduce((n, v, i) => n + (v !== expected[i] ? 1 : 0), 0);
      assert.is(differing, 0, `${backend}: ${differing} voxels differ from voxgrad predict's mask`);
      mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: join(shots, `app-${backend}.png`), fullPage: true });
    }
    assert.equal(errors, [], 'console errors');
    assert.equal(foreign, [], 'requests outside the app');
  } finally {
    await close();
  }
});

test.run();
