// One conv3d forward and backward on seeded data, run the same way in Node and in a browser page
// (web/conv-page.ts) so that test/browser.test.ts can compare the two.
import type * as VG from '../index.ts';

export interface ConvCheckResult {
  adapter: string;
  y: number[];
  dx: number[];
  dw: number[];
}

export async function convCheck(vg: typeof VG): Promise<ConvCheckResult> {
  const backend = await vg.setBackend('webgpu');
  const gen = new vg.Generator(2024);
  const x = vg.randn([2, 3, 6, 5, 4], gen), w = vg.randn([4, 3, 3, 3, 3], gen, 0, 0.2);
  const cot = vg.randn([2, 4, 3, 3, 2], gen);
  const opts = { stride: 2, padding: 1 };
  const y = vg.conv3d(x, w, undefined, opts);
  const [dx, dw] = vg.grad((a, b) => vg.sum(vg.mul(vg.conv3d(a, b, undefined, opts), cot)), [x, w]);
  const be = vg.getBackend() as { adapterName?: string };
  const result = {
    adapter: `${backend}: ${be.adapterName ?? 'unknown adapter'}`,
    y: [...(await y.data())],
    dx: [...(await dx.data())],
    dw: [...(await dw.data())],
  };
  for (const t of [x, w, cot, y, dx, dw]) t.dispose();
  return result;
}
