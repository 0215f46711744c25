// A run folder belongs to one training process: a second `voxgrad train` on the same --out is refused
// naming the folder and the holder's pid; a lock left by a killed run is taken over. A disk that fills
// up (a small tmpfs, so the kernel itself answers ENOSPC) stops the run naming the file, and the last
// checkpoint stays whole.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readCheckpoint } from '../nn/checkpoint.ts';
import { repoRoot } from './helpers/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'voxgrad-runfolder-'));
const data = `${repoRoot}data/hippocampus`;
writeFileSync(join(dir, 'train.list'), readFileSync(`${data}/train.list`, 'utf8').trim().split('\n').slice(0, 4).join('\n'));

function config(name: string, iterations: number, every: number): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({
    name, method: 'supervised', model: { nFilters: 4 }, patch: [16, 32, 16], iterations, validation: { every: 0 }, checkpoint: { every },
    data: { root: data, train: 'train.list', labeled: 4 },
  }));
  return path;
}
const args = (c: string, out: string, ...more: string[]) => [`${repoRoot}dist/cli.js`, 'train', '--config', c, '--backend', 'wasm', '--out', out, ...more];
const train = (c: string, out: string, ...more: string[]) =>
  spawnSync(process.execPath, args(c, out, ...more), { encoding: 'utf8', env: { ...process.env, VOXGRAD_THREADS: '1' } });
const lines = (out: string) => (existsSync(join(out, 'log.jsonl')) ? readFileSync(join(out, 'log.jsonl'), 'utf8').split('\n').filter(Boolean).length : 0);

test('a second run on the same folder is refused naming the folder and the holder; a killed run\'s lock is taken over', async () => {
  const c = config('locked', 200, 5), out = join(dir, 'locked');
  const first = spawn(process.execPath, args(c, out), { stdio: 'ignore', env: { ...process.env, VOXGRAD_THREADS: '1' } });
  const started = Date.now();
  while (lines(out) < 3) {
    assert.ok(Date.now() - started < 120_000, 'the first run logged nothing in 2 minutes');
    await new Promise((ok) => setTimeout(ok, 50));
  }
  const second = train(c, out, '--resume');
  assert.is(second.status, 1);
  assert.match(second.stderr, `${out}: another training run (process ${first.pid}, since `);
  assert.match(second.stderr, 'choose another --out');
  const before = lines(out);
  await new Promise((ok) => setTimeout(ok, 300));
  assert.ok(lines(out) > before, 'the first run goes on undisturbed');
  first.kill('SIGKILL');
  await new Promise((ok) => first.once('exit', ok));
  assert.ok(existsSync(join(out, 'train.lock')), 'a killed run leaves its lock behind');
  const after = train(c, out, '--resume');
  assert.is(after.status, 0, after.stderr);
  assert.ok(!existsSync(join(out, 'train.lock')), 'a finished run releases the folder');
});

test('a lock of a process that no longer exists does not hold the folder; an unreadable one neither', () => {
  const c = config('stale', 2, 2);
  const gone = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
  for (const [name, lock] of [['stale', JSON.stringify({ pid: gone, host: hostname(), since: '2026-01-01T00:00:00Z' })], ['cut-short', '{"pid": 12']]) {
    const out = join(dir, name);
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'train.lock'), lock);
    const r = train(c, out);
    assert.is(r.status, 0, r.stderr);
    assert.ok(!existsSync(join(out, 'train.lock')));
  }
});

test('a full disk (ENOSPC from a small tmpfs) stops the run naming the checkpoint; the last one stays whole', async () => {
  const c = config('full', 4, 2);
  const probe = join(dir, 'probe');
  assert.is(train(c, probe).status, 0);
  const size = statSync(join(probe, 'checkpoint.safetensors')).size;
  const disk = join(dir, 'disk');
  mkdirSync(disk);
  // room for one checkpoint and the log, not for the temporary file of the next
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${Math.ceil((1.5 * size) / 4096) * 4096}`, 'tmpfs', disk], { encoding: 'utf8' });
  if (mount.status !== 0) {
    if (process.env.CI) assert.unreachable(`cannot mount a tmpfs for the ENOSPC test: ${mount.stderr}`);
    console.log(`  (ENOSPC test skipped: mounting a tmpfs needs root here: ${mount.stderr.trim()})`);
    return;
  }
  try {
    const out = join(disk, 'run');
    const r = train(c, out);
    assert.is(r.status, 1, 'the run stops');
    assert.match(r.stderr, `cannot write checkpoint ${join(out, 'checkpoint.safetensors')}: ENOSPC`);
    assert.match(r.stderr, `the last checkpoint (${join(out, 'checkpoint.safetensors')}) is intact`);
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
    const kept = await readCheckpoint(join(out, 'checkpoint.safetensors')); // its CRC is checked on the way in
    assert.is(kept.metadata.iteration, '2');
    assert.ok(!existsSync(join(out, 'train.lock')), 'the folder is released');
  } finally {
    spawnSync('umount', [disk]);
  }
});

test.run();
