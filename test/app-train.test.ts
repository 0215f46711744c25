// Training in the browser app end to end: the bundled cases added with the roles of configs/demo.json,
// UG-MCL for a few iterations on wasm in the page's worker (paused and continued on the way), then
// resumed from the downloaded checkpoint for two more. Each loss the page shows must equal the one
// `voxgrad train` logs for the page's own settings (its JSON config with the data as files), same
// seed, backend and threads, and the model the page trained must equal the CLI's tensor for tensor.
// The page segments with it afterwards. The README's picture of the training panel (docs/app-train.png)
// is taken after the run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';
import { openApp, openPanel, useBackend } from './helpers/app-page.ts';
import { haveChromium } from './helpers/chromium.ts';
import { repoRoot } from './helpers/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'voxgrad-app-train-'));
const data = `${repoRoot}data/hippocampus`;

/** Waits until the log matches `log` or the page has trained `trained` iterations, failing at once with the page's message if training reports an error. */
async function waitFor(page: Page, what: { log?: string; trained?: string }) {
  const settled = await page.waitForFunction(({ log, trained }) => {
    const message = document.getElementById('message')!.textContent;
    if (message) return message;
    return log !== undefined ? new RegExp(log).test(document.getElementById('train-log')!.textContent!) : document.body.dataset.trained === trained;
  }, what, { timeout: 300_000 });
  const value = await settled.jsonValue();
  assert.is(value, true, `the page says: ${value}\n${await page.textContent('#train-log')}`);
}

async function setField(page: Page, id: string, value: string) {
  await page.fill(`#${id}`, value);
  await page.dispatchEvent(`#${id}`, 'change');
}

/** The losses the page logged, by iteration (1-based as shown). */
async function pageLosses(page: Page): Promise<Map<number, string>> {
  const text = (await page.textContent('#train-log'))!;
  return new Map([...text.matchAll(/^iteration (\d+)\/\d+: loss (\S+)/gm)].map((m) => [Number(m[1]), m[2]]));
}

/** `voxgrad train` on the page's settings, the data section pointing at the bundled files. */
function cliTrain(settings: any, name: string, out: string, threads: number, resume: boolean) {
  const config = { ...settings, data: { root: data, train: `${data}/train.list`, labeled: settings.data.labeled, validation: `${data}/eval.list`, foreground: 'nonzero' } };
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config));
  const r = spawnSync(process.execPath, [`${repoRoot}dist/cli.js`, 'train', '--config', file, '--backend', 'wasm', '--out', out, ...(resume ? ['--resume'] : [])],
                      { encoding: 'utf8', env: { ...process.env, VOXGRAD_THREADS: String(threads) } });
  assert.is(r.status, 0, r.stderr);
  return readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

function sameTensors(a: Uint8Array, b: Uint8Array, what: string) {
  const A = vg.decodeSafetensors(a), B = vg.decodeSafetensors(b);
  assert.equal([...A.tensors.keys()].sort(), [...B.tensors.keys()].sort(), `${what}: tensor names`);
  for (const [k, t] of A.tensors) {
    const u = B.tensors.get(k)!;
    assert.equal(t.shape, u.shape, `${what}: ${k} shape`);
    const x = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), y = new Uint8Array(u.data.buffer, u.data.byteOffset, u.data.byteLength);
    assert.ok(x.length === y.length && x.every((v, i) => v === y[i]), `${what}: ${k} differs`);
  }
}

test('the page trains UG-MCL in a worker as voxgrad train does, pauses, and resumes from its checkpoint', async () => {
  if (!haveChromium('app training test')) return;
  const { page, errors, foreign, close } = await openApp();
  try {
    await useBackend(page, 'wasm');
    const threads = await page.evaluate(() => navigator.hardwareConcurrency);
    await openPanel(page, 'panel-train');
    await page.click('#add-bundled');
    await page.waitForFunction(() => /^8 labelled, \d+ unlabelled, \d+ validation$/.test(document.getElementById('train-pool')!.textContent!));
    await page.selectOption('#train-method', 'ugmcl');
    for (const [id, v] of [['train-iterations', '4'], ['train-filters', '4'], ['train-validate-every', '2'], ['train-checkpoint-every', '2']]) await setField(page, id, v);
    const settings4 = JSON.parse(await page.inputValue('#train-config'));
    assert.is(settings4.iterations, 4);

    await page.click('#train-start');
    await page.click('#train-pause');
    await waitFor(page, { log: 'paused after \\d+ iterations' });
    // the page answers while its worker holds the run
    const t0 = Date.now();
    await page.evaluate(() => document.title);
    assert.ok(Date.now() - t0 < 2000, 'the page stays responsive');
    await page.click('#train-pause');
    await waitFor(page, { trained: '4' });
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-state')]);
    const state = join(dir, 'page-checkpoint.safetensors');
    await download.saveAs(state);

    const cliOut = join(dir, 'cli');
    const log4 = cliTrain(settings4, 'c4', cliOut, threads, false);
    const losses = await pageLosses(page);
    const cli4 = log4.filter((r) => r.kind === 'iteration');
    assert.is(losses.size, 4);
    for (const r of cli4) assert.is(losses.get(r.iteration + 1), String(r.loss), `iteration ${r.iteration + 1}`);
    const cliDice = log4.filter((r) => r.kind === 'validation').map((r) => `Dice ${r.dice.toFixed(4)}`);
    const pageDice = [...(await page.textContent('#train-log'))!.matchAll(/Dice \d\.\d{4}/g)].map((m) => m[0]);
    assert.equal(pageDice, cliDice, 'validation Dice');
    sameTensors(readFileSync(state), readFileSync(join(cliOut, 'checkpoint.safetensors')), 'the checkpoint at iteration 4');

    // two more iterations from the downloaded checkpoint, as `voxgrad train --resume` runs them
    await setField(page, 'train-iterations', '6');
    const settings6 = JSON.parse(await page.inputValue('#train-config'));
    await page.setInputFiles('#train-resume', state);
    await page.click('#train-start');
    await waitFor(page, { trained: '6' });
    // the README's picture of the training panel after this short run, its curves in view
    await page.locator('#train-log').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(repoRoot, 'docs', 'app-train.png'), fullPage: true });
    const cli6 = cliTrain(settings6, 'c6', cliOut, threads, true).filter((r) => r.kind === 'iteration');
    const resumed = await pageLosses(page);
    assert.match((await page.textContent('#train-log'))!, /resumed from page-checkpoint\.safetensors at iteration 4/);
    for (const r of cli6.slice(4)) assert.is(resumed.get(r.iteration + 1), String(r.loss), `resumed iteration ${r.iteration + 1}`);
    const [model] = await Promise.all([page.waitForEvent('download'), page.click('#download-model')]);
    const modelFile = join(dir, 'page-model.safetensors');
    await model.saveAs(modelFile);
    sameTensors(readFileSync(modelFile), readFileSync(join(cliOut, 'model.safetensors')), 'the trained model');

    await page.selectOption('#demo', 'hippocampus_092.nii.gz');
    await page.waitForFunction(() => document.getElementById('volume-info')!.textContent!.includes('label'));
    await page.evaluate(() => { delete document.body.dataset.segmented; });
    await page.click('#segment');
    await page.waitForSelector('body[data-segmented="true"]', { timeout: 300_000 });
    assert.match((await page.textContent('#metrics'))!, /^trained-in-page-ugmcl-6\.safetensors on wasm/);
    assert.equal(errors, [], 'console errors');
    assert.equal(foreign, [], 'requests outside the app');
  } finally {
    await close();
  }
});

test.run();
