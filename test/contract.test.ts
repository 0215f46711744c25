// The engine issue's contract: the snippet runs as written from the repository root, importing the
// package by its name, and agrees with the same computation done inside the test.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { repoRoot } from './helpers/fixtures.ts';
import { testBackends } from './helpers/backends.ts';

const snippet = (backend: string) => `
import * as vg from 'voxgrad';
await vg.setBackend('${backend}');
const x = vg.tensor(new Float32Array(2*3*7*6*5).map(Math.random), [2, 3, 7, 6, 5]);
const w = vg.tensor(new Float32Array(4*3*3*3*3).map(Math.random), [4, 3, 3, 3, 3]);
const y = vg.conv3d(x, w, undefined, { stride: 2, padding: 1, dilation: 1 });
const [gx, gw] = vg.grad((x, w) => vg.sum(vg.conv3d(x, w, undefined, { stride: 2, padding: 1 })), [x, w]);
console.log(y.shape, await y.data(), await gx.data(), await gw.data());
// Checks beyond the snippet: sum(conv) has dL/dw[o] = sum of the input windows, the same for every o.
const g = await gw.data();
console.log(JSON.stringify({ shape: y.shape, gxLen: (await gx.data()).length, same: g.slice(0, 81).every((v, i) => v === g[81 + i]) }));
vg.disposeBackends();
`;

for (const { name } of testBackends()) {
  test(`contract snippet runs with setBackend('${name}')`, () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', snippet(name)], { cwd: repoRoot, encoding: 'utf8' });
    const summary = JSON.parse(out.trim().split('\n').pop()!);
    assert.equal(summary.shape, [2, 4, 4, 3, 3]);
    assert.is(summary.gxLen, 2 * 3 * 7 * 6 * 5);
    assert.ok(summary.same, 'weight gradient of a summed convolution is the same for every output channel');
  });
}

test.run();
