// The wasm heap's allocator on its own Memory: free neighbours merge, requests take the best fit, the top
// comes down, and a long random sequence never hands out overlapping blocks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Heap } from '../engine/backends/wasm/heap.ts';
import { Generator } from '../index.ts';

const MiB = 1024 ** 2;
const fresh = (maximumPages = 65536) => new Heap(new WebAssembly.Memory({ initial: 1, maximum: maximumPages }), 1000);

test('freed neighbours merge and the top comes back down', () => {
  const heap = fresh();
  const a = heap.alloc(1000), b = heap.alloc(3000), c = heap.alloc(200);
  assert.ok(a % 64 === 0 && b % 64 === 0 && c % 64 === 0, 'blocks are 64-byte aligned');
  assert.is(heap.stats.live, 1024 + 3008 + 256);
  heap.release(a);
  heap.release(b);
  // a and b are one free block now: a request as large as both together fits there, below c
  assert.is(heap.alloc(1024 + 3008), a);
  heap.release(a);
  heap.release(c);
  assert.equal(heap.stats, { live: 0, peakLive: 1024 + 3008 + 256, extent: 0, peakExtent: 1024 + 3008 + 256 });
});

test('a request takes the smallest free block that holds it and leaves the rest free', () => {
  const heap = fresh();
  const big = heap.alloc(8192), fence1 = heap.alloc(64), small = heap.alloc(2048), fence2 = heap.alloc(64);
  heap.release(big);
  heap.release(small);
  assert.is(heap.alloc(1024), small, 'best fit: the 2048-byte gap, not the 8192-byte one');
  assert.is(heap.alloc(1024), small + 1024, 'the split-off rest of that gap');
  assert.is(heap.alloc(4096), big);
  const extent = heap.stats.extent;
  assert.is(heap.alloc(4096), big + 4096);
  assert.is(heap.stats.extent, extent, 'no growth while a gap fits');
  void fence1, fence2;
});

test('shapes that change between phases reuse the same bytes (what size classes could not)', () => {
  // training-like blocks of one set of sizes, freed, then validation-like blocks of sizes between them
  const heap = fresh();
  const phase = (sizes: number[]) => {
    const ptrs = sizes.map((s) => heap.alloc(s));
    for (const p of ptrs) heap.release(p);
  };
  const train = Array.from({ length: 40 }, (_, i) => (i + 1) * 3 * MiB / 40);
  const validate = train.map((s) => s * 1.07);
  for (let round = 0; round < 5; round++) { phase(train); phase(validate); }
  assert.ok(heap.stats.peakExtent <= train.reduce((a, b) => a + b, 0) * 1.07 + 64 * 40,
            `peak extent ${heap.stats.peakExtent} is one phase's bytes`);
});

test('random allocations and releases: no overlaps, live bytes exact, everything returns', () => {
  const heap = fresh();
  const gen = new Generator(11);
  const live = new Map<number, number>();
  for (let step = 0; step < 20000; step++) {
    if (live.size && gen.uniform() < 0.48) {
      const keys = [...live.keys()];
      const ptr = keys[Math.floor(gen.uniform() * keys.length)];
      heap.release(ptr);
      live.delete(ptr);
    } else {
      const bytes = 1 + Math.floor(gen.uniform() ** 3 * 200000);
      const ptr = heap.alloc(bytes);
      live.set(ptr, Math.ceil(bytes / 64) * 64);
    }
    if (step % 1000 === 0 || step === 19999) {
      const blocks = [...live].sort((x, y) => x[0] - y[0]);
      for (let i = 1; i < blocks.length; i++) {
        assert.ok(blocks[i - 1][0] + blocks[i - 1][1] <= blocks[i][0], `blocks overlap at step ${step}`);
      }
      assert.is(heap.stats.live, blocks.reduce((a, b) => a + b[1], 0));
    }
  }
  for (const ptr of live.keys()) heap.release(ptr);
  assert.is(heap.stats.live, 0);
  assert.is(heap.stats.extent, 0);
});

test('releasing a block twice, or an address never handed out, is an error', () => {
  const heap = fresh();
  const a = heap.alloc(100);
  heap.release(a);
  assert.throws(() => heap.release(a), /not an allocated block/);
  assert.throws(() => heap.release(a + 64), /not an allocated block/);
});

test('a request past 4 GiB names the live bytes and the largest gap', () => {
  const heap = fresh(256);
  const a = heap.alloc(MiB);
  heap.alloc(64);
  heap.release(a);
  assert.throws(() => heap.alloc(4 * 1024 ** 3), /does not fit in the 4 GiB WebAssembly address space: 0\.00 GiB live in 1 blocks, the largest free gap 0\.00 GiB/);
});

test('resetPeaks starts a phase\'s high-water marks at the current values', () => {
  const heap = fresh();
  const a = heap.alloc(MiB);
  heap.release(a);
  heap.resetPeaks();
  assert.equal(heap.stats, { live: 0, peakLive: 0, extent: 0, peakExtent: 0 });
  const b = heap.alloc(1000);
  assert.is(heap.stats.peakLive, 1024);
  heap.release(b);
});

test.run();
