// bench/gpu-aside.sh on a small git repository: what a device call would copy is measured against
// the limit, models/ and experiments/ go out of the tree and come back unchanged, and a live run's
// lock under experiments/ stops it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './helpers/fixtures.ts';

const test = suite('gpu-aside');
let root = '', repo = '';
// the limit: the script and .gitignore fit, the two 2,000-byte folders do not
const limit = () => statSync(join(repoRoot, 'bench/gpu-aside.sh')).size + 1000;
const aside = (args: string[]) => spawnSync('sh', ['bench/gpu-aside.sh', ...args], {
  cwd: repo, encoding: 'utf8', env: { ...process.env, GPU_CALL_LIMIT_BYTES: String(limit()), GPU_ASIDE: join(root, 'aside') },
});

test.before(() => {
  root = mkdtempSync(join(tmpdir(), 'voxgrad-gpu-aside-'));
  repo = join(root, 'repo');
  for (const d of ['bench', 'models', 'experiments/unfinished/run']) mkdirSync(join(repo, d), { recursive: true });
  copyFileSync(join(repoRoot, 'bench/gpu-aside.sh'), join(repo, 'bench/gpu-aside.sh'));
  writeFileSync(join(repo, 'models/model.safetensors'), 'm'.repeat(2000));
  writeFileSync(join(repo, 'experiments/unfinished/run/log.jsonl'), 'e'.repeat(2000));
  writeFileSync(join(repo, '.gitignore'), 'train.lock\n');
  spawnSync('git', ['init', '-q'], { cwd: repo });
  spawnSync('git', ['add', '-A'], { cwd: repo });
});
test.after(() => rmSync(root, { recursive: true, force: true }));

test('over the limit with the folders in, under it with them aside, and back unchanged', () => {
  const before = aside(['--size']);
  assert.is.not(before.status, 0);
  assert.match(before.stderr, /over the limit/);
  const out = aside([]);
  assert.is(out.status, 0, out.stderr);
  assert.not.ok(existsSync(join(repo, 'models')));
  assert.ok(existsSync(join(root, 'aside/experiments/unfinished/run/log.jsonl')));
  const back = aside(['--back']);
  assert.is(back.status, 0, back.stderr);
  assert.is(readFileSync(join(repo, 'models/model.safetensors'), 'utf8'), 'm'.repeat(2000));
  assert.is(readFileSync(join(repo, 'experiments/unfinished/run/log.jsonl'), 'utf8'), 'e'.repeat(2000));
  assert.not.ok(existsSync(join(root, 'aside')));
});

test('a live run holding a lock under experiments/ stops it', () => {
  const lock = join(repo, 'experiments/unfinished/run/train.lock');
  writeFileSync(lock, JSON.stringify({ pid: process.pid, host: 'vm', since: new Date().toISOString() }));
  const r = aside([]);
  rmSync(lock);
  assert.is.not(r.status, 0);
  assert.match(r.stderr, new RegExp(`held by pid ${process.pid}`));
  assert.ok(existsSync(join(repo, 'models/model.safetensors')), 'nothing moved');
});

test.run();
