// `npm run bench` as a user runs it, at a tiny patch so that it takes seconds: every section writes
// its rows, the Markdown its tables, and the JSON the medians with their spread. With a stand-in
// anchor whose every time is 1 ms (test/helpers/fake-anchor.mjs), each ratio must be 1 ms over our
// median and the SVG is written; where Debian's PyTorch is installed (not in CI), the same run with
// the real anchors gives every row a ratio.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './helpers/fixtures.ts';

const test = suite('bench');
const bench = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['build/bench/run.js', ...args], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, ...env } });
const TINY = ['--quick', '--patch', '16,16,16', '--backend', 'wasm', '--threads', '1', '--no-tfjs', '--sections', 'conv,ops,vnet,iteration'];
const torchAvailable = spawnSync('/usr/bin/python3', ['-c', 'import torch, scipy, skimage'], { encoding: 'utf8' }).status === 0;
let dir = '';
test.before(() => { dir = mkdtempSync(join(tmpdir(), 'voxgrad-bench-')); });
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('--help answers and an unknown section is refused by name', () => {
  const help = bench(['--help']);
  assert.is(help.status, 0);
  assert.match(help.stdout, /--quick/);
  const bad = bench(['--sections', 'conv,warp']);
  assert.is.not(bad.status, 0);
  assert.match(bad.stderr, /unknown section "warp"/);
});

test('every section runs and reports medians with their range', () => {
  const out = join(dir, 'no-anchor');
  const r = bench([...TINY, '--no-torch', '--out', out]);
  assert.is(r.status, 0, r.stderr);
  const json = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8'));
  const [wasm] = json.results;
  assert.is(wasm.backend, 'wasm');
  assert.is(wasm.conv.rows.length, 11); // in, 5 levels, 2 down, 2 up (transposed), head
  assert.ok(wasm.conv.rows.some((row: { layer: string }) => row.layer.startsWith('up ')));
  for (const row of wasm.conv.rows) {
    for (const p of ['fwd', 'dx', 'dw']) {
      const s = row.ours[p];
      assert.ok(s.min > 0 && s.min <= s.median && s.median <= s.max, `${row.layer} ${p}`);
      assert.is(s.n, 15); // 3 rounds × 5 repetitions
    }
  }
  assert.equal(wasm.ops.rows.map((x: { op: string }) => x.op), ['batchnorm', 'softmax']);
  assert.equal(wasm.vnet[0].rows.map((x: { pass: string }) => x.pass), ['forward', 'step']);
  assert.ok(wasm.iteration[0].rows[0].oursPeakReservedBytes > 0);
  const md = readFileSync(join(out, 'bench.md'), 'utf8');
  for (const heading of ['### conv3d per layer', '### batch norm', '### V-Net', '### One UG-MCL training iteration']) assert.ok(md.includes(heading), heading);
  assert.not.ok(existsSync(join(out, 'conv-ratios.svg')), 'no ratios without the anchor, so no plot');
});

test('beside an anchor: each ratio is its time over our median, and the plot is written', () => {
  const python = join(dir, 'fake-python');
  writeFileSync(python, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(repoRoot, 'test/helpers/fake-anchor.mjs'))}\n`);
  chmodSync(python, 0o755);
  const out = join(dir, 'fake');
  const r = bench([...TINY, '--sections', 'conv,ops,vnet,iteration', '--out', out], { PYTHON: python });
  assert.is(r.status, 0, r.stderr);
  const [wasm] = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8')).results;
  for (const row of wasm.conv.rows) {
    for (const p of ['fwd', 'dx', 'dw']) {
      assert.is(row.torch[p].median, 0.001);
      assert.ok(Math.abs(row.torch[p].median / row.ours[p].median - ratioIn(readFileSync(join(out, 'bench.md'), 'utf8'), row.layer, p)) < 0.01, `${row.layer} ${p}`);
    }
  }
  assert.is(wasm.conv.memory.torchPeakBytes, 1024 * 1024);
  assert.is(wasm.iteration[0].rows[0].torch.median, 0.001);
  assert.match(readFileSync(join(out, 'bench.md'), 'utf8'), /Anchor: PyTorch fake on fake device/);
  assert.match(readFileSync(join(out, 'conv-ratios.svg'), 'utf8'), /<svg[^>]*>[\s\S]*up 32→16 k2s2ᵀ[\s\S]*<\/svg>/);
});

/** The ratio the Markdown table prints for a layer's pass (the pass rows follow the layer's first). */
function ratioIn(md: string, layer: string, pass: string): number {
  const lines = md.split('\n'), first = lines.findIndex((l) => l.startsWith(`| ${layer} |`));
  const row = lines.slice(first, first + 3).find((l) => l.split('|')[2].trim() === pass)!;
  return Number(row.split('|')[6].trim().replace('×', ''));
}

test('with PyTorch beside it: a ratio for every row', () => {
  if (!torchAvailable) { console.log('  (skipped: no /usr/bin/python3 with torch, scipy and skimage)'); return; }
  const out = join(dir, 'anchor');
  const r = bench([...TINY, '--sections', 'conv,vnet', '--out', out]);
  assert.is(r.status, 0, r.stderr);
  const [wasm] = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8')).results;
  for (const row of wasm.conv.rows) assert.ok(row.torch.fwd.median > 0, row.layer);
  for (const p of ['fwd', 'dx', 'dw']) assert.ok(wasm.convSummary[p] > 0, p);
  assert.ok(wasm.vnet[0].torchPeakBytes > 0);
});

test.run();
