// The browser app: pick a backend, load a NIfTI volume (file, drop or a bundled case) and optionally
// its label, segment it with a shipped model, a checkpoint file or a model trained in the page by the
// same sliding window as `voxgrad predict`, score it against the label, look at it in three planes,
// download the mask. Everything runs here; the only requests are for the app's own files.
import * as vg from '../../index.ts';
import type { Volume } from '../../io/volume.ts';
import { modelFromCheckpoint, type SegmentationModel } from '../../infer/model.ts';
import { scoreCase } from '../../infer/score-cases.ts';
import { segmentVolume } from './segment.ts';
import { initTrainPanel } from './train-panel.ts';
import { uncertainty } from './uncertainty.ts';
import { type OverlayName, Viewer } from './viewer.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const say = (text: string) => { $('message').textContent = text; };

interface State {
  image: Volume | null;
  label: Volume | null;
  /** The files the image and label were read from, for the Train panel's cases. */
  files: { image: Uint8Array; label?: Uint8Array } | null;
  model: SegmentationModel | null;
  modelBytes: Uint8Array | null;
  modelName: string;
  mask: Uint8Array | null;
  /** The image's intensity range, for the window/level sliders. */
  range: [number, number];
  /** The prediction's uncertainty map (binary entropy of the foreground probability), for its overlay. */
  uncertainty: Float32Array | null;
}
const state: State = { image: null, label: null, files: null, model: null, modelBytes: null, modelName: '', mask: null, range: [0, 1], uncertainty: null };
const viewer = new Viewer($('viewer') as HTMLCanvasElement);

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${r.statusText}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function chooseBackend() {
  const wanted = ($('backend') as HTMLSelectElement).value;
  let name = wanted;
  let note = '';
  if (wanted === 'webgpu' && !('gpu' in navigator)) {
    name = 'wasm';
    note = 'this browser has no WebGPU; using WebAssembly. ';
  }
  if (name === 'wasm') await vg.setWasmThreads(crossOriginIsolated ? navigator.hardwareConcurrency : 1);
  try {
    await vg.setBackend(name);
  } catch (e) {
    if (name !== 'webgpu') throw e;
    note = `WebGPU failed (${(e as Error).message}); using WebAssembly. `;
    await vg.setBackend('wasm');
  }
  const be = vg.getBackend() as vg.Backend & { adapterName?: string; threads?: number };
  ($('backend') as HTMLSelectElement).value = be.name;
  $('backend-info').textContent = note + (be.adapterName ? `adapter: ${be.adapterName}` : `${be.threads ?? 1} thread(s)`);
  // a network lives on one backend: load the model again on the new one
  if (state.modelBytes) loadModelBytes(state.modelBytes, state.modelName);
  document.body.dataset.backend = be.name;
}

function range(data: Float32Array): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of data) { if (v < lo) lo = v; if (v > hi) hi = v; }
  return [lo, hi];
}

async function showVolume() {
  const v = state.image!;
  const [lo, hi] = state.range;
  $('volume-info').textContent = `${v.source}\nshape ${v.shape.join(' × ')}, spacing ${v.spacing.map((s) => s.toFixed(3)).join(' × ')} mm\n` +
    `intensities ${lo.toPrecision(4)} … ${hi.toPrecision(4)}`;
  await viewer.show(state.files!.image);
  const { min, max } = viewer.window, span = Math.max(hi - lo, 1e-6);
  ($('window') as HTMLInputElement).value = String((max - min) / span);
  ($('level') as HTMLInputElement).value = String(((min + max) / 2 - lo) / span);
  await drawOverlays();
  ($('segment') as HTMLButtonElement).disabled = !state.model;
}

const opacity = (name: OverlayName) => Number(($(`opacity-${name}`) as HTMLInputElement).value);

/** Hands the viewer each overlay there is, as a NIfTI in the image's geometry. */
async function drawOverlays() {
  const image = state.image!;
  const asNifti = (data: ArrayLike<number>, type: 'uint8' | 'float32') => vg.encodeNifti({ ...image, data: Float32Array.from(data) }, type);
  await viewer.setOverlay('reference', state.files?.label ?? null, opacity('reference'));
  await viewer.setOverlay('prediction', state.mask && await asNifti(state.mask, 'uint8'), opacity('prediction'));
  await viewer.setOverlay('uncertainty', state.uncertainty && await asNifti(state.uncertainty, 'float32'), opacity('uncertainty'));
  document.body.dataset.drawn = String(Date.now());
}

async function loadImage(bytes: Uint8Array, name: string, asLabel: boolean) {
  const v = await vg.parseVolume(bytes, name);
  if (asLabel) {
    if (!state.image || v.shape.join() !== state.image.shape.join()) {
      throw new Error(`${name}: the label's shape ${v.shape.join('×')} does not match the image's ${state.image?.shape.join('×') ?? '(no image yet)'}`);
    }
    state.label = v;
    state.files!.label = bytes;
    $('volume-info').textContent += `\nlabel ${v.source}`;
    await viewer.setOverlay('reference', bytes, opacity('reference'));
    return;
  }
  state.image = v;
  state.files = { image: bytes };
  state.range = range(v.data);
  state.label = null;
  state.mask = null;
  state.uncertainty = null;
  $('metrics').textContent = '';
  ($('download-mask') as HTMLButtonElement).disabled = true;
  await showVolume();
}

function loadModelBytes(bytes: Uint8Array, name: string) {
  state.model?.net.dispose();
  state.model = modelFromCheckpoint(vg.decodeSafetensors(bytes), name);
  state.modelBytes = bytes;
  state.modelName = name;
  ($('segment') as HTMLButtonElement).disabled = !state.image;
  ($('download-model') as HTMLButtonElement).disabled = false;
}

async function segment() {
  const progress = $('progress') as HTMLProgressElement;
  ($('segment') as HTMLButtonElement).disabled = true;
  const t0 = performance.now();
  try {
    const pred = await segmentVolume(state.model!, state.image!, (done, total) => { progress.value = done / total; });
    state.mask = pred.label;
    state.uncertainty = uncertainty(pred.foreground);
    let text = `${state.modelName} on ${vg.getBackend().name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`;
    if (state.label) {
      const s = scoreCase(state.image!.source, pred.label, state.label.data, state.image!.shape, state.image!.spacing);
      text += `\nDice ${s.dice.toFixed(4)}, Jaccard ${s.jaccard.toFixed(4)}, 95HD ${s.hd95.toFixed(2)} mm, ASD ${s.asd.toFixed(2)} mm`;
    }
    $('metrics').textContent = text;
    ($('download-mask') as HTMLButtonElement).disabled = false;
    await drawOverlays();
    document.body.dataset.segmented = 'true';
  } finally {
    ($('segment') as HTMLButtonElement).disabled = false;
  }
}

function download(bytes: Uint8Array, name: string) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([bytes.slice()], { type: 'application/octet-stream' }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/** Runs an action, showing its error on the page (and on the console, where the tests look). */
const guarded = (f: () => Promise<void> | void) => async () => {
  say('');
  try {
    await f();
  } catch (e) {
    say((e as Error).message);
    console.error(e);
  }
};

/** The shipped model the page offers first: UG-MCL trained on the bundled hippocampus set. */
const DEFAULT_MODEL = 'hippocampus-ugmcl-l16-s0.safetensors';

async function showBundledCase(id: string) {
  ($('demo') as HTMLSelectElement).value = id;
  await loadImage(await fetchBytes(`data/images/${id}`), `images/${id}`, false);
  await loadImage(await fetchBytes(`data/labels/${id}`), `labels/${id}`, true);
}

async function setup() {
  const models = await (await fetch('models.json')).json() as string[];
  const select = $('model') as HTMLSelectElement;
  for (const m of models) select.add(new Option(m, m));
  const cases = (await (await fetch('data/eval.list')).text()).split('\n').map((s) => s.trim()).filter(Boolean);
  for (const c of cases) ($('demo') as HTMLSelectElement).add(new Option(c, c));

  $('backend').addEventListener('change', guarded(chooseBackend));
  $('demo').addEventListener('change', guarded(async () => {
    const id = ($('demo') as HTMLSelectElement).value;
    if (id) await showBundledCase(id);
  }));
  const fromPicker = (id: string, asLabel: boolean) => $(id).addEventListener('change', guarded(async () => {
    const f = ($(id) as HTMLInputElement).files?.[0];
    if (f) await loadImage(new Uint8Array(await f.arrayBuffer()), f.name, asLabel);
  }));
  fromPicker('image-file', false);
  fromPicker('label-file', true);
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    void guarded(async () => {
      const files = [...(e.dataTransfer?.files ?? [])];
      for (const [i, f] of files.entries()) await loadImage(new Uint8Array(await f.arrayBuffer()), f.name, i > 0);
    })();
  });
  // models trained in this page are listed with the shipped ones, kept here since no file holds them
  const trained = new Map<string, Uint8Array>();
  select.addEventListener('change', guarded(async () => {
    const name = select.value;
    loadModelBytes(trained.get(name) ?? await fetchBytes(`models/${name}`), name);
  }));
  $('model-file').addEventListener('change', guarded(async () => {
    const f = ($('model-file') as HTMLInputElement).files?.[0];
    if (f) loadModelBytes(new Uint8Array(await f.arrayBuffer()), f.name);
  }));
  $('segment').addEventListener('click', guarded(segment));
  $('download-mask').addEventListener('click', guarded(async () => {
    const image = state.image!;
    const name = image.source.split('/').pop()!.replace(/\.(nii\.gz|nii)$/i, '');
    download(await vg.encodeNifti({ ...image, data: Float32Array.from(state.mask!) }, 'uint8'), `${name}_mask.nii.gz`);
  }));
  $('download-model').addEventListener('click', () => download(state.modelBytes!, state.modelName));
  for (const name of ['prediction', 'reference', 'uncertainty'] as OverlayName[]) {
    $(`opacity-${name}`).addEventListener('input', () => viewer.setOpacity(name, opacity(name)));
  }
  const windowLevel = () => {
    if (!state.image) return;
    const [lo, hi] = state.range, span = Math.max(hi - lo, 1e-6);
    const width = Number(($('window') as HTMLInputElement).value) * span, center = lo + Number(($('level') as HTMLInputElement).value) * span;
    viewer.setWindow(center - width / 2, center + width / 2);
  };
  $('window').addEventListener('input', windowLevel);
  $('level').addEventListener('input', windowLevel);

  initTrainPanel({
    loadedCase: () => state.image && state.files && { name: state.image.source.split('/').pop()!, ...state.files },
    backend: () => ({ name: vg.getBackend().name as 'wasm' | 'webgpu', threads: crossOriginIsolated ? navigator.hardwareConcurrency : 1 }),
    fetchBytes,
    useModel: (bytes, name) => {
      if (!trained.has(name)) select.add(new Option(`${name} (trained here)`, name));
      trained.set(name, bytes);
      select.value = name;
      loadModelBytes(bytes, name);
    },
    download,
    say,
  });
  await chooseBackend();
  // The first screen is one click from a segmentation: a bundled case shown, the default model ready.
  const model = models.includes(DEFAULT_MODEL) ? DEFAULT_MODEL : models[0];
  if (model) {
    select.value = model;
    loadModelBytes(await fetchBytes(`models/${model}`), model);
  }
  if (cases.length) await showBundledCase(cases[0]);
  document.body.dataset.ready = 'true';
}

void guarded(setup)();
