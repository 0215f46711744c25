// The engine on its own: a two-layer 3D conv net fitted by plain gradient descent to a noisy
// synthetic sphere on the best available backend, ending with its Dice.
import * as vg from '../../index.ts';

export async function sphereDemo(): Promise<void> {
  const backend = await vg.setBackend('auto');
  console.log(`backend: ${backend}`);
  const gen = new vg.Generator(0);
  const n = 12;
  const label = new Float32Array(n * n * n), image = new Float32Array(n * n * n);
  for (let i = 0; i < label.length; i++) {
    const [z, y, x] = [Math.floor(i / (n * n)), Math.floor(i / n) % n, i % n];
    label[i] = (z - 5.5) ** 2 + (y - 5.5) ** 2 + (x - 5.5) ** 2 < 16 ? 1 : 0;
    image[i] = label[i] + 0.3 * gen.normal();
  }
  const x = vg.tensor(image, [1, 1, n, n, n]), y = vg.tensor(label, [1, n, n, n]);
  const params = [vg.randn([8, 1, 3, 3, 3], gen, 0, 0.3), vg.zeros([8]), vg.randn([2, 8, 1, 1, 1], gen, 0, 0.3), vg.zeros([2])];
  for (const p of params) p.requiresGrad = true;
  const [w1, b1, w2, b2] = params;
  for (let step = 0; step <= 60; step++) {
    const loss = vg.scope(() => {
      const logits = vg.conv3d(vg.relu(vg.conv3d(x, w1, b1, { padding: 1 })), w2, b2);
      const l = vg.crossEntropy(logits, y);
      l.backward();
      vg.noGrad(() => params.forEach((p) => { p.assign(vg.sub(p, vg.mul(p.grad!, 0.5))); p.grad!.dispose(); p.grad = null; }));
      return vg.detach(l);
    });
    if (step % 10 === 0) console.log(`step ${step}: cross-entropy ${(await loss.item()).toFixed(4)}`);
    loss.dispose();
  }
  const pred = vg.noGrad(() => vg.argmax(vg.conv3d(vg.relu(vg.conv3d(x, w1, b1, { padding: 1 })), w2, b2), 1));
  const p = await pred.data();
  let inter = 0, sum = 0;
  for (let i = 0; i < p.length; i++) { inter += p[i] * label[i]; sum += p[i] + label[i]; }
  console.log(`Dice on the synthetic sphere: ${(2 * inter / sum).toFixed(4)}`);
  vg.disposeBackends();
}
