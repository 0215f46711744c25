"""PyTorch's single-precision GEMM as a ceiling for bench/lib/gpu/ceilings.ts: C = A·B of size^3 on
--device, TF32 off (cuBLAS's plain FP32 path on CUDA), timed by CUDA events (on the CPU by the wall
clock) after one warm-up; prints one JSON line {torch, device, size, seconds: [...]}.
  python3 bench/torch_sgemm.py --device cuda --size 8192 --reps 5
"""
import argparse
import json
import time

import torch

p = argparse.ArgumentParser()
p.add_argument('--device', default='cpu')
p.add_argument('--size', type=int, default=8192)
p.add_argument('--reps', type=int, default=5)
a = p.parse_args()
dev = torch.device(a.device)
torch.backends.cuda.matmul.allow_tf32 = False
torch.manual_seed(0)
x, y = (torch.randn(a.size, a.size, device=dev) for _ in range(2))
torch.mm(x, y)
seconds = []
for _ in range(a.reps):
    if dev.type == 'cuda':
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        torch.mm(x, y)
        end.record()
        torch.cuda.synchronize(dev)
        seconds.append(start.elapsed_time(end) / 1000)
    else:
        t0 = time.perf_counter()
        torch.mm(x, y)
        seconds.append(time.perf_counter() - t0)
name = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'CPU'
print(json.dumps({'torch': torch.__version__, 'device': name, 'size': a.size, 'seconds': seconds}))
