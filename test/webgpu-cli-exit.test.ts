// `voxgrad train --backend webgpu` exits by itself: a GPU device left open keeps Node alive on some
// drivers, so the CLI destroys it after every command, failed ones included (cli.ts). A short
// supervised run on SwiftShader (validation and checkpoint included; UG-MCL's teacher passes take
// minutes an iteration here) must end with exit 0 within seconds of its last line (SwiftShader's
// speed varies with the machine's load, so the run itself gets a generous limit), and a run refused
// after the device opened with exit 1 as soon; each must have destroyed every device it opened
// (counted by test/helpers/count-gpu-devices.mjs: SwiftShader lets Node exit either way).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { repoRoot } from './helpers/fixtures.ts';

/** The whole run's limit, and how soon after its last line the process must be gone. */
const LIMIT_MS = 900_000, EXIT_MS = 20_000;
const dir = mkdtempSync(join(tmpdir(), 'voxgrad-webgpu-exit-'));
const data = `${repoRoot}data/hippocampus`;
writeFileSync(join(dir, 'train.list'), 'hippocampus_001.nii.gz\nhippocampus_003.nii.gz\nhippocampus_006.nii.gz\nhippocampus_011.nii.gz\n');
writeFileSync(join(dir, 'val.list'), 'hippocampus_092.nii.gz\n');
const configFile = join(dir, 'tiny.json');
writeFileSync(configFile, JSON.stringify({
  name: 'tiny', method: 'supervised', model: { nFilters: 4 }, patch: [16, 32, 16], iterations: 2, validation: { every: 2, stride: [16, 16, 16] },
  checkpoint: { every: 2 }, data: { root: data, train: 'train.list', labeled: 2, validation: 'val.list' },
}));

interface Run { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; lastLineMs: number; exitMs: number }

/** Runs `voxgrad train` on the tiny config, noting when its last output came and when it exited. */
function train(...extra: string[]): Promise<Run> {
  const child = spawn(process.execPath, ['--import', pathToFileURL(`${repoRoot}test/helpers/count-gpu-devices.mjs`).href,
                                         `${repoRoot}dist/cli.js`, 'train', '--config', configFile, '--backend', 'webgpu', ...extra]);
  const run = { stdout: '', stderr: '', lastLineMs: performance.now() };
  child.stdout.on('data', (d) => { run.stdout += d; run.lastLineMs = performance.now(); });
  // the device count is printed as the process exits: not the command's output
  child.stderr.on('data', (d) => { run.stderr += d; if (!/^GPU devices opened/.test(String(d))) run.lastLineMs = performance.now(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), LIMIT_MS);
  return new Promise((done) => child.on('close', (status, signal) => {
    clearTimeout(timer);
    done({ ...run, status, signal, exitMs: performance.now() });
  }));
}

function allDestroyed(r: Run) {
  const [, opened, destroyed] = /GPU devices opened (\d+), destroyed (\d+)/.exec(r.stderr) ?? [];
  assert.ok(Number(opened) >= 1, `a device was opened (${opened})`);
  assert.is(destroyed, opened, 'devices destroyed of those opened');
}

const noAdapter = (r: { status: number | null; stderr: string }) =>
  r.status !== 0 && /no WebGPU adapter/.test(r.stderr) && !process.env.CI;

test('voxgrad train --backend webgpu exits 0 by itself after a short run', async () => {
  const r = await train('--out', join(dir, 'run'));
  if (noAdapter(r)) return;
  assert.is(r.signal, null, `killed at the ${LIMIT_MS / 1000} s limit; last output:\n${r.stderr.slice(-2000)}`);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr + r.stdout, /tiny: 2 iterations in/);
  allDestroyed(r);
  const lingered = r.exitMs - r.lastLineMs;
  assert.ok(lingered < EXIT_MS, `exited ${(lingered / 1000).toFixed(1)} s after its last line`);
});

test('a webgpu run refused after the device opened exits 1 by itself', async () => {
  const r = await train('--out', join(dir, 'refused'), '--gpu-memory', '0.001');
  if (noAdapter(r)) return;
  assert.is(r.signal, null, 'killed at the time limit');
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /above the --gpu-memory budget/);
  allDestroyed(r);
  assert.ok(r.exitMs - r.lastLineMs < EXIT_MS, `exited ${((r.exitMs - r.lastLineMs) / 1000).toFixed(1)} s after its last line`);
});

test.run();
