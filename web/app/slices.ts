// One plane of a volume as RGBA pixels: the image under a window/level, then each overlay blended in
// with its colour at opacity × value (masks are 0/1, an uncertainty map any value in [0, 1]). Planes
// are in voxel order, not patient orientation: axial holds z (x across, y down), coronal holds y and
// sagittal holds x (z up in both).

export type Shape3 = [number, number, number];
/** The axis a plane holds fixed: 2 axial, 1 coronal, 0 sagittal. */
export type Axis = 0 | 1 | 2;

export interface Overlay {
  data: ArrayLike<number>;
  color: [number, number, number];
  opacity: number;
}

export interface WindowLevel {
  center: number;
  width: number;
}

export interface Plane {
  width: number;
  height: number;
  rgba: Uint8ClampedArray<ArrayBuffer>;
}

/** Width and height of the plane that holds `axis` fixed, and the volume index of its pixel (col, row). */
export function planeGeometry(shape: Shape3, axis: Axis, index: number) {
  const [X, Y, Z] = shape;
  const at = (x: number, y: number, z: number) => (x * Y + y) * Z + z;
  if (axis === 2) return { width: X, height: Y, voxel: (c: number, r: number) => at(c, r, index) };
  if (axis === 1) return { width: X, height: Z, voxel: (c: number, r: number) => at(c, index, Z - 1 - r) };
  return { width: Y, height: Z, voxel: (c: number, r: number) => at(index, c, Z - 1 - r) };
}

export function renderPlane(image: ArrayLike<number>, shape: Shape3, axis: Axis, index: number, wl: WindowLevel,
                            overlays: Overlay[] = []): Plane {
  const { width, height, voxel } = planeGeometry(shape, axis, index);
  const rgba = new Uint8ClampedArray(width * height * 4);
  const low = wl.center - wl.width / 2, span = Math.max(wl.width, 1e-12);
  for (let r = 0, p = 0; r < height; r++) {
    for (let c = 0; c < width; c++, p += 4) {
      const v = voxel(c, r);
      const gray = 255 * Math.min(Math.max((image[v] - low) / span, 0), 1);
      let red = gray, green = gray, blue = gray;
      for (const o of overlays) {
        const a = o.opacity * Math.min(Math.max(o.data[v], 0), 1);
        if (a <= 0) continue;
        red += (o.color[0] - red) * a;
        green += (o.color[1] - green) * a;
        blue += (o.color[2] - blue) * a;
      }
      rgba[p] = red;
      rgba[p + 1] = green;
      rgba[p + 2] = blue;
      rgba[p + 3] = 255;
    }
  }
  return { width, height, rgba };
}

/** A window/level that spans the 1st to the 99th percentile of the values (a sample of them). */
export function autoWindow(image: ArrayLike<number>): WindowLevel {
  const step = Math.max(1, Math.floor(image.length / 100_000));
  const sample: number[] = [];
  for (let i = 0; i < image.length; i += step) sample.push(image[i]);
  sample.sort((a, b) => a - b);
  const lo = sample[Math.floor(0.01 * (sample.length - 1))], hi = sample[Math.floor(0.99 * (sample.length - 1))];
  return { center: (lo + hi) / 2, width: Math.max(hi - lo, 1e-6) };
}

/** Binary entropy of a foreground probability, scaled to [0, 1] (1 at p = 0.5). */
export function uncertainty(foreground: Float32Array): Float32Array {
  return foreground.map((p) => {
    const q = Math.min(Math.max(p, 1e-7), 1 - 1e-7);
    return -(q * Math.log(q) + (1 - q) * Math.log(1 - q)) / Math.LN2;
  });
}
