"""The PyTorch cross-check of voxgrad's LA runs: supervised training as the reference code does it
(UA-MT/DTC/UG-MCL: RandomRotFlip + RandomCrop, TwoStreamBatchSampler's labelled stream, SGD with
momentum 0.9 and weight decay 1e-4, lr x0.1 every optimizer.lrStep iterations, L = CE + Dice of the
foreground probability) on the V-Net of test/vnet_reference.py, with the setting of a voxgrad config
(its resolution, crops, filters, iterations, batch, labelled count, validation list). Only the
random draws differ from voxgrad's: it is a second implementation to compare within seed noise.

Writes into --out: log.jsonl (every iteration's loss, ce, dice, lr; each validation's mean Dice at
the training resolution, by the same sliding window), checkpoint.pt every 100 iterations (resumed
from if present, so a session may stop it), and model.safetensors (the student under PyTorch's
names with voxgrad's metadata: config, patch, stride, downsample), which `voxgrad evaluate` scores.

Run from the repository root (about 25 minutes on 2 cores for configs/la-2x-supervised.json):
  /usr/bin/python3 test/train_la_reference.py --config configs/la-2x-supervised.json --seed 0 \
      --out experiments/torch/la-2x-supervised-s0
"""
import argparse
import json
import math
import pathlib
import random
import sys
import time

import h5py
import numpy as np
import torch
import torch.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'test'))
sys.path.insert(0, str(ROOT / 'test/fixtures'))
from make_la_inference import single_case  # noqa: E402
from vnet_reference import build, write_safetensors  # noqa: E402


def load_config(path):
    """The config with its "extends" chain merged (objects field by field), paths resolved."""
    path = pathlib.Path(path).resolve()
    own = json.loads(path.read_text())
    base = own.pop('extends', None)
    if base is None:
        merged = own
    else:
        merged = load_config(path.parent / base)
        for k, v in own.items():
            merged[k] = {**merged[k], **v} if isinstance(v, dict) and isinstance(merged.get(k), dict) else v
    for k in ('root', 'train', 'validation'):
        if k in own.get('data', {}):
            merged['data'][k] = str((path.parent / own['data'][k]).resolve())
    return merged


def blocks(a, f):
    """[X, Y, Z] -> [ceil(X/f), f, ceil(Y/f), f, ceil(Z/f), f], zero-padded, and which voxels are real."""
    pads = [(0, math.ceil(n / f) * f - n) for n in a.shape]
    shape = [s for n in a.shape for s in (math.ceil(n / f), f)]
    return np.pad(a, pads).reshape(shape), np.pad(np.ones(a.shape, dtype=bool), pads).reshape(shape)


def block_mean(image, f):
    """Edge blocks average over the voxels they have (voxgrad's downsample.ts)."""
    values, real = blocks(image.astype(np.float64), f)
    return (values.sum(axis=(1, 3, 5)) / real.sum(axis=(1, 3, 5))).astype(np.float32)


def block_majority(label, f):
    """The most frequent value of each block, ties to the smaller value."""
    values, real = blocks(label, f)
    best, most = None, None
    for v in np.unique(label):  # ascending, and only a larger count displaces: ties keep the smaller
        count = np.logical_and(values == v, real).sum(axis=(1, 3, 5))
        best = np.full(count.shape, v, dtype=np.float32) if best is None else np.where(count > most, v, best)
        most = count if most is None else np.maximum(count, most)
    return best


def read_case(root, case, f):
    with h5py.File(pathlib.Path(root) / case / 'mri_norm2.h5', 'r') as h:
        image, label = h['image'][:].astype(np.float32), h['label'][:].astype(np.float32)
    if f > 1:
        image, label = block_mean(image, f), block_majority(label, f)
    return image, (label > 0).astype(np.uint8)


def rot_flip(image, label, rng):
    k, axis = rng.randint(0, 4), rng.randint(0, 2)
    turn = lambda a: np.flip(np.rot90(a, k), axis=axis).copy()  # noqa: E731
    return turn(image), turn(label)


def random_crop(image, label, patch, rng):
    if any(s <= p for s, p in zip(image.shape, patch)):
        pads = [max((p - s) // 2 + 3, 0) for s, p in zip(image.shape, patch)]
        image = np.pad(image, [(p, p) for p in pads])
        label = np.pad(label, [(p, p) for p in pads])
    o = [rng.randint(0, s - p) for s, p in zip(image.shape, patch)]
    window = tuple(slice(a, a + p) for a, p in zip(o, patch))
    return image[window], label[window]


def dice_loss(p, g):
    smooth = 1e-5
    return 1 - (2 * (p * g).sum() + smooth) / ((p * p).sum() + (g * g).sum() + smooth)


def dice(pred, label):
    inter = np.logical_and(pred, label).sum()
    total = pred.sum() + label.sum()
    return 2 * inter / total if total else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--config', required=True)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--out', required=True)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    c = load_config(args.config)
    d, patch, f = c['data'], tuple(c['patch']), c['data'].get('downsample', 1)
    stride = tuple(c['validation']['stride'])
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    ids = [line.strip() for line in pathlib.Path(d['train']).read_text().split('\n') if line.strip()][:d['labeled']]
    val_ids = [line.strip() for line in pathlib.Path(d['validation']).read_text().split('\n') if line.strip()]
    cases = [read_case(d['root'], i, f) for i in ids]
    val = [read_case(d['root'], i, f) for i in val_ids]
    print(f'{len(cases)} labelled and {len(val)} validation cases at 1/{f} resolution', flush=True)

    torch.manual_seed(args.seed)
    arch = {'nChannels': 1, 'nClasses': 2, 'nFilters': c['model']['nFilters'], 'normalization': 'batchnorm',
            'hasDropout': True, 'heads': 'seg+sdm'}
    net = build(arch)
    o = c['optimizer']
    opt = torch.optim.SGD(net.parameters(), lr=o['lr'], momentum=o['momentum'], weight_decay=o['weightDecay'])
    rng = random.Random(args.seed)
    start, order = 0, []
    ckpt = out / 'checkpoint.pt'
    if ckpt.exists():
        s = torch.load(ckpt)
        net.load_state_dict(s['net'])
        opt.load_state_dict(s['opt'])
        rng.setstate(s['rng'])
        torch.set_rng_state(s['torch_rng'])
        start, order = s['iteration'], s['order']
        print(f'resumed at iteration {start}', flush=True)
    kept = []
    if start:  # records past the checkpoint are redone
        kept = [line for line in (out / 'log.jsonl').read_text().splitlines()
                if json.loads(line)['iteration'] < start or json.loads(line)['kind'] == 'validation' and json.loads(line)['iteration'] <= start]
    log = open(out / 'log.jsonl', 'w')
    log.writelines(line + '\n' for line in kept)
    batch = c['batch']['labeled']
    previous = [json.loads(line).get('seconds', 0) for line in kept if json.loads(line)['kind'] == 'iteration']
    began = time.time() - (previous[-1] if previous else 0)  # the clock goes on across resumes
    for t in range(start, c['iterations']):
        net.train()
        if len(order) < batch:  # an epoch: a fresh permutation cut into whole batches
            order = list(range(len(cases)))
            rng.shuffle(order)
            order = order[:len(order) // batch * batch]
        picked, order = order[:batch], order[batch:]
        pairs = [random_crop(*rot_flip(*cases[i], rng), patch, rng) for i in picked]
        x = torch.from_numpy(np.stack([p[0] for p in pairs])[:, None].copy())
        y = torch.from_numpy(np.stack([p[1] for p in pairs]).astype(np.int64))
        lr = o['lr'] * o['lrGamma'] ** (t // o['lrStep'])
        for g in opt.param_groups:
            g['lr'] = lr
        _, z = net(x)
        ce = F.cross_entropy(z, y)
        dl = dice_loss(torch.softmax(z, 1)[:, 1], y.float())
        loss = ce + dl
        opt.zero_grad()
        loss.backward()
        opt.step()
        rec = {'kind': 'iteration', 'iteration': t, 'loss': loss.item(), 'ce': ce.item(), 'dice': dl.item(), 'lr': lr,
               'seconds': time.time() - began}
        log.write(json.dumps(rec) + '\n')
        done = t + 1
        if done % c['validation']['every'] == 0 or done == c['iterations']:
            net.eval()
            scores = [dice(single_case(net, im, patch, stride)[0] == 1, lb == 1) for im, lb in val]
            log.write(json.dumps({'kind': 'validation', 'iteration': done, 'dice': float(np.mean(scores))}) + '\n')
            print(f'iteration {done}: loss {loss.item():.4f}, validation Dice {np.mean(scores):.4f} '
                  f'({time.time() - began:.0f} s)', flush=True)
        if done % 100 == 0 or done == c['iterations']:
            log.flush()
            torch.save({'net': net.state_dict(), 'opt': opt.state_dict(), 'rng': rng.getstate(),
                        'torch_rng': torch.get_rng_state(), 'iteration': done, 'order': order}, out / 'checkpoint.tmp')
            (out / 'checkpoint.tmp').replace(ckpt)
    log.close()
    meta = {'config': json.dumps(arch), 'patch': json.dumps(list(patch)), 'stride': json.dumps(list(stride)),
            'method': 'supervised', 'trainedBy': 'PyTorch ' + torch.__version__}
    if f > 1:
        meta['downsample'] = str(f)
    write_safetensors(out / 'model.safetensors', net.state_dict(), meta)
    print(f'wrote {out / "model.safetensors"}', flush=True)


if __name__ == '__main__':
    main()
