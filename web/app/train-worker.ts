// Training in a worker, so the page stays responsive: the same TrainingSession that `voxgrad train`
// drives, on cases read from the bytes the page sends, one iteration at a time with a turn of the
// event loop between, so that pause, continue and stop arrive. A checkpoint's bytes go back to the
// page on the config's schedule, so a crash loses at most that many iterations.
import * as vg from '../../index.ts';
import { prepareCase } from '../../datasets/prepare.ts';
import { toTrainCase, type TrainCase } from '../../train/loop/batches.ts';
import { parseConfig, type TrainConfig } from '../../train/loop/config.ts';
import { TrainingSession } from '../../train/loop/session.ts';
import { trainingIdentity } from '../../train/loop/training-state.ts';
import { createMethod } from '../../train/methods/index.ts';
import type { CaseFiles, FromWorker, ToWorker } from './train-protocol.ts';

const post = (m: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

let paused = false, stopping = false;
let wake: (() => void) | null = null;
const turn = () => new Promise<void>((ok) => setTimeout(ok, 0));

async function readCase(c: CaseFiles, config: TrainConfig, needsLabel: boolean): Promise<TrainCase> {
  if (needsLabel && !c.label) throw new Error(`${c.name}: a labelled or validation case needs its label file`);
  const image = await vg.parseVolume(c.image, c.name);
  // the methods never read an unlabelled case's label: zeros stand in for it
  const label = needsLabel ? await vg.parseVolume(c.label!, `labels/${c.name}`) : { ...image, data: new Float32Array(image.data.length) };
  const d = config.data;
  return toTrainCase(prepareCase(c.name, image, label, { normalization: d.normalization ?? 'zscore', binaryLabels: false, downsample: d.downsample ?? 1 }),
                     d.foreground);
}

async function start(m: Extract<ToWorker, { kind: 'start' }>) {
  if (m.backend === 'wasm') await vg.setWasmThreads(m.threads);
  await vg.setBackend(m.backend);
  const be = vg.getBackend() as vg.Backend & { adapterName?: string; threads?: number };
  const config = parseConfig(JSON.parse(m.config), "the page's training settings", (p) => p);
  const method = createMethod(config);
  const train = method.unlabeled ? [...m.labelled, ...m.unlabelled] : m.labelled;
  post({ kind: 'info', message: `${config.method} on ${be.name} (${be.adapterName ?? `${be.threads ?? 1} thread(s)`}): ` +
                                `reading ${train.length} training and ${m.validation.length} validation case(s)` });
  const cases: TrainCase[] = [];
  for (const [i, c] of train.entries()) cases.push(await readCase(c, config, i < m.labelled.length));
  const validation: TrainCase[] = [];
  for (const c of m.validation) validation.push(await readCase(c, config, true));
  const session = new TrainingSession(config, cases, config.validation.every > 0 ? validation : [], "the page's case list");
  const identity = trainingIdentity(config);
  try {
    if (m.resume) {
      session.restore(vg.decodeSafetensors(m.resume.bytes), m.resume.name, identity);
      post({ kind: 'info', message: `resumed from ${m.resume.name} at iteration ${session.iteration}` });
    }
    const total = config.iterations;
    while (session.iteration < total && !stopping) {
      if (paused) {
        post({ kind: 'paused', iteration: session.iteration });
        await new Promise<void>((ok) => { wake = ok; });
        if (stopping) break;
        post({ kind: 'running' });
      }
      post({ kind: 'iteration', record: await session.next(), total });
      if (session.validationDue(total)) post({ kind: 'validation', record: await session.validate() });
      if (session.checkpointDue(total)) {
        const state = await session.encodeState(identity);
        post({ kind: 'checkpoint', iteration: session.iteration, state }, [state.buffer]);
      }
      await turn();
    }
    const model = await session.encodeModel(), state = await session.encodeState(identity);
    post({ kind: 'done', iteration: session.iteration, stopped: session.iteration < total, model, state }, [model.buffer, state.buffer]);
  } finally {
    session.dispose();
  }
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  if (m.kind === 'start') {
    paused = false;
    stopping = false;
    start(m).catch((err: Error) => post({ kind: 'error', message: err.message }));
  } else if (m.kind === 'pause') {
    paused = true;
  } else {
    if (m.kind === 'stop') stopping = true;
    paused = false;
    wake?.();
    wake = null;
  }
};
