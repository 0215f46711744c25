"""PyTorch anchor for the single-op benchmark (bench/lib/ops-bench.ts): batch normalisation in
training mode (forward and backward, as the V-Net's every block runs it) and the softmax over classes.
Request {"op": "batchnorm" | "softmax", "shape": [N, C, D, H, W], "reps": R}; answer {"seconds": [...]}.
"""
import torch
import torch.nn.functional as F

from torch_anchor import parse_args, serve, timed

args = parse_args()


def batchnorm(request):
    dev, shape = args.device, request['shape']
    x = torch.randn(*shape, device=dev, requires_grad=True)
    weight = torch.ones(shape[1], device=dev, requires_grad=True)
    bias = torch.zeros(shape[1], device=dev, requires_grad=True)
    mean, var = torch.zeros(shape[1], device=dev), torch.ones(shape[1], device=dev)
    dy = torch.randn(*shape, device=dev)

    def step():
        x.grad = weight.grad = bias.grad = None
        y = F.batch_norm(x, mean, var, weight, bias, training=True, momentum=0.1, eps=1e-5)
        (y * dy).sum().backward()  # as bench/lib/ops-bench.ts, which has no backward(dy)
    return {'seconds': timed(step, request['reps'], dev)}


def softmax(request):
    dev = args.device
    x = torch.randn(*request['shape'], device=dev)
    with torch.no_grad():
        return {'seconds': timed(lambda: torch.softmax(x, dim=1), request['reps'], dev)}


serve(args, {'batchnorm': batchnorm, 'softmax': softmax})
