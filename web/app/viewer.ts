// The three-plane viewer: axial, coronal and sagittal canvases through one cursor voxel, a click on a
// plane moves the cursor there, each plane drawn by slices.ts with the window/level and the overlays,
// scaled by the voxel spacing so that shapes keep their proportions.
import { autoWindow, type Axis, type Overlay, renderPlane, type Shape3, type WindowLevel } from './slices.ts';

const DISPLAY = 300; // CSS pixels along a plane's longer side

export class Viewer {
  private image: Float32Array | null = null;
  private shape: Shape3 = [1, 1, 1];
  private spacing: Shape3 = [1, 1, 1];
  private overlays: Overlay[] = [];
  cursor: Shape3 = [0, 0, 0];
  window: WindowLevel = { center: 0, width: 1 };

  constructor(private readonly canvases: Record<Axis, HTMLCanvasElement>) {
    for (const axis of [0, 1, 2] as Axis[]) {
      canvases[axis].addEventListener('click', (e) => this.click(axis, e));
    }
  }

  show(image: Float32Array, shape: Shape3, spacing: Shape3) {
    this.image = image;
    this.shape = shape;
    this.spacing = spacing;
    this.overlays = [];
    this.cursor = shape.map((s) => s >> 1) as Shape3;
    this.window = autoWindow(image);
    this.draw();
  }

  setOverlays(overlays: Overlay[]) {
    this.overlays = overlays;
    this.draw();
  }

  setWindow(w: WindowLevel) {
    this.window = w;
    this.draw();
  }

  draw() {
    if (!this.image) return;
    for (const axis of [0, 1, 2] as Axis[]) this.drawPlane(axis);
  }

  /** The (col, row) of the cursor in the plane that holds `axis`, and that plane's spacing (across, down). */
  private planeCursor(axis: Axis): { col: number; row: number; sx: number; sy: number } {
    const [x, y, z] = this.cursor, Z = this.shape[2], [a, b, c] = this.spacing;
    if (axis === 2) return { col: x, row: y, sx: a, sy: b };
    if (axis === 1) return { col: x, row: Z - 1 - z, sx: a, sy: c };
    return { col: y, row: Z - 1 - z, sx: b, sy: c };
  }

  private drawPlane(axis: Axis) {
    const plane = renderPlane(this.image!, this.shape, axis, this.cursor[axis], this.window, this.overlays);
    const canvas = this.canvases[axis];
    canvas.width = plane.width;
    canvas.height = plane.height;
    const ctx = canvas.getContext('2d')!;
    ctx.putImageData(new ImageData(plane.rgba, plane.width, plane.height), 0, 0);
    const { col, row, sx, sy } = this.planeCursor(axis);
    ctx.strokeStyle = 'rgba(255, 220, 0, 0.7)';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(col + 0.5, 0);
    ctx.lineTo(col + 0.5, plane.height);
    ctx.moveTo(0, row + 0.5);
    ctx.lineTo(plane.width, row + 0.5);
    ctx.stroke();
    const w = plane.width * sx, h = plane.height * sy, scale = DISPLAY / Math.max(w, h);
    canvas.style.width = `${Math.round(w * scale)}px`;
    canvas.style.height = `${Math.round(h * scale)}px`;
  }

  private click(axis: Axis, e: MouseEvent) {
    if (!this.image) return;
    const canvas = this.canvases[axis], box = canvas.getBoundingClientRect();
    const col = Math.floor(((e.clientX - box.left) / box.width) * canvas.width);
    const row = Math.floor(((e.clientY - box.top) / box.height) * canvas.height);
    const Z = this.shape[2], clamp = (v: number, n: number) => Math.min(Math.max(v, 0), n - 1);
    const [X, Y] = this.shape;
    if (axis === 2) this.cursor = [clamp(col, X), clamp(row, Y), this.cursor[2]];
    else if (axis === 1) this.cursor = [clamp(col, X), this.cursor[1], clamp(Z - 1 - row, Z)];
    else this.cursor = [this.cursor[0], clamp(col, Y), clamp(Z - 1 - row, Z)];
    this.draw();
  }
}
