"""PyTorch CPU anchor for bench/vnet-step.ts: one V-Net training step (forward, loss, backward) at
the same shape, configuration and thread count. After one warm-up step it prints a line
{torch, threads}, then answers each line read from stdin with a line {seconds}: the best of --reps
timed steps. The caller times its own steps and these in turn, under the same load.
  /usr/bin/python3 bench/torch_vnet_step.py --threads 2 --batch 2 --patch 32,48,32 --filters 16 --reps 3
"""
import argparse
import json
import pathlib
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / 'test'))
from vnet_reference import build  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument('--threads', type=int, required=True)
p.add_argument('--batch', type=int, default=2)
p.add_argument('--patch', default='32,48,32')
p.add_argument('--filters', type=int, default=16)
p.add_argument('--reps', type=int, default=3)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
patch = [int(v) for v in a.patch.split(',')]
net = build({'nChannels': 1, 'nClasses': 2, 'nFilters': a.filters, 'normalization': 'batchnorm',
             'hasDropout': True, 'heads': 'seg+sdm'})
net.train()
x = torch.randn(a.batch, 1, *patch)
y = (torch.rand(a.batch, *patch) > 0.5).long()


def step():
    net.zero_grad(set_to_none=True)
    sdm, seg = net(x)
    loss = F.cross_entropy(seg, y) + (sdm ** 2).mean()
    loss.backward()


step()
print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads()}), flush=True)
for _ in sys.stdin:
    times = []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    print(json.dumps({'seconds': min(times)}), flush=True)
