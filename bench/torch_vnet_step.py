"""PyTorch CPU anchor for bench/vnet-step.ts: one V-Net training step (forward, loss, backward) at
the same shape, configuration and thread count. After one warm-up step it prints a line
{torch, threads}, then answers each line read from stdin with a line {seconds}: the best of --reps
timed steps. The caller times its own steps and these in turn, under the same load.
  /usr/bin/python3 bench/torch_vnet_step.py --threads 2 --batch 2 --patch 32,48,32 --filters 16 --reps 3
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

from torch_anchor import build_vnet, parse_args

a = parse_args(reps=3, extra=lambda p: p.add_argument('--batch', type=int, default=2))
patch = a.patch
net = build_vnet(a.filters)
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
