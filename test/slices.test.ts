// The viewer's planes (web/app/slices.ts): which voxel lands on which pixel in each plane, the
// window/level, overlay blending and the uncertainty map.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { autoWindow, renderPlane, type Shape3, uncertainty } from '../web/app/slices.ts';

const shape: Shape3 = [2, 3, 4];
const at = (x: number, y: number, z: number) => (x * 3 + y) * 4 + z;
// each voxel's value is its own index, so a pixel's gray tells which voxel it shows
const image = Float32Array.from({ length: 24 }, (_, i) => i);
const gray = (p: { rgba: Uint8ClampedArray; width: number }, c: number, r: number) => p.rgba[(r * p.width + c) * 4];
const wl = { center: 11.5, width: 23 }; // maps 0 → 0 and 23 → 255

test('axial holds z (x across, y down); coronal and sagittal hold y and x with z up', () => {
  const axial = renderPlane(image, shape, 2, 1, wl);
  assert.equal([axial.width, axial.height], [2, 3]);
  assert.is(gray(axial, 1, 2), Math.round((at(1, 2, 1) / 23) * 255));
  const coronal = renderPlane(image, shape, 1, 2, wl);
  assert.equal([coronal.width, coronal.height], [2, 4]);
  assert.is(gray(coronal, 0, 0), Math.round((at(0, 2, 3) / 23) * 255), 'top row is the highest z');
  const sagittal = renderPlane(image, shape, 0, 1, wl);
  assert.equal([sagittal.width, sagittal.height], [3, 4]);
  assert.is(gray(sagittal, 2, 3), Math.round((at(1, 2, 0) / 23) * 255));
});

test('the window clamps, and an overlay blends its colour by opacity × value', () => {
  const narrow = renderPlane(image, shape, 2, 0, { center: 10, width: 2 });
  assert.is(gray(narrow, 0, 0), 0);
  assert.is(gray(narrow, 1, 2), 255);
  const mask = new Float32Array(24);
  mask[at(0, 0, 0)] = 1;
  const p = renderPlane(image, shape, 2, 0, wl, [{ data: mask, color: [255, 0, 0], opacity: 0.5 }]);
  assert.equal(Array.from(p.rgba.slice(0, 4)), [128, 0, 0, 255], 'gray 0 half-way to red');
  assert.equal(Array.from(p.rgba.slice(4, 8)), Array(3).fill(Math.round((at(1, 0, 0) / 23) * 255)).concat(255), 'no mask, no tint');
});

test('auto window spans the 1st to 99th percentile; uncertainty is 1 at p = 0.5 and 0 at certainty', () => {
  const w = autoWindow(Float32Array.from({ length: 1001 }, (_, i) => i));
  assert.equal(w, { center: 500, width: 980 });
  const u = uncertainty(Float32Array.from([0.5, 0, 1, 0.25]));
  assert.ok(Math.abs(u[0] - 1) < 1e-6 && u[1] < 1e-5 && u[2] < 1e-5);
  assert.ok(Math.abs(u[3] - 0.8112781) < 1e-6);
});

test.run();
