// The browser app end to end: `voxgrad serve` on a free port, Debian's chromium driven by
// playwright-core loads a bundled case, segments it with a shipped model on each backend, and the
// downloaded mask must equal `voxgrad predict`'s for the same case and checkpoint; the page may log no
// error and request nothing outside its origin. It opens ready: the first bundled case and the default
// model loaded. The README's picture (docs/app.png) is its wasm segmentation.
// Without chromium the test is reported and skipped, except under CI=true (test/helpers/chromium.ts).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
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
    // the first screen: the first bundled case with its label, the default model, one click from segmenting
    assert.is(await page.inputValue('#demo'), CASE);
    assert.is(await page.inputValue('#model'), MODEL);
    assert.match((await page.textContent('#volume-info'))!, 'label');
    assert.is(await page.isEnabled('#segment'), true);
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
      if (backend === 'wasm') {
        // the README's picture: a shipped model's segmentation of a bundled case, with its Dice
        const dice = Number(/Dice (0\.\d{4})/.exec(metrics!)![1]);
        assert.ok(dice > 0.75, `the shipped model's Dice on ${CASE} is ${dice}`);
        await page.screenshot({ path: join(repoRoot, 'docs', 'app.png'), fullPage: true });
      }
    }
    assert.equal(errors, [], 'console errors');
    assert.equal(foreign, [], 'requests outside the app');
  } finally {
    await close();
  }
});

test.run();
