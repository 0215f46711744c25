"""PyTorch reference for voxgrad's UG-MCL training code (docs/method.md §3–§5).

Written from the spec, on the V-Net of test/vnet_reference.py (imported from there, with its
GivenMaskDropout3d and safetensors reader/writer). Everything is computed in float64 from float32
inputs and weights and stored as float32 (int64 for BN num_batches_tracked). Run from the
repository root (about 70 s on one core):
  /usr/bin/python3 test/train_reference.py
It writes two fixtures.

test/fixtures/train_units.json -- unit checks. Arrays are {"shape": [...], "data": base64 of
float32 little-endian, C order}; scalars are JSON numbers (float64).
  sigmoid_rampup      [{x, L, value}]: r(x, L) = exp(-5(1 - clip(x,0,L)/L)^2), 1 if L = 0.
  consistency_weight  [{t, value}]: 0.1 * r(floor(t/150), 40).
  threshold           [{t, tMax, value}]: (0.75 + 0.25 r(t, tMax)) ln 2, tMax = 6000.
  lr                  [{t, value}]: 0.01 * 0.1^floor(t/2500).
  ema_alpha           [{t, value}]: min(1 - 1/(t+1), 0.99).
  losses              fixed tensors, batch 4 of which the first `labeled` = 2 are labelled,
                      2 channels, spatial 5x6x7: z (student logits), d (student SDM output; d is
                      itself the input), z_teacher, d_teacher, u [4,5,6,7] (entropy.u), threshold, mask
                      m = 1(u < threshold) [4,5,6,7], mask_fraction, margin = min|u - threshold|;
                      `cases`: {"blobs": both labelled samples have foreground, "empty": the
                      second labelled sample's label is empty}, each with y [4,5,6,7] (0/1;
                      only y[:2] is used), sdf [2,5,6,7] (DTC compute_sdf(y[:2])), and the
                      terms ce, dice, dis_mse, dis_dice as {value, grad_z | grad_d} (gradients
                      full [4,2,5,6,7], zero where a term does not reach);
                      itc_seg {value, grad_z}, itc_sdm {value, grad_d}, ctc {value, grad_z,
                      grad_d} (label independent).
  entropy             {probs [8,4,2,5,6,7], u [4,5,6,7]}: u = -sum_c pbar_c ln(pbar_c + 1e-6)
                      with pbar the mean over the first axis; losses uses this u.
  ema                 {teacher, student, cases: [{alpha, value}]}: alpha*teacher + (1-alpha)*student.
  sgd                 {lr, momentum, weight_decay, param0, grads [4,...], lrs [4], steps:
                      [{param, momentum_buffer}]}: torch.optim.SGD, param_group['lr'] set before
                      each step.

test/fixtures/ugmcl_iteration.safetensors -- two whole UG-MCL iterations (t = 1, 2, as if resumed
at t = 1 with a fresh optimizer: the momentum buffers start at the first step's d_p) of
VNet(1, 2, n_filters=2, batchnorm, dropout, seg+sdm) at x [4,1,16,16,16]; the first 2 samples
labelled. Schedules: lr(t) = 0.01*0.1^floor(t/2), lambda(t) = 1.0*r(floor(t/150), 0) = 1,
thr(t) = (0.75 + 0.25 r(t, 4)) ln 2, alpha(t) = min(1 - 1/(t+1), 0.99), SGD momentum 0.9, weight
decay 1e-4 on every parameter (PyTorch SGD: d_p = g + wd*p, buf = d_p then 0.9*buf + d_p,
p -= lr*buf), beta = 0.75. The iteration is the paper's (spec §3.2): L = CE + Dice + MSE(d, sdf)
+ lambda*(beta*itc(p, p') + (1-beta)*itc(d, d')) + lambda*ctc; step; EMA of the parameters only.
Tensors:
  init/student/<state-dict name>, init/teacher/<name>   full state dicts (torch seeds 1 and 2,
        PyTorch default init; then in both nets out_conv2's (seg) weight and bias x4, so the
        mask is neither all 0 nor all 1, and out_conv's (SDM) x1/16, see HEAD_SCALE);
  x [4,1,16,16,16], y [4,16,16,16] (0/1 float32; only y[:2] is used), sdf [2,16,16,16] (float64
        compute_sdf(y[:2]) rounded to float32);
  s{t}/mask/student/0 [4,32], s{t}/mask/student/1 [4,2]   keep-masks (0/1) of the two Dropout3d
        (x5, then x9; kept channels are scaled by 2; every sample keeps an x9 channel);
  s{t}/noise/target [4,1,16,16,16], s{t}/mask/target/0 [4,32], /1 [4,2];
  s{t}/noise/unc{k} [8,1,16,16,16], s{t}/mask/unc{k}/0 [8,32], /1 [8,2], k = 0..3 (input of pass
        k: x.repeat(2,1,1,1,1) + noise);
  s{t}/u [4,16,16,16]   the teacher's entropy (sample b: rows b and b+4 of each of the 4 passes);
  final/student/<name>, final/teacher/<name> (full state dicts), final/momentum/<param name>,
        after iteration 2;
  code/final/student/<name>   after one iteration at t = 1 with the official code's losses (spec
        §3.2: 0.5*(CE + Dice + Dice(sigmoid(-1500 d))), 0.5*sum m(p-p')^2/(2 sum m + 1e-16), ctc).
Metadata (JSON strings): config (voxgrad naming), s1_losses, s2_losses, code_s1_losses (ce, dice,
dis, sup, itc_seg, itc_sdm, itc, ctc, total, lambda, threshold, lr, alpha, mask_fraction; for the
code variant dis is the SDM Dice, itc = 0.5*itc_seg, itc_sdm = 0), relu_margin (smallest |ReLU
input| over every forward pass), student_relu_margin (the student's passes only),
threshold_margin (smallest |u - thr|), seed ([seed_a, seed_b], see iteration_fixture), head_scale,
schedule, float32_check (the same script run in float32 PyTorch, compared with this reference:
see float32_check(); a guide to a correct float32 engine's spread).
"""
import base64
import contextlib
import copy
import json
import math
import pathlib
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from scipy.ndimage import distance_transform_edt
from skimage.segmentation import find_boundaries

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import vnet_reference as vr  # noqa: E402

FIXTURES = pathlib.Path(__file__).resolve().parent / 'fixtures'
CONFIG = {'nChannels': 1, 'nClasses': 2, 'nFilters': 2, 'normalization': 'batchnorm', 'hasDropout': True,
          'heads': 'seg+sdm'}
# Factors on the heads' initial weights and biases (powers of two, so the scaled float32 weights are
# exact). The seg head's x4 spreads the probabilities so the uncertainty mask covers 70-80% of the
# voxels (x1: under 5% at t = 1). The SDM head is scaled down: at x1..x8, float32's error in d
# (~1e-4, grown through the 1x1x1 bottleneck's batch norm over 4 samples) times sigmoid(-1500 d)'s
# slope made a float32 run's first step differ from this reference by 5-50%; at x1/16 by ~1e-4.
HEAD_SCALE = {'sdm': 1 / 16, 'seg': 4.0}
LABELED, BATCH, SIZE, K_SDM, BETA, T_MC = 2, 4, 16, 1500.0, 0.75, 8
STUDENT_SEED, TEACHER_SEED = 1, 2
N_CANDIDATES = (64, 128)  # seeds tried for iteration 1's draws, then for iteration 2's
MIN_THRESHOLD_MARGIN = 1e-4
MIN_RELU_RATIO = 10.0
DTYPE = torch.float64  # the reference's precision (float32 only to gauge a float32 engine's error)


# ---- schedules (spec §3.4) ----

def sigmoid_rampup(x, length):
    if length == 0:
        return 1.0
    phase = 1.0 - float(np.clip(x, 0.0, length)) / length
    return float(np.exp(-5.0 * phase * phase))


def consistency_weight(t, c=0.1, rampup=40, period=150):
    return c * sigmoid_rampup(t // period, rampup)


def threshold(t, t_max):
    return (0.75 + 0.25 * sigmoid_rampup(t, t_max)) * math.log(2)


def step_lr(t, base=0.01, period=2500):
    return base * 0.1 ** (t // period)


def ema_alpha(t, decay=0.99):
    return min(1 - 1 / (t + 1), decay)


# ---- losses (spec §3.1, §3.2) ----

def cross_entropy(z, y):
    return F.cross_entropy(z[:LABELED], y[:LABELED].long())


def dice_loss(p, g):
    smooth = 1e-5
    return 1 - (2 * (p * g).sum() + smooth) / ((p * p).sum() + (g * g).sum() + smooth)


def compute_sdf(y):
    """DTC's compute_sdf on the labelled samples y [n, ...] (0/1): per sample with foreground,
    normalised EDT(background) - normalised EDT(foreground), 0 on the inner boundary; 0 without."""
    y = np.asarray(y).astype(np.uint8)
    out = np.zeros(y.shape, dtype=np.float64)
    for b in range(y.shape[0]):
        pos = y[b].astype(bool)
        if not pos.any():
            continue
        neg = ~pos
        posdis = distance_transform_edt(pos)
        negdis = distance_transform_edt(neg)
        boundary = find_boundaries(pos, mode='inner').astype(np.uint8)
        sdf = ((negdis - negdis.min()) / (negdis.max() - negdis.min())
               - (posdis - posdis.min()) / (posdis.max() - posdis.min()))
        sdf[boundary == 1] = 0
        out[b] = sdf
    return torch.from_numpy(out).to(DTYPE)


def dis_mse(d, sdf):
    return ((d[:LABELED, 1] - sdf) ** 2).mean()


def sdm_to_mask(d):
    return torch.sigmoid(-K_SDM * d)


def dis_dice(d, y):
    return dice_loss(sdm_to_mask(d[:LABELED, 1]), y[:LABELED].to(d.dtype))


def masked_consistency(a, a_teacher, m):
    """Paper Eq. 4: sum_{b,c,v} m (a - a')^2 / (sum_{b,v} m + 1e-16), m [B, ...] over channels."""
    return (m.unsqueeze(1) * (a - a_teacher) ** 2).sum() / (m.sum() + 1e-16)


def code_consistency(p, p_teacher, m):
    """The official code's term (UA-MT's): sum m (p - p')^2 / (2 sum m + 1e-16)."""
    return (m.unsqueeze(1) * (p - p_teacher) ** 2).sum() / (2 * m.sum() + 1e-16)


def cross_task(d, z):
    return ((sdm_to_mask(d) - torch.softmax(z, 1)) ** 2).mean()


def entropy(pbar):
    return -(pbar * torch.log(pbar + 1e-6)).sum(1)


# ---- helpers ----

def f64(t):
    return t.detach().to(torch.float32).to(DTYPE)


def arr(t):
    t = torch.as_tensor(t).detach().to(torch.float32).contiguous()
    return {'shape': list(t.shape), 'data': base64.b64encode(t.numpy().astype('<f4').tobytes()).decode()}


def blobs(g, n, shape, count=(1, 3), radius=(2.0, 5.0)):
    """n label volumes, each the union of 1-3 random axis-aligned ellipsoids (0/1 float32)."""
    grid = torch.stack(torch.meshgrid(*[torch.arange(s, dtype=torch.float64) for s in shape], indexing='ij'))
    out = torch.zeros(n, *shape)
    for b in range(n):
        k = int(torch.randint(count[0], count[1] + 1, (1,), generator=g))
        for _ in range(k):
            centre = torch.tensor([float(torch.rand(1, generator=g)) * (s - 1) for s in shape], dtype=torch.float64)
            radii = radius[0] + (radius[1] - radius[0]) * torch.rand(len(shape), generator=g).double()
            r2 = (((grid - centre.view(-1, *[1] * len(shape))) / radii.view(-1, *[1] * len(shape))) ** 2).sum(0)
            out[b][r2 <= 1] = 1
    return out


def keep_mask(g, n, c, keep_one=False):
    """A Dropout3d(0.5) keep-mask [n, c]; with keep_one, a sample that would lose every channel
    keeps one drawn channel (the replacement index is always drawn, so the draws stay aligned)."""
    m = (torch.rand(n, c, generator=g) >= 0.5).to(torch.float32)
    fix = torch.randint(0, c, (n,), generator=g)
    if keep_one:
        empty = m.sum(1) == 0
        m[empty, fix[empty]] = 1
    return m


def noise(g, n):
    return (0.1 * torch.randn(n, 1, SIZE, SIZE, SIZE, generator=g)).clamp(-0.2, 0.2)


# ---- A. unit checks ----

def value_and_grads(fn, *inputs):
    leaves = [f64(t).requires_grad_(True) for t in inputs]
    v = fn(*leaves)
    grads = torch.autograd.grad(v, leaves)
    return float(v), grads


def units():
    g = torch.Generator().manual_seed(2024)
    shape = (BATCH, 2, 5, 6, 7)
    sp = shape[2:]
    z = 2.5 * torch.randn(shape, generator=g)
    # SDM outputs in [-1, 1] at scales from 1e-3 to 1, so sigmoid(-1500 d) is both saturated and not
    scale = 10 ** (-3 * torch.rand(shape, generator=g))
    d = torch.tanh(scale * torch.randn(shape, generator=g))
    z_t = 2.5 * torch.randn(shape, generator=g)
    d_t = torch.tanh(torch.randn(shape, generator=g))
    thr = threshold(3000, 6000)
    # 8 teacher predictions: a per-voxel base logit plus per-pass perturbation; redrawn until no
    # entropy lies within 1e-4 of the threshold
    for _ in range(100):
        base = 2.0 * torch.randn(BATCH, 2, *sp, generator=g)
        probs = torch.softmax(base + 1.0 * torch.randn(T_MC, BATCH, 2, *sp, generator=g), 2).to(torch.float32)
        u = entropy(f64(probs).mean(0))
        margin = float((u - thr).abs().min())
        if margin >= 1e-4:
            break
    m = (u < thr).to(DTYPE)

    losses = {'shape': list(shape), 'labeled': LABELED, 'z': arr(z), 'd': arr(d), 'z_teacher': arr(z_t),
              'd_teacher': arr(d_t), 'u': arr(u), 'threshold': thr,
              'mask': arr(m), 'mask_fraction': float(m.mean()), 'margin': margin, 'cases': {}}
    y_blobs = blobs(g, BATCH, sp, count=(1, 2), radius=(1.2, 2.6))
    y_empty = y_blobs.clone()
    y_empty[1] = 0
    for name, y in [('blobs', y_blobs), ('empty', y_empty)]:
        assert y_blobs[0].any() and (name == 'empty' or y_blobs[1].any())
        sdf = compute_sdf(y[:LABELED].numpy())
        case = {'y': arr(y), 'sdf': arr(sdf)}
        v, (gz,) = value_and_grads(lambda z_: cross_entropy(z_, y), z)
        case['ce'] = {'value': v, 'grad_z': arr(gz)}
        v, (gz,) = value_and_grads(lambda z_: dice_loss(torch.softmax(z_[:LABELED], 1)[:, 1], f64(y[:LABELED])), z)
        case['dice'] = {'value': v, 'grad_z': arr(gz)}
        v, (gd,) = value_and_grads(lambda d_: dis_mse(d_, sdf), d)
        case['dis_mse'] = {'value': v, 'grad_d': arr(gd)}
        v, (gd,) = value_and_grads(lambda d_: dis_dice(d_, y), d)
        case['dis_dice'] = {'value': v, 'grad_d': arr(gd)}
        losses['cases'][name] = case
    v, (gz,) = value_and_grads(lambda z_: masked_consistency(torch.softmax(z_, 1), torch.softmax(f64(z_t), 1), m), z)
    losses['itc_seg'] = {'value': v, 'grad_z': arr(gz)}
    v, (gd,) = value_and_grads(lambda d_: masked_consistency(d_, f64(d_t), m), d)
    losses['itc_sdm'] = {'value': v, 'grad_d': arr(gd)}
    v, (gd, gz) = value_and_grads(cross_task, d, z)
    losses['ctc'] = {'value': v, 'grad_z': arr(gz), 'grad_d': arr(gd)}

    teacher, student = torch.randn(3, 4, 5, generator=g), torch.randn(3, 4, 5, generator=g)
    ema = {'teacher': arr(teacher), 'student': arr(student),
           'cases': [{'alpha': a, 'value': arr(a * f64(teacher) + (1 - a) * f64(student))} for a in (0.0, 0.5, 0.99)]}

    param0 = torch.randn(4, 5, generator=g)
    grads = torch.randn(4, 4, 5, generator=g)
    lrs = [0.01, 0.01, 0.001, 0.001]
    p = nn.Parameter(f64(param0))
    opt = torch.optim.SGD([p], lr=0.01, momentum=0.9, weight_decay=1e-4)
    steps = []
    for i, lr in enumerate(lrs):
        for group in opt.param_groups:
            group['lr'] = lr
        p.grad = f64(grads[i])
        opt.step()
        steps.append({'param': arr(p), 'momentum_buffer': arr(opt.state[p]['momentum_buffer'])})
    sgd = {'lr': 0.01, 'momentum': 0.9, 'weight_decay': 1e-4, 'param0': arr(param0), 'grads': arr(grads),
           'lrs': lrs, 'steps': steps}

    result = {
        'sigmoid_rampup': [{'x': x, 'L': L, 'value': sigmoid_rampup(x, L)}
                           for L in (0, 1, 4, 40, 6000) for x in (-5, -0.5, 0, 0.5, 1, 2, 3.7, 20, 39, 40, 41, 3000, 6000, 7000)],
        'consistency_weight': [{'t': t, 'value': consistency_weight(t)} for t in (0, 149, 150, 2999, 5999, 6000, 7000)],
        'threshold': [{'t': t, 'tMax': 6000, 'value': threshold(t, 6000)} for t in (0, 1, 100, 1500, 3000, 5999, 6000, 7000)],
        'lr': [{'t': t, 'value': step_lr(t)} for t in (0, 2499, 2500, 4999, 5000, 5999)],
        'ema_alpha': [{'t': t, 'value': ema_alpha(t)} for t in (0, 1, 2, 98, 99, 100, 1000)],
        'losses': losses,
        'entropy': {'probs': arr(probs), 'u': losses['u']},
        'ema': ema,
        'sgd': sgd,
    }
    print(f'units: mask fraction {losses["mask_fraction"]:.3f}, min |u - thr| {margin:.2e}; '
          + ', '.join(f'{k} {losses["cases"]["blobs"][k]["value"]:.6f}' for k in ('ce', 'dice', 'dis_mse', 'dis_dice'))
          + f'; empty: dice {losses["cases"]["empty"]["dice"]["value"]:.6f}, dis_mse {losses["cases"]["empty"]["dis_mse"]["value"]:.6f}; '
          + ', '.join(f'{k} {losses[k]["value"]:.6f}' for k in ('itc_seg', 'itc_sdm', 'ctc')))
    return result


# ---- B. UG-MCL iterations ----

def init_state(seed):
    torch.manual_seed(seed)
    net = vr.build(CONFIG)
    with torch.no_grad():
        for m, scale in ((net.out_conv, HEAD_SCALE['sdm']), (net.out_conv2, HEAD_SCALE['seg'])):
            m.weight.mul_(scale)
            m.bias.mul_(scale)
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def network(state, log, tag):
    """A V-Net in DTYPE loaded from a state dict. Every ReLU appends (tag, t, module name, min |input|,
    input) to log, t = log.t being the iteration under way; the input itself only for the student
    and only if log.inputs."""
    net = vr.build(CONFIG).to(DTYPE)
    net.load_state_dict(state, strict=True)

    def hook(name):
        def record(_m, inp):
            x = inp[0].detach()
            log.append((tag, log.t, name, float(x.abs().min()),
                        x.to(torch.float64).clone() if log.inputs and tag == 'student' else None))
        return record

    for name, module in net.named_modules():
        if isinstance(module, nn.ReLU):
            module.register_forward_pre_hook(hook(name))
    return net.train()


class Log(list):
    t, inputs = None, False


@contextlib.contextmanager
def precision(dtype):
    """Runs the reference in another precision (float32: a stand-in for a float32 engine)."""
    global DTYPE
    old, DTYPE = DTYPE, dtype
    try:
        yield
    finally:
        DTYPE = old


def make_draws(seed_a, seed_b):
    """x, y and iteration 1's draws from generator seed_a; iteration 2's from seed_b."""
    f = CONFIG['nFilters']
    g = torch.Generator().manual_seed(seed_a)
    draws = {'x': torch.randn(BATCH, 1, SIZE, SIZE, SIZE, generator=g)}
    draws['y'] = blobs(g, BATCH, (SIZE,) * 3)
    for t in (1, 2):
        if t == 2:
            g = torch.Generator().manual_seed(seed_b)
        draws[f's{t}/mask/student/0'] = keep_mask(g, BATCH, 16 * f)
        draws[f's{t}/mask/student/1'] = keep_mask(g, BATCH, f, keep_one=True)
        draws[f's{t}/noise/target'] = noise(g, BATCH)
        draws[f's{t}/mask/target/0'] = keep_mask(g, BATCH, 16 * f)
        draws[f's{t}/mask/target/1'] = keep_mask(g, BATCH, f, keep_one=True)
        for k in range(T_MC // 2):
            draws[f's{t}/noise/unc{k}'] = noise(g, 2 * BATCH)
            draws[f's{t}/mask/unc{k}/0'] = keep_mask(g, 2 * BATCH, 16 * f)
            draws[f's{t}/mask/unc{k}/1'] = keep_mask(g, 2 * BATCH, f, keep_one=True)
    return draws


def schedule(t):
    return {'lr': 0.01 * 0.1 ** (t // 2), 'lambda': 1.0 * sigmoid_rampup(t // 150, 0), 'threshold': threshold(t, 4),
            'alpha': ema_alpha(t)}


def iteration(student, teacher, opt, t, draws, sdf, variant='paper', use_itc=True, use_ctc=True, use_itc_sdm=True,
              keep=None):
    """One UG-MCL iteration at t (spec §3.2-§3.4), in place on student, teacher and opt."""
    s = schedule(t)
    x, y = f64(draws['x']), f64(draws['y'])
    for group in opt.param_groups:
        group['lr'] = s['lr']
    # 1. student on the clean batch
    student.dropout = vr.GivenMaskDropout3d([draws[f's{t}/mask/student/0'], draws[f's{t}/mask/student/1']])
    d, z = student(x)
    p = torch.softmax(z, 1)
    with torch.no_grad():
        # 2. teacher target on x + noise
        teacher.dropout = vr.GivenMaskDropout3d([draws[f's{t}/mask/target/0'], draws[f's{t}/mask/target/1']])
        d_t, z_t = teacher(x + f64(draws[f's{t}/noise/target']))
        p_t = torch.softmax(z_t, 1)
        # 3. uncertainty: 4 passes over the batch repeated twice
        preds = []
        for k in range(T_MC // 2):
            teacher.dropout = vr.GivenMaskDropout3d([draws[f's{t}/mask/unc{k}/0'], draws[f's{t}/mask/unc{k}/1']])
            preds.append(teacher(x.repeat(2, 1, 1, 1, 1) + f64(draws[f's{t}/noise/unc{k}']))[1])
        preds = torch.softmax(torch.cat(preds), 1).reshape(T_MC, BATCH, 2, SIZE, SIZE, SIZE)
        u = entropy(preds.mean(0))
        m = (u < s['threshold']).to(DTYPE)
    # 4.-6. losses
    ce = cross_entropy(z, y)
    dice = dice_loss(p[:LABELED, 1], y[:LABELED])
    if variant == 'paper':
        dis = dis_mse(d, sdf)
        sup = ce + dice + dis
        itc_seg = masked_consistency(p, p_t, m)
        itc_sdm = masked_consistency(d, d_t, m)
        itc = BETA * itc_seg + ((1 - BETA) * itc_sdm if use_itc_sdm else 0)
    else:  # the official code (spec §3.2 "Exact UG-MCL code")
        dis = dis_dice(d, y)
        sup = 0.5 * (ce + dice + dis)
        itc_seg = code_consistency(p, p_t, m)
        itc_sdm = torch.zeros((), dtype=DTYPE)
        itc = 0.5 * itc_seg
    ctc = cross_task(d, z)
    total = sup + (s['lambda'] * itc if use_itc else 0) + (s['lambda'] * ctc if use_ctc else 0)
    # 7. step, then EMA of the teacher's parameters only
    opt.zero_grad()
    total.backward()
    opt.step()
    with torch.no_grad():
        params = dict(student.named_parameters())
        for name, tp in teacher.named_parameters():
            tp.mul_(s['alpha']).add_(params[name], alpha=1 - s['alpha'])
    if keep is not None:
        keep.update({f's{t}/u': u, f's{t}/student/d': d.detach(), f's{t}/student/z': z.detach()})
    losses = {'ce': ce, 'dice': dice, 'dis': dis, 'sup': sup, 'itc_seg': itc_seg, 'itc_sdm': itc_sdm, 'itc': itc,
              'ctc': ctc, 'total': total}
    losses = {k: float(v) for k, v in losses.items()}
    losses.update({'lambda': s['lambda'], 'threshold': s['threshold'], 'lr': s['lr'], 'alpha': s['alpha'],
                   'mask_fraction': float(m.mean())})
    return losses, float((u - s['threshold']).abs().min())


def optimizer(net):
    return torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)


def run(init, draws, iterations=(1, 2), variant='paper', keep=None, start=None, inputs=False, **flags):
    """The iterations from init (or from a snapshot `start` taken after earlier iterations)."""
    log = Log()
    log.inputs = inputs
    state = start or init
    student, teacher = network(state['student'], log, 'student'), network(state['teacher'], log, 'teacher')
    opt = optimizer(student)
    if start:
        opt.load_state_dict(start['opt'])
    sdf = compute_sdf(draws['y'][:LABELED].numpy())
    keep = {} if keep is None else keep
    losses, thr_margin, relu, student_relu = {}, {}, {}, {}
    for t in iterations:
        log.t = t
        losses[t], thr_margin[t] = iteration(student, teacher, opt, t, draws, sdf, variant, keep=keep, **flags)
        relu[t] = min(e[3] for e in log if e[1] == t)
        student_relu[t] = min(e[3] for e in log if e[1] == t and e[0] == 'student')
    snapshot = {'student': {k: v.clone() for k, v in student.state_dict().items()},
                'teacher': {k: v.clone() for k, v in teacher.state_dict().items()},
                'opt': copy.deepcopy(opt.state_dict())}
    return {'student': student, 'teacher': teacher, 'opt': opt, 'losses': losses, 'sdf': sdf, 'keep': keep,
            'log': log, 'snapshot': snapshot, 'relu': relu, 'student_relu': student_relu, 'thr': thr_margin,
            'relu_margin': min(relu.values()), 'student_relu_margin': min(student_relu.values()),
            'threshold_margin': min(thr_margin.values())}


PARAMETERS = [k for k, _ in vr.build(CONFIG).named_parameters()]


def max_diff(a, b):
    """max |a - b| over the parameters (not the BN buffers) of two state dicts."""
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in PARAMETERS)


def float32_check(r64, r32, init_student, iterations):
    """How far the same computation in float32 (PyTorch) lands from this float64 reference: the
    student's parameters (l2 of the difference over l2 of the change since init), its momentum
    buffers (l2 of the difference over l2 of the buffers), per iteration the
    loss terms (largest relative difference), u (largest difference) and mask flips, and the
    student's ReLU inputs: sign flips, and at the coarse levels (at most LOW_RES voxels a sample,
    where one flip is a large share of a gradient) the smallest ratio margin / float32 error."""
    a, b = r64['student'].state_dict(), r32['student'].state_dict()
    num = sum(float(((a[k] - b[k].double()) ** 2).sum()) for k in PARAMETERS)
    den = sum(float(((a[k] - init_student[k].double()) ** 2).sum()) for k in PARAMETERS)
    m64, m32 = [{k: r['opt'].state[p]['momentum_buffer'].double() for k, p in r['student'].named_parameters()} for r in (r64, r32)]
    out = {'student_rel_l2': math.sqrt(num / den),
           'momentum_rel_l2': math.sqrt(sum(float(((m64[k] - m32[k]) ** 2).sum()) for k in PARAMETERS)
                                        / sum(float((m64[k] ** 2).sum()) for k in PARAMETERS))}
    for t in iterations:
        thr = schedule(t)['threshold']
        u64, u32 = r64['keep'][f's{t}/u'], r32['keep'][f's{t}/u'].double()
        l64, l32 = r64['losses'][t], r32['losses'][t]
        flips, ratio = 0, math.inf
        pairs = zip([e for e in r64['log'] if e[0] == 'student' and e[1] == t],
                    [e for e in r32['log'] if e[0] == 'student' and e[1] == t])
        for e64, e32 in pairs:
            x64, x32 = e64[4], e32[4]
            flips += int(((x64 > 0) != (x32 > 0)).sum())
            if x64[0, 0].numel() <= LOW_RES:
                err = float((x64 - x32).abs().max())
                ratio = min(ratio, e64[3] / err if err > 0 else math.inf)
        out[f's{t}'] = {'loss_rel': max(abs(l64[k] - l32[k]) / max(abs(l64[k]), 1e-30) for k in LOSS_TERMS),
                        'u_err': float((u64 - u32).abs().max()),
                        'mask_flips': int(((u64 < thr) != (u32 < thr)).sum()),
                        'relu_flips': flips, 'low_res_relu_ratio': ratio}
    return out


LOSS_TERMS = ('ce', 'dice', 'dis', 'sup', 'itc_seg', 'itc_sdm', 'itc', 'ctc', 'total')
LOW_RES = 64


def iteration_fixture():
    init = {'student': init_state(STUDENT_SEED), 'teacher': init_state(TEACHER_SEED)}
    # Two stages: seed_a (x, y and iteration 1's draws) among N_CANDIDATES[0], judged on iteration 1;
    # then seed_b (iteration 2's draws) among N_CANDIDATES[1], judged on iteration 2. One seed for
    # everything cannot keep 2 x 16384 entropies 1e-4 away from the threshold: 2-4 lie that close
    # per iteration. Each candidate runs here in float64 and again in float32 (a stand-in for a
    # float32 engine). It qualifies if every entropy stays MIN_THRESHOLD_MARGIN from the threshold
    # and (iteration 1) at the coarse levels every student ReLU input stays MIN_RELU_RATIO times
    # float32's error there away from 0; among those, the one whose float32 run lands nearest the
    # reference (student parameters and momentum buffers) wins. In iteration 2 float32's error at the
    # coarse levels is already 1e-4..1e-3 (it inherits iteration 1's), as large as the margins any
    # candidate offers there, so that iteration is judged on the float32 run alone.
    # Why these: the teacher's passes are no-grad, where ReLU is continuous (a flip moves an output
    # by no more than the input itself), and at full resolution one flip is 1/16384 of a gradient;
    # but at the 1-8 voxel levels one flip changes a gradient by a large share, and the next
    # iteration amplifies that (the 1x1x1 bottleneck's batch norm over 4 samples is ill-conditioned).
    def pick(stage, candidates, draws_of, start64=None, start32=None):
        def both(seed):
            r64 = run(init, draws_of(seed), (stage,), start=start64, inputs=True)
            with precision(torch.float32):
                r32 = run(init, draws_of(seed), (stage,), start=start32, inputs=True)
            return r64, r32

        rows = []
        for seed in range(candidates):
            r64, r32 = both(seed)
            check = float32_check(r64, r32, init['student'], (stage,))
            thr_ok = r64['thr'][stage] >= MIN_THRESHOLD_MARGIN
            relu_ok = stage == 2 or check[f's{stage}']['low_res_relu_ratio'] >= MIN_RELU_RATIO
            rows.append((not thr_ok, not relu_ok, max(check['student_rel_l2'], check['momentum_rel_l2']), seed,
                         r64['thr'][stage], r64['student_relu'][stage], r64['relu'][stage],
                         check[f's{stage}']['low_res_relu_ratio']))
        _, _, dev, seed, thr, student_relu, relu, ratio = min(rows, key=lambda row: row[:4])
        print(f'iteration {stage}: {sum(not row[0] and not row[1] for row in rows)} of {candidates} candidate seeds qualify; '
              f'seed {seed}: float32 run off by {dev:.2e} (parameters, momentum; median of candidates '
              f'{sorted(row[2] for row in rows)[candidates // 2]:.2e}), min |u - thr| {thr:.2e}, coarse ReLU margin / '
              f'float32 error {ratio:.1f}, min |ReLU input| student {student_relu:.2e}, all passes {relu:.2e}')
        return (seed, *both(seed))

    seed_a, a64, a32 = pick(1, N_CANDIDATES[0], lambda s: make_draws(s, 0))
    seed_b, _, _ = pick(2, N_CANDIDATES[1], lambda s: make_draws(seed_a, s), a64['snapshot'], a32['snapshot'])
    seed = [seed_a, seed_b]
    draws = make_draws(seed_a, seed_b)
    assert all(draws[f's{t}/mask/{w}/1'].sum(1).min() >= 1 for t in (1, 2) for w in ['student', 'target'] + [f'unc{k}' for k in range(4)])
    r = run(init, draws, inputs=True)
    keep = r['keep']
    code = run(init, draws, iterations=(1,), variant='code', inputs=True)
    with precision(torch.float32):
        r32 = run(init, draws, inputs=True)
        code32 = run(init, draws, iterations=(1,), variant='code', inputs=True)
    check = float32_check(r, r32, init['student'], (1, 2))
    check['code'] = float32_check(code, code32, init['student'], (1,))
    check['note'] = ('the same script run in float32 PyTorch against this float64 reference: a measure of the '
                     'spread to expect from a correct float32 engine')
    out = {f'init/student/{k}': v for k, v in init['student'].items()}
    out.update({f'init/teacher/{k}': v for k, v in init['teacher'].items()})
    out.update({'x': draws['x'], 'y': draws['y'], 'sdf': r['sdf']})
    out.update({k: v for k, v in draws.items() if k.startswith('s')})
    out.update({k: keep[k] for k in ('s1/u', 's2/u')})
    out.update({f'final/student/{k}': v for k, v in r['student'].state_dict().items()})
    out.update({f'final/teacher/{k}': v for k, v in r['teacher'].state_dict().items()})
    out.update({f'final/momentum/{k}': r['opt'].state[p]['momentum_buffer'] for k, p in r['student'].named_parameters()})
    out.update({f'code/final/student/{k}': v for k, v in code['student'].state_dict().items()})
    meta = {'config': json.dumps(CONFIG), 's1_losses': json.dumps(r['losses'][1]), 's2_losses': json.dumps(r['losses'][2]),
            'code_s1_losses': json.dumps(code['losses'][1]), 'relu_margin': json.dumps(r['relu_margin']),
            'student_relu_margin': json.dumps(r['student_relu_margin']), 'threshold_margin': json.dumps(r['threshold_margin']),
            'seed': json.dumps(seed), 'head_scale': json.dumps(HEAD_SCALE), 'float32_check': json.dumps(check),
            'schedule': json.dumps({'iterations': [1, 2], 'lr': '0.01*0.1^floor(t/2)', 'lambda': '1.0*r(floor(t/150), 0)',
                                    'threshold': '(0.75+0.25*r(t,4))*ln2', 'alpha': 'min(1-1/(t+1),0.99)',
                                    'momentum': 0.9, 'weight_decay': 1e-4, 'beta': BETA})}
    print(f'margins: min |ReLU input| {r["relu_margin"]:.2e} (student passes {r["student_relu_margin"]:.2e}), '
          f'min |u - thr| {r["threshold_margin"]:.2e}; per iteration relu {r["relu"]}, thr {r["thr"]}')
    print('float32 check:', json.dumps(check))

    for name, res in [('paper', r), ('code', code)]:
        for t, ls in res['losses'].items():
            print(f'{name} t={t}: ' + ', '.join(f'{k} {v:.6g}' for k, v in ls.items()))
    # sanity: the steps move the weights, and L_itc and L_ctc each contribute
    w0 = {k: v for k, v in init['student'].items()}
    s1 = run(init, draws, iterations=(1,))
    print(f'max |dweight| student after t=1 {max_diff(s1["student"].state_dict(), w0):.3e}, after t=2 '
          f'{max_diff(r["student"].state_dict(), w0):.3e}; teacher after t=2 {max_diff(r["teacher"].state_dict(), init["teacher"]):.3e}')
    for flags in [{'use_itc': False}, {'use_itc_sdm': False}, {'use_ctc': False}, {'use_itc': False, 'use_ctc': False}]:
        other = run(init, draws, iterations=(1,), **flags)
        print(f'  t=1 step without {"+".join(k[4:] for k in flags)}: max |dweight| vs full step '
              f'{max_diff(s1["student"].state_dict(), other["student"].state_dict()):.3e}')
    print(f'  code variant vs paper at t=1: {max_diff(s1["student"].state_dict(), code["student"].state_dict()):.3e}')
    return out, meta


def main():
    start = time.time()
    torch.set_num_threads(1)
    path = FIXTURES / 'train_units.json'
    path.write_text(json.dumps(units()))
    print('wrote', path, path.stat().st_size, 'bytes')
    out, meta = iteration_fixture()
    path = FIXTURES / 'ugmcl_iteration.safetensors'
    vr.write_safetensors(path, out, meta)
    print('wrote', path, path.stat().st_size, 'bytes', f'({time.time() - start:.0f} s)')


if __name__ == '__main__':
    main()
