"""PyTorch anchor for bench/webgpu-conv.ts: GFLOP/s of conv3d forward, input gradient and weight
gradient at the same V-Net layer shapes (bench/vnet-conv-layers.json), float32 with TF32 off
(--tf32: on, as PyTorch's cuDNN convolutions have it by default on Ampere and later).

    python3 bench/torch_conv_cuda.py [--input 112,112,80] [--batch 4] [--reps 5] [--layers REGEX] [--device cuda] [--tf32]

--device cpu only checks that the script runs (CPU numbers are not the anchor the issue asks for).
"""
import argparse
import json
import pathlib
import re
import time

import torch
import torch.nn.functional as F

here = pathlib.Path(__file__).resolve().parent
parser = argparse.ArgumentParser()
parser.add_argument('--input', default='112,112,80')
parser.add_argument('--batch', type=int, default=4)
parser.add_argument('--reps', type=int, default=5)
parser.add_argument('--device', default='cuda')
parser.add_argument('--layers', default='.', help='regular expression on layer names')
parser.add_argument('--tf32', action='store_true', help='allow TF32 in matmuls and cuDNN convolutions')
args = parser.parse_args()

size = [int(v) for v in args.input.split(',')]
if len(size) != 3 or any(d <= 0 or d % 16 for d in size):
    raise SystemExit(f'bench/torch_conv_cuda.py: --input needs three sizes divisible by 16, got {args.input}')
device = torch.device(args.device)
if device.type == 'cuda':
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cudnn.benchmark = True
    name = torch.cuda.get_device_name(device)
else:
    name = 'cpu'
layers = json.loads((here / 'vnet-conv-layers.json').read_text())['layers']


def at(level):
    return [d >> level for d in size]


def sync():
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def timed(fn):
    fn()
    sync()
    t0 = time.perf_counter()
    for _ in range(args.reps):
        fn()
    sync()
    return (time.perf_counter() - t0) / args.reps * 1e3


print(f'torch {torch.__version__} conv3d benchmark on {name}; batch {args.batch}, input {"×".join(map(str, size))}, '
      f'{args.reps} timed runs each (after one warm-up), fp32, TF32 {"on" if args.tf32 and device.type == "cuda" else "off"}')
print('layer            Cin→Cout  out          pass   ms        GFLOP/s')
total_ms = total_flop = 0.0
for layer in (l for l in layers if re.search(args.layers, l['name'])):
    kind, cin, cout, level = layer['kind'], layer['cin'], layer['cout'], layer['level']
    k, s, p = {'conv': (3, 1, 1), 'head': (1, 1, 0), 'down': (2, 2, 0), 'up': (2, 2, 0)}[kind]
    in_size = at(level + 1) if kind == 'up' else at(level - 1) if kind == 'down' else at(level)
    out_size = at(level)
    x = torch.randn(args.batch, cin, *in_size, device=device)
    if kind == 'up':
        w = torch.randn(cin, cout, k, k, k, device=device)
        fwd = lambda: F.conv_transpose3d(x, w, stride=s)
    else:
        w = torch.randn(cout, cin, k, k, k, device=device)
        fwd = lambda: F.conv3d(x, w, stride=s, padding=p)
    y = fwd()
    dy = torch.randn_like(y)
    xg, wg = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
    conv = F.conv_transpose3d if kind == 'up' else F.conv3d
    yg = conv(xg, wg, stride=s) if kind == 'up' else conv(xg, wg, stride=s, padding=p)
    # Each gradient alone, through autograd on a retained graph (cuDNN's dgrad / wgrad kernels).
    dx = lambda: torch.autograd.grad(yg, xg, dy, retain_graph=True)
    dw = lambda: torch.autograd.grad(yg, wg, dy, retain_graph=True)
    grid = in_size if kind == 'up' else out_size  # a transposed conv's MACs count its input voxels
    voxels = grid[0] * grid[1] * grid[2]
    macs = cin * cout * k ** 3 * args.batch * voxels
    for pass_name, fn in (('fwd', fwd), ('dX', dx), ('dW', dw)):
        with torch.no_grad() if pass_name == 'fwd' else torch.enable_grad():
            ms = timed(fn)
        total_ms += ms * layer['count']
        total_flop += 2 * macs * layer['count']
        print(f'{layer["name"]:<16} {f"{cin}→{cout}":<9} {args.batch}×{"×".join(map(str, out_size)):<10} '
              f'{pass_name:<6} {ms:9.2f} {2 * macs / ms / 1e6:10.2f}')
print(f'all layers (× count), forward + both gradients: {total_ms:.1f} ms, {total_flop / total_ms / 1e6:.2f} GFLOP/s')
