// The app's uncertainty overlay: binary entropy in bits of the foreground probability.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { uncertainty } from '../web/app/uncertainty.ts';

test('uncertainty is 1 at p = 0.5, 0 at certainty, H(0.25) = 0.811 bits between', () => {
  const u = uncertainty(Float32Array.from([0.5, 0, 1, 0.25]));
  assert.ok(Math.abs(u[0] - 1) < 1e-6 && u[1] < 1e-5 && u[2] < 1e-5);
  assert.ok(Math.abs(u[3] - 0.8112781) < 1e-6);
});

test.run();
