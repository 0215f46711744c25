// Draws that replay a reference's own dropout masks and noise, in the order a method asks for them.
import type { Draws } from '../../train/draws.ts';

export class RecordedDraws implements Draws {
  constructor(private readonly masks: [Float32Array, Float32Array][], private readonly noise: Float32Array[]) {}

  dropoutMasks(n: number, channels: readonly [number, number]): [Float32Array, Float32Array] {
    const m = this.masks.shift();
    if (!m) throw new Error('RecordedDraws: no dropout masks left');
    if (m[0].length !== n * channels[0] || m[1].length !== n * channels[1]) {
      throw new Error(`RecordedDraws: masks of ${m[0].length}/${m[1].length} values asked as [${n}·${channels}]`);
    }
    return m;
  }

  inputNoise(count: number): Float32Array {
    const x = this.noise.shift();
    if (!x) throw new Error('RecordedDraws: no noise left');
    if (x.length !== count) throw new Error(`RecordedDraws: noise of ${x.length} values asked for ${count}`);
    return x;
  }

  /** Whatever the step did not consume: a step that draws less than the reference fails the test. */
  get left() {
    return this.masks.length + this.noise.length;
  }
}
