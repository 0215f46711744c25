// The three-plane viewer: @niivue/niivue (the field's WebGL2 viewer) on one canvas, axial, coronal
// and sagittal through one crosshair that a click moves, placed by each file's own geometry. The
// image under a window/level; the reference, the prediction and the uncertainty map as overlays,
// each with its colour map and opacity. Volumes go in as NIfTI bytes, as they would from disk.
import { Niivue, NVImage } from '@niivue/niivue';

export type OverlayName = 'reference' | 'prediction' | 'uncertainty';

/** Colour map and the value range it spans (below the range an overlay is transparent). */
const LOOK: Record<OverlayName, { colormap: string; cal_min: number; cal_max: number }> = {
  reference: { colormap: 'blue', cal_min: 0.5, cal_max: 1 },
  prediction: { colormap: 'red', cal_min: 0.5, cal_max: 1 },
  uncertainty: { colormap: 'warm', cal_min: 0.05, cal_max: 1 },
};
const ORDER: OverlayName[] = ['reference', 'prediction', 'uncertainty'];

const isGzip = (b: Uint8Array) => b[0] === 0x1f && b[1] === 0x8b;
const nameFor = (stem: string, b: Uint8Array) => `${stem}${isGzip(b) ? '.nii.gz' : '.nii'}`;

export class Viewer {
  private readonly nv = new Niivue({ backColor: [0, 0, 0, 1], crosshairColor: [1, 0.86, 0, 0.8], crosshairWidth: 1, show3Dcrosshair: false, loadingText: '' });
  private readonly attached: Promise<unknown>;
  private image: NVImage | null = null;
  private readonly overlays = new Map<OverlayName, NVImage>();

  constructor(canvas: HTMLCanvasElement) {
    this.attached = this.nv.attachToCanvas(canvas);
  }

  /** Shows an image from its NIfTI file's bytes, without overlays; resolves once it is drawn. */
  async show(nifti: Uint8Array) {
    await this.attached;
    for (const v of [...this.nv.volumes]) this.nv.removeVolume(v);
    this.overlays.clear();
    this.image = await this.load(nifti, 'image', { colormap: 'gray' });
    this.nv.addVolume(this.image);
    this.nv.setSliceType(this.nv.sliceTypeMultiplanar);
  }

  /** The intensities the grey ramp spans now (niivue's robust range when an image is shown). */
  get window(): { min: number; max: number } {
    return { min: this.image?.cal_min ?? 0, max: this.image?.cal_max ?? 1 };
  }

  setWindow(min: number, max: number) {
    if (!this.image) return;
    this.image.cal_min = min;
    this.image.cal_max = Math.max(max, min + 1e-6);
    this.nv.updateGLVolume();
  }

  /** Replaces (or with null removes) an overlay, given as NIfTI bytes in the image's geometry. */
  async setOverlay(name: OverlayName, nifti: Uint8Array | null, opacity: number) {
    await this.attached;
    const old = this.overlays.get(name);
    if (old) this.nv.removeVolume(old);
    this.overlays.delete(name);
    if (!nifti || !this.image) return;
    this.overlays.set(name, await this.load(nifti, name, { ...LOOK[name], opacity }));
    // the stacking stays reference, prediction, uncertainty, whatever came first
    for (const v of [...this.nv.volumes]) this.nv.removeVolume(v);
    for (const v of [this.image, ...ORDER.map((n) => this.overlays.get(n))]) if (v) this.nv.addVolume(v);
  }

  setOpacity(name: OverlayName, opacity: number) {
    const v = this.overlays.get(name);
    if (!v) return;
    this.nv.setOpacity(this.nv.volumes.indexOf(v), opacity);
  }

  private load(bytes: Uint8Array, stem: string, look: { colormap: string; opacity?: number; cal_min?: number; cal_max?: number }): Promise<NVImage> {
    const name = nameFor(stem, bytes);
    return NVImage.loadFromUrl({ url: name, name, buffer: bytes.slice().buffer, ...look });
  }
}
