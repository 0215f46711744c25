// Training against PyTorch (fixtures from test/train_reference.py): the schedules, every loss term
// with its gradient, the entropy, the EMA and SGD updates on fixed tensors, and two whole UG-MCL
// iterations of the dual-head V-Net from the same weights with the reference's own dropout masks
// and noise — every loss term and the updated student, teacher and momentum — on every backend.
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';
import { VNet } from '../nn/vnet.ts';
import { diceLoss, crossTaskConsistency, maskedConsistency, predictiveEntropy, sdmToMask } from '../train/losses.ts';
import { Ugmcl, UGMCL_CODE, UGMCL_PAPER } from '../train/methods/ugmcl.ts';
import { asChannel, foreground, segmentationTerms } from '../train/methods/segmentation-terms.ts';
import { trainingStep } from '../train/loop/step.ts';
import { Sgd } from '../train/optim/sgd.ts';
import { consistencyWeight, emaDecay, learningRate, sigmoidRampup, uncertaintyThreshold } from '../train/schedules.ts';
import { computeSdf } from '../train/targets/sdf.ts';
import { teacherUncertainty } from '../train/teacher/passes.ts';
import { updateEma } from '../train/teacher/ema.ts';
import { testBackends, useBackend } from './helpers/backends.ts';
import { assertClose, relativeError } from './helpers/compare.ts';
import { decodeF32, repoRoot, type FixtureArray } from './helpers/fixtures.ts';
import { RecordedDraws } from './helpers/recorded-draws.ts';

const units = JSON.parse(readFileSync(`${repoRoot}test/fixtures/train_units.json`, 'utf8'));
const iterPath = `${repoRoot}test/fixtures/ugmcl_iteration.safetensors`;
const iter = vg.decodeSafetensors(readFileSync(iterPath), iterPath);
const arr = (a: FixtureArray) => decodeF32(a.data);
const t = (a: FixtureArray) => vg.tensor(arr(a), a.shape);
const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(Math.abs(b), 1e-12), `${what}: ${a} vs ${b}`);

const schedules = suite('schedules (pure functions of the iteration)');
schedules('sigmoid ramp-up, λ(t), thr(t), lr(t) and α(t) equal the reference', () => {
  for (const c of units.sigmoid_rampup) close(sigmoidRampup(c.x, c.L), c.value, 1e-12, `r(${c.x}, ${c.L})`);
  for (const c of units.consistency_weight) close(consistencyWeight(c.t, { weight: 0.1, rampup: 40, every: 150 }), c.value, 1e-12, `λ(${c.t})`);
  for (const c of units.threshold) close(uncertaintyThreshold(c.t, c.tMax), c.value, 1e-12, `thr(${c.t})`);
  for (const c of units.lr) close(learningRate(c.t, { base: 0.01, step: 2500, gamma: 0.1 }), c.value, 1e-12, `lr(${c.t})`);
  for (const c of units.ema_alpha) close(emaDecay(c.t, 0.99), c.value, 1e-12, `α(${c.t})`);
});
schedules.run();

for (const be of testBackends()) {
  const s = suite(`training units against PyTorch [${be.name}]`);
  let ok = false;
  s.before(async () => { ok = await useBackend(be.name); });
  const L = units.losses;
  const nL = L.labeled;
  const value = async (f: (...xs: vg.Tensor[]) => vg.Tensor, inputs: vg.Tensor[]) => {
    const [v, grads] = vg.valueAndGrad(f, inputs);
    const out = { value: await v.item(), grads: await Promise.all(grads.map((g) => g.data())) };
    v.dispose();
    grads.forEach((g) => g.dispose());
    return out;
  };

  s('L_ce, L_dice, L_dis (MSE to the SDF, Dice on σ(−1500·d)) with their gradients, and our SDF of the labels', async () => {
    if (!ok) return;
    for (const [name, c] of Object.entries<any>(L.cases)) {
      const z = t(L.z), d = t(L.d);
      const y = arr(c.y), vol = y.length / L.z.shape[0];
      const yL = vg.tensor(y.slice(0, nL * vol), [nL, ...L.u.shape.slice(1)]);
      const ours = new Float32Array(nL * vol);
      for (let b = 0; b < nL; b++) ours.set(computeSdf(y.subarray(b * vol, (b + 1) * vol), L.u.shape.slice(1)), b * vol);
      assertClose(ours, arr(c.sdf), 1e-6, `${name}: SDF of the labels`);
      const sdf = vg.tensor(ours, [nL, ...L.u.shape.slice(1)]);
      const ce = await value((z) => segmentationTerms(z, vg.softmax(z, 1), yL, nL).ce, [z]);
      const dice = await value((z) => segmentationTerms(z, vg.softmax(z, 1), yL, nL).dice, [z]);
      const dL = (d: vg.Tensor) => foreground(vg.slice(d, [[0, nL]]));
      const mse = await value((d) => vg.mse(dL(d), asChannel(sdf)), [d]);
      const ddice = await value((d) => diceLoss(sdmToMask(dL(d)), asChannel(yL)), [d]);
      for (const [what, got, ref] of [['ce', ce, c.ce], ['dice', dice, c.dice], ['dis_mse', mse, c.dis_mse], ['dis_dice', ddice, c.dis_dice]] as const) {
        close(got.value, ref.value, be.forwardTol, `${name} ${what}`);
        assertClose(got.grads[0], arr(ref.grad_z ?? ref.grad_d), be.gradTol, `${name} ${what} gradient`);
      }
      [z, d, yL, sdf].forEach((x) => x.dispose());
    }
  });

  s('masked intra-task consistency (seg and SDM parts), cross-task consistency, and the entropy', async () => {
    if (!ok) return;
    const z = t(L.z), d = t(L.d), zt = t(L.z_teacher), dt = t(L.d_teacher);
    const m = vg.reshape(t(L.mask), [L.u.shape[0], 1, ...L.u.shape.slice(1)]);
    const pt = vg.softmax(zt, 1);
    const seg = await value((z) => maskedConsistency(vg.softmax(z, 1), pt, m), [z]);
    close(seg.value, L.itc_seg.value, be.forwardTol, 'itc_seg');
    assertClose(seg.grads[0], arr(L.itc_seg.grad_z), be.gradTol, 'itc_seg gradient');
    const sdm = await value((d) => maskedConsistency(d, dt, m), [d]);
    close(sdm.value, L.itc_sdm.value, be.forwardTol, 'itc_sdm');
    assertClose(sdm.grads[0], arr(L.itc_sdm.grad_d), be.gradTol, 'itc_sdm gradient');
    const ctc = await value((z, d) => crossTaskConsistency(vg.softmax(z, 1), d), [z, d]);
    close(ctc.value, L.ctc.value, be.forwardTol, 'ctc');
    assertClose(ctc.grads[0], arr(L.ctc.grad_z), be.gradTol, 'ctc gradient to f_seg');
    assertClose(ctc.grads[1], arr(L.ctc.grad_d), be.gradTol, 'ctc gradient to f_dis');
    const probs = t(units.entropy.probs);
    const u = predictiveEntropy(vg.mean(probs, 0));
    assertClose(await u.data(), arr(units.entropy.u), be.forwardTol, 'entropy');
    [z, d, zt, dt, m, pt, probs, u].forEach((x) => x.dispose());
  });

  s('EMA update and torch.optim.SGD (momentum, weight decay, lr changed between steps)', async () => {
    if (!ok) return;
    for (const c of units.ema.cases) {
      const teacher = new Holder(t(units.ema.teacher)), student = new Holder(t(units.ema.student));
      updateEma(teacher, student, c.alpha);
      assertClose(await teacher.w.data(), arr(c.value), be.forwardTol, `EMA α = ${c.alpha}`);
      teacher.dispose();
      student.dispose();
    }
    const S = units.sgd;
    const p = t(S.param0);
    p.requiresGrad = true;
    const sgd = new Sgd([['w', p]], { momentum: S.momentum, weightDecay: S.weight_decay });
    const grads = arr(S.grads), n = p.size;
    for (const [i, step] of S.steps.entries()) {
      p.grad?.dispose();
      p.grad = vg.tensor(grads.slice(i * n, (i + 1) * n), p.shape);
      sgd.step(S.lrs[i]);
      assertClose(await p.data(), arr(step.param), be.forwardTol, `SGD step ${i + 1}: parameter`);
      assertClose(await sgd.momentum.get('w')!.data(), arr(step.momentum_buffer), be.forwardTol, `SGD step ${i + 1}: momentum`);
    }
    sgd.dispose();
    p.grad?.dispose();
    p.dispose();
  });
  s.run();
}

/** A one-parameter module, for the EMA on fixed tensors. */
class Holder extends vg.nn.Module {
  readonly w: vg.Tensor;
  constructor(value: vg.Tensor) {
    super();
    this.w = this.registerParameter('w', value);
  }
}

// ---- two whole UG-MCL iterations ----

const get = (name: string) => {
  const x = iter.tensors.get(name);
  if (!x) throw new Error(`${iterPath} has no '${name}'`);
  return x;
};
const group = (prefix: string) => new Map([...iter.tensors].filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
const config = JSON.parse(iter.metadata.config);
const losses = (key: string) => JSON.parse(iter.metadata[key]);

function drawsFor(step: string): RecordedDraws {
  const masks = ['student', 'target', 'unc0', 'unc1', 'unc2', 'unc3'].map((k) =>
    [get(`${step}/mask/${k}/0`).data, get(`${step}/mask/${k}/1`).data] as [Float32Array, Float32Array]);
  const noise = ['target', 'unc0', 'unc1', 'unc2', 'unc3'].map((k) => get(`${step}/noise/${k}`).data);
  return new RecordedDraws(masks, noise);
}

function batch() {
  const x = get('x'), y = get('y');
  const vol = x.data.length / x.shape[0], nL = 2, spatial = y.shape.slice(1) as [number, number, number];
  const sdf = new Float32Array(nL * vol);
  for (let b = 0; b < nL; b++) sdf.set(computeSdf(y.data.subarray(b * vol, (b + 1) * vol), spatial), b * vol);
  return {
    image: vg.tensor(x.data, x.shape), label: vg.tensor(y.data.slice(0, nL * vol), [nL, ...spatial]),
    sdf: vg.tensor(sdf, [nL, ...spatial]), nLabeled: nL,
  };
}

function nets() {
  const student = new VNet({ ...config, seed: 1 }), teacher = new VNet({ ...config, seed: 2 });
  student.loadStateDict(group('init/student/'), 'init/student');
  teacher.loadStateDict(group('init/teacher/'), 'init/teacher');
  return { student, teacher };
}

const TERMS = ['ce', 'dice', 'dis', 'sup', 'itc_seg', 'itc_sdm', 'itc', 'ctc'] as const;

/**
 * The state after training against the reference, per tensor (max|a − b| / max|b|). `tol` holds
 * for tensors that start non-zero; batch-norm shifts start at 0, so their value is only the sum of
 * their updates, a sum of per-voxel gradients with heavy cancellation: there (and for the momentum)
 * float32 is measured at `sumTol` — float32 PyTorch itself lands 1.1e-3 from the float64
 * reference on these (the fixture's float32_check) — while ref64 holds 1e-6 everywhere.
 */
async function compareState(what: string, entries: [string, vg.Tensor][], prefix: string, tol: number, sumTol: number,
                            init?: Map<string, { data: Float32Array }>) {
  const over: string[] = [];
  for (const [name, tensor] of entries) {
    const e = relativeError(await tensor.data(), get(`${prefix}${name}`).data);
    const startsAtZero = !init || init.get(name)!.data.every((v) => v === 0);
    const limit = startsAtZero ? sumTol : tol;
    if (!(e <= limit)) over.push(`'${name}' ${e.toExponential(2)} > ${limit}`);
  }
  assert.equal(over, [], `${what}: ${over.join(', ')}`);
}

/**
 * The momentum after two steps is a sum of two gradients of the whole V-Net, where float32 and
 * float64 differ most (t = 2 crosses ReLU inputs within float32 error of 0). It is compared over all
 * buffers together, ‖a − b‖ / ‖b‖, against what float32 PyTorch itself reaches (float32_check).
 */
async function compareMomentum(entries: [string, vg.Tensor][], limit: number) {
  let diff = 0, norm = 0;
  for (const [name, tensor] of entries) {
    const a = await tensor.data(), b = get(`final/momentum/${name}`).data;
    for (let i = 0; i < b.length; i++) { diff += (a[i] - b[i]) ** 2; norm += b[i] ** 2; }
  }
  const e = Math.sqrt(diff / norm);
  assert.ok(e <= limit, `momentum after 2 iterations: relative L2 error ${e.toExponential(2)} > ${limit.toExponential(2)}`);
}

const float32Spread = JSON.parse(iter.metadata.float32_check);

for (const be of [{ name: 'ref64', forwardTol: 1e-6, gradTol: 1e-6, sumTol: 1e-6 }, ...testBackends().map((b) => ({ ...b, sumTol: 10 * b.gradTol }))]) {
  const s = suite(`two whole UG-MCL iterations against PyTorch [${be.name}]`);
  let ok = false;
  s.before(async () => { ok = await useBackend(be.name); });
  const consistency = { weight: 1, rampup: 0, every: 150 };

  s("the teacher's uncertainty from the reference's masks and noise", async () => {
    if (!ok) return;
    const { student, teacher } = nets();
    const draws = drawsFor('s1');
    draws.dropoutMasks(4, [32, 2]); draws.dropoutMasks(4, [32, 2]); draws.inputNoise(get('x').data.length); // the student's and the target pass's
    const { image } = batch();
    const u = teacherUncertainty(teacher, image, draws, 8);
    assertClose(await u.data(), get('s1/u').data, be.forwardTol * 10, 'u (entropy, 8 passes)');
    assert.is(draws.left, 0);
    [u, image].forEach((x) => x.dispose());
    student.dispose();
    teacher.dispose();
  });

  s('paper variant, t = 1 and 2: every loss term, then the student, the EMA teacher and the momentum', async () => {
    if (!ok) return;
    const { student, teacher } = nets();
    const method = new Ugmcl(UGMCL_PAPER, consistency, 4);
    const sgd = new Sgd(student.namedParameters(), { momentum: 0.9, weightDecay: 1e-4 });
    for (const step of [1, 2]) {
      const draws = drawsFor(`s${step}`);
      const ref = losses(`s${step}_losses`);
      const values = await trainingStep({ method, student, teacher, sgd, draws }, step, ref.lr, emaDecay(step), batch);
      assert.is(draws.left, 0, 'every supplied draw used');
      for (const k of TERMS) close(values[k], ref[k], be.gradTol, `t = ${step}: ${k}`);
      close(values.loss, ref.total, be.gradTol, `t = ${step}: total`);
      close(values.mask, ref.mask_fraction, 1e-12, `t = ${step}: mask fraction`);
      assert.equal(method.schedule(step), { lambda: ref.lambda, threshold: ref.threshold });
    }
    await compareState('student after 2 iterations', [...student.stateDict()], 'final/student/', be.gradTol, be.sumTol, group('init/student/'));
    await compareState('teacher after 2 iterations', [...teacher.stateDict()], 'final/teacher/', be.gradTol, be.sumTol, group('init/teacher/'));
    await compareMomentum([...sgd.momentum], be.name === 'ref64' ? 1e-6 : 3 * float32Spread.momentum_rel_l2);
    sgd.dispose();
    student.dispose();
    teacher.dispose();
  });

  s("the official code's variant, t = 1", async () => {
    if (!ok) return;
    const { student, teacher } = nets();
    const method = new Ugmcl({ ...UGMCL_PAPER, ...UGMCL_CODE }, consistency, 4);
    const sgd = new Sgd(student.namedParameters(), { momentum: 0.9, weightDecay: 1e-4 });
    const ref = losses('code_s1_losses');
    const values = await trainingStep({ method, student, teacher, sgd, draws: drawsFor('s1') }, 1, ref.lr, emaDecay(1), batch);
    // the code variant has no SDM part in L_itc (the reference leaves it 0; ours is computed, weighted 0)
    // its L_itc is the seg part alone, which the reference names itc_seg after the 0.5/(2Σm) scaling
    for (const k of TERMS.filter((k) => !k.startsWith('itc_'))) close(values[k], ref[k], be.gradTol, `code variant: ${k}`);
    await compareState('student after the code variant step', [...student.stateDict()], 'code/final/student/', be.gradTol, be.sumTol, group('init/student/'));
    sgd.dispose();
    student.dispose();
    teacher.dispose();
  });
  s.run();
}
