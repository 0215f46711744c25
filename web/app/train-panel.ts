// The page's Train panel: cases given roles (labelled, unlabelled, validation), the settings as the
// JSON config `voxgrad train` reads, and a worker that trains; its losses and validation Dice drawn
// live, its checkpoints kept in the page to download or continue from, its model handed to Segment.
import { trainingCurvesSvg } from '../../report/curves-svg.ts';
import type { IterationLog, ValidationLog } from '../../train/loop/session.ts';
import type { CaseFiles, FromWorker, Role, ToWorker } from './train-protocol.ts';

interface PoolCase extends CaseFiles { role: Role | 'unused' }

export interface TrainPanelHost {
  /** The image (and label) loaded in the page now, as their files' bytes. */
  loadedCase(): CaseFiles | null;
  /** The backend the page uses, for the worker to use the same. */
  backend(): { name: 'wasm' | 'webgpu'; threads: number };
  fetchBytes(url: string): Promise<Uint8Array>;
  /** A trained model, to segment with. */
  useModel(bytes: Uint8Array, name: string): void;
  download(bytes: Uint8Array, name: string): void;
  say(text: string): void;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const num = (id: string) => Number(($(id) as HTMLInputElement).value);
/** How many bundled training cases start labelled, as in configs/demo.json. */
const BUNDLED_LABELLED = 8;

export function initTrainPanel(host: TrainPanelHost) {
  const pool: PoolCase[] = [];
  let worker: Worker | null = null;
  let its: IterationLog[] = [], vals: ValidationLog[] = [];
  let last: { iteration: number; state: Uint8Array } | null = null;
  let drawn = 0;

  const byRole = (r: Role) => pool.filter((c) => c.role === r);

  /** The settings as a config; the data section names the page's cases, since there are no files. */
  function settings() {
    const iterations = num('train-iterations');
    const train = [...byRole('labelled'), ...byRole('unlabelled')], validation = byRole('validation');
    const names = (cs: PoolCase[]) => cs.map((c) => c.name).join(', ');
    return {
      name: 'in-page', method: ($('train-method') as HTMLSelectElement).value,
      data: { root: 'the page', train: names(train), labeled: byRole('labelled').length, foreground: 'nonzero',
              ...(validation.length ? { validation: names(validation) } : {}) },
      model: { nFilters: num('train-filters') },
      patch: ($('train-patch') as HTMLInputElement).value.split(/[ ,×x]+/).map(Number),
      batch: { labeled: 2, unlabeled: 2 },
      iterations,
      seed: num('train-seed'),
      // λ ramps over the whole run, as the paper's 40 steps of 150 span its 6000 iterations
      consistency: { weight: 0.1, rampup: 40, every: Math.max(1, Math.round(iterations / 40)) },
      validation: { every: validation.length ? num('train-validate-every') : 0, stride: [16, 16, 16] },
      checkpoint: { every: num('train-checkpoint-every') },
    };
  }
  const writeSettings = () => { ($('train-config') as HTMLTextAreaElement).value = JSON.stringify(settings(), null, 2); };

  function showPool() {
    const body = $('train-cases').querySelector('tbody')!;
    body.replaceChildren(...pool.map((c, i) => {
      const row = document.createElement('tr');
      const name = document.createElement('td');
      name.textContent = c.name + (c.label ? '' : ' (no label)');
      const role = document.createElement('select');
      for (const r of ['labelled', 'unlabelled', 'validation', 'unused']) role.add(new Option(r, r, false, r === c.role));
      role.addEventListener('change', () => { c.role = role.value as PoolCase['role']; showPool(); });
      const remove = document.createElement('button');
      remove.textContent = '×';
      remove.title = 'remove';
      remove.addEventListener('click', () => { pool.splice(i, 1); showPool(); });
      const cell = document.createElement('td');
      cell.append(role);
      const cell2 = document.createElement('td');
      cell2.append(remove);
      row.append(name, cell, cell2);
      return row;
    }));
    $('train-pool').textContent = `${byRole('labelled').length} labelled, ${byRole('unlabelled').length} unlabelled, ${byRole('validation').length} validation`;
    writeSettings();
  }

  function add(c: PoolCase) {
    const at = pool.findIndex((p) => p.name === c.name);
    if (at >= 0) pool[at] = c; else pool.push(c);
  }

  async function addBundled() {
    const list = async (f: string) => (new TextDecoder().decode(await host.fetchBytes(`data/${f}`))).split('\n').map((s) => s.trim()).filter(Boolean);
    const train = await list('train.list'), evaluation = await list('eval.list');
    const read = async (id: string, role: Role) => add({ name: id, image: await host.fetchBytes(`data/images/${id}`), label: await host.fetchBytes(`data/labels/${id}`), role });
    for (const [i, id] of train.entries()) await read(id, i < BUNDLED_LABELLED ? 'labelled' : 'unlabelled');
    for (const id of evaluation) await read(id, 'validation');
    showPool();
  }

  function setRunning(on: boolean) {
    ($('train-start') as HTMLButtonElement).disabled = on;
    ($('train-continue') as HTMLButtonElement).disabled = on || !last;
    ($('train-pause') as HTMLButtonElement).disabled = !on;
    ($('train-stop') as HTMLButtonElement).disabled = !on;
    ($('train-pause') as HTMLButtonElement).textContent = 'Pause';
    ($('download-state') as HTMLButtonElement).disabled = !last;
    document.body.dataset.training = on ? 'running' : 'idle';
  }

  const log = (line: string) => {
    const pre = $('train-log');
    pre.textContent += `${line}\n`;
    pre.scrollTop = pre.scrollHeight;
  };

  function draw(force = false) {
    // a redraw per iteration would cost more than a fast iteration: every 10, and at the end
    if (!force && its.length - drawn < 10) return;
    drawn = its.length;
    $('train-curves').innerHTML = trainingCurvesSvg({ iterations: its, validation: vals }, { title: 'training in this page' });
  }

  function onMessage(m: FromWorker) {
    switch (m.kind) {
      case 'info': log(m.message); break;
      case 'iteration': {
        // a run resumed from an earlier checkpoint replaces what came after it
        if (its.length && its[its.length - 1].iteration >= m.record.iteration) {
          its = its.filter((r) => r.iteration < m.record.iteration);
          vals = vals.filter((r) => r.iteration <= m.record.iteration);
          drawn = 0;
        }
        its.push(m.record);
        const terms = Object.entries(m.record.terms).map(([k, v]) => `${k} ${v.toPrecision(4)}`).join(', ');
        log(`iteration ${m.record.iteration + 1}/${m.total}: loss ${m.record.loss} (${terms})`);
        ($('train-progress') as HTMLProgressElement).value = (m.record.iteration + 1) / m.total;
        draw();
        break;
      }
      case 'validation':
        vals.push(m.record);
        log(`validation after ${m.record.iteration} iterations: Dice ${m.record.dice.toFixed(4)} on ${m.record.cases} case(s)`);
        draw(true);
        break;
      case 'checkpoint': last = { iteration: m.iteration, state: m.state }; ($('download-state') as HTMLButtonElement).disabled = false; break;
      case 'paused': log(`paused after ${m.iteration} iterations`); ($('train-pause') as HTMLButtonElement).textContent = 'Resume'; break;
      case 'running': log('running'); ($('train-pause') as HTMLButtonElement).textContent = 'Pause'; break;
      case 'done': {
        last = { iteration: m.iteration, state: m.state };
        log(`${m.stopped ? 'stopped' : 'done'} after ${m.iteration} iterations; the model is loaded for Segment`);
        draw(true);
        host.useModel(m.model, `trained-in-page-${($('train-method') as HTMLSelectElement).value}-${m.iteration}.safetensors`);
        setRunning(false);
        document.body.dataset.trained = String(m.iteration);
        break;
      }
      case 'error':
        host.say(`training: ${m.message}`);
        console.error(`training: ${m.message}`);
        setRunning(false);
        break;
    }
  }

  function workerFor(): Worker {
    if (worker) return worker;
    const w = new Worker(new URL('train-worker.js', location.href), { type: 'module' });
    w.onmessage = (e: MessageEvent<FromWorker>) => onMessage(e.data);
    w.onerror = (e) => {
      // the page keeps the last checkpoint: Continue resumes from it in a fresh worker
      host.say(`the training worker failed (${e.message})${last ? `; continue from its checkpoint at iteration ${last.iteration}` : ''}`);
      console.error(`training worker: ${e.message}`);
      worker = null;
      setRunning(false);
    };
    worker = w;
    return w;
  }

  function start(resume?: { name: string; bytes: Uint8Array }) {
    const config = ($('train-config') as HTMLTextAreaElement).value;
    JSON.parse(config); // a typo in the JSON is reported here, before the worker starts
    const strip = (c: PoolCase): CaseFiles => ({ name: c.name, image: c.image, label: c.label });
    const be = host.backend();
    const msg: ToWorker = { kind: 'start', backend: be.name, threads: be.threads, config, resume,
                            labelled: byRole('labelled').map(strip), unlabelled: byRole('unlabelled').map(strip), validation: byRole('validation').map(strip) };
    if (!resume) { its = []; vals = []; drawn = 0; $('train-log').textContent = ''; }
    delete document.body.dataset.trained;
    setRunning(true);
    workerFor().postMessage(msg);
  }

  for (const id of ['train-method', 'train-iterations', 'train-seed', 'train-filters', 'train-patch', 'train-validate-every', 'train-checkpoint-every']) {
    $(id).addEventListener('change', writeSettings);
  }
  const guarded = (f: () => Promise<void> | void) => async () => {
    host.say('');
    try { await f(); } catch (e) { host.say((e as Error).message); console.error(e); }
  };
  $('add-case').addEventListener('click', guarded(() => {
    const c = host.loadedCase();
    if (!c) throw new Error('load an image (and its label) first');
    add({ ...c, role: c.label ? 'labelled' : 'unlabelled' });
    showPool();
  }));
  $('add-bundled').addEventListener('click', guarded(addBundled));
  $('train-start').addEventListener('click', guarded(async () => {
    const f = ($('train-resume') as HTMLInputElement).files?.[0];
    start(f ? { name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) } : undefined);
  }));
  $('train-continue').addEventListener('click', guarded(() => start({ name: `the page's checkpoint at iteration ${last!.iteration}`, bytes: last!.state })));
  $('train-pause').addEventListener('click', () => {
    const pausing = ($('train-pause') as HTMLButtonElement).textContent === 'Pause';
    worker?.postMessage({ kind: pausing ? 'pause' : 'continue' } satisfies ToWorker);
  });
  $('train-stop').addEventListener('click', () => worker?.postMessage({ kind: 'stop' } satisfies ToWorker));
  $('download-state').addEventListener('click', () => host.download(last!.state, `in-page-checkpoint-${last!.iteration}.safetensors`));
  setRunning(false);
  showPool();
}
