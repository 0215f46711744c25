"""PyTorch CPU anchor for bench/ugmcl-iteration.ts: one UG-MCL iteration (paper variant, docs/method.md
§3-§5) as the reference recipes run it, at the same shape, configuration and thread count:
RandomRotFlip + RandomCrop of 2 labelled and 2 unlabelled in-memory volumes and compute_sdf of the
labelled crops (NumPy/SciPy, in this process, as the reference computes the SDF in its loop),
student forward, teacher target pass on x + noise, T = 8 MC-dropout passes into a prediction
buffer, CE + Dice + MSE-to-SDF, masked intra-task consistency (beta 0.75) on both heads, cross-task
consistency, backward, SGD (momentum 0.9, wd 1e-4), EMA update, then .item() of every term.
After one warm-up iteration it serves bench/lib/anchor.ts: the request {"op": "iteration", "reps": R}
answers {seconds: [...], batch: [...]}, the times of R iterations and of their batch building (on the
CPU, as the reference's loader; the batch then moves to --device).
  /usr/bin/python3 bench/torch_ugmcl_iteration.py --threads 2 --patch 32,48,32 --filters 16 [--device cuda]
"""
import json
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from scipy.ndimage import distance_transform_edt
from skimage.segmentation import find_boundaries

from torch_anchor import build_vnet, parse_args, serve, sync


def shape_args(p):
    p.add_argument('--patch', default='32,48,32')
    p.add_argument('--filters', type=int, default=16)


a = parse_args(shape_args)
a.patch = [int(v) for v in a.patch.split(',')]
dev = a.device
rng = np.random.default_rng(0)
patch = a.patch
LABELED, UNLABELED, T, BETA, NOISE_STD, NOISE_CLIP = 2, 2, 8, 0.75, 0.1, 0.2
MAX_ITERATIONS = 6000

student, teacher = build_vnet(a.filters, dev), build_vnet(a.filters, dev)
for q in teacher.parameters():
    q.requires_grad_(False)
student.train()
teacher.train()  # MC dropout: the teacher's Dropout3d stays on and its BN uses batch statistics
optimizer = torch.optim.SGD(student.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)

# The same synthetic cases as bench/lib/ugmcl-iteration.ts: 8 voxels larger than the patch, square in
# the rotated plane, an ellipsoid label of half the extent.
m = max(patch[0], patch[1]) + 8
shape = (m, m, patch[2] + 8)
grid = np.meshgrid(*[np.arange(s) for s in shape], indexing='ij')
ellipsoid = (sum(((g - s / 2) / (s / 4)) ** 2 for g, s in zip(grid, shape)) <= 1).astype(np.uint8)
cases = [(rng.standard_normal(shape, dtype=np.float32), ellipsoid) for _ in range(LABELED + UNLABELED)]


def rot_flip_crop(image, label):
    """RandomRotFlip then RandomCrop; no padding, since every case is larger than the patch."""
    k, axis = rng.integers(4), rng.integers(2)
    image, label = (np.flip(np.rot90(v, k), axis=axis).copy() for v in (image, label))
    o = [rng.integers(s - q) for s, q in zip(image.shape, patch)]
    window = tuple(slice(b, b + q) for b, q in zip(o, patch))
    return image[window], label[window]


def compute_sdf(labels):
    """Spec §3.1: min-max normalised outside minus inside distance, 0 on the inner boundary."""
    out = np.zeros(labels.shape, dtype=np.float32)
    for b, fg in enumerate(labels.astype(bool)):
        if fg.any():
            neg, pos = distance_transform_edt(~fg), distance_transform_edt(fg)
            sdf = (neg - neg.min()) / (neg.max() - neg.min()) - (pos - pos.min()) / (pos.max() - pos.min())
            sdf[find_boundaries(fg, mode='inner')] = 0
            out[b] = sdf
    return out


def ramp(x, length):
    return 1.0 if length == 0 else math.exp(-5 * (1 - min(max(x, 0), length) / length) ** 2)


def noisy(x):
    return x + torch.clamp(torch.randn_like(x) * NOISE_STD, -NOISE_CLIP, NOISE_CLIP)


def masked(ours, target, mask):
    return (mask * (ours - target) ** 2).sum() / (mask.sum() + 1e-16)


def iteration(t):
    t0 = time.perf_counter()
    crops = [rot_flip_crop(*c) for c in cases]
    x = torch.from_numpy(np.stack([c[0] for c in crops])[:, None]).to(dev)
    labels = np.stack([c[1] for c in crops[:LABELED]])
    y = torch.from_numpy(labels).long().to(dev)
    sdf = torch.from_numpy(compute_sdf(labels)).to(dev)
    batch_seconds = time.perf_counter() - t0

    optimizer.zero_grad()
    sdm, seg = student(x)
    prob = F.softmax(seg, dim=1)
    with torch.no_grad():
        t_sdm, t_seg = teacher(noisy(x))
        t_prob = F.softmax(t_seg, dim=1)
        n = x.shape[0]
        doubled = x.repeat(2, 1, 1, 1, 1)
        preds = torch.zeros([T * n, 2, *patch], device=dev)
        for i in range(T // 2):
            preds[2 * n * i:2 * n * (i + 1)] = teacher(noisy(doubled))[1]
        mean = F.softmax(preds, dim=1).reshape(T, n, 2, *patch).mean(dim=0)
        u = -torch.sum(mean * torch.log(mean + 1e-6), dim=1, keepdim=True)
        mask = (u < (0.75 + 0.25 * ramp(t, MAX_ITERATIONS)) * math.log(2)).float()

    ce = F.cross_entropy(seg[:LABELED], y)
    fg, truth = prob[:LABELED, 1], y.float()
    dice = 1 - (2 * (fg * truth).sum() + 1e-5) / ((fg ** 2).sum() + (truth ** 2).sum() + 1e-5)
    dis = F.mse_loss(sdm[:LABELED, 1], sdf)
    itc_seg, itc_sdm = masked(prob, t_prob, mask), masked(sdm, t_sdm, mask)
    itc = BETA * itc_seg + (1 - BETA) * itc_sdm
    ctc = ((torch.sigmoid(-1500 * sdm) - prob) ** 2).mean()
    loss = ce + dice + dis + 0.1 * ramp(t // 150, 40) * (itc + ctc)
    loss.backward()
    for v in (loss, ce, dice, dis, itc_seg, itc_sdm, itc, ctc, mask.mean()):
        v.item()  # the trainer logs every term
    for group in optimizer.param_groups:
        group['lr'] = 0.01 * 0.1 ** (t // 2500)
    optimizer.step()
    alpha = min(1 - 1 / (t + 1), 0.99)
    with torch.no_grad():
        for ema, own in zip(teacher.parameters(), student.parameters()):
            ema.mul_(alpha).add_(own, alpha=1 - alpha)
    sync(dev)
    return time.perf_counter() - t0, batch_seconds


step = 0
iteration(step)


def timed_iterations(request):
    global step
    times = []
    for _ in range(request['reps']):
        step += 1
        times.append(iteration(step))
    return {'seconds': [s for s, _ in times], 'batch': [b for _, b in times]}


serve(a, {'iteration': timed_iterations})
