"""PyTorch anchor for the V-Net benchmark (bench/lib/vnet-bench.ts): the dual-head V-Net's forward pass
in eval mode without gradients (as inference runs it) and one training step (forward in training mode,
cross-entropy + mean squared SDM output, backward).
Request {"op": "forward" | "step", "batch": B, "patch": [D,H,W], "filters": F, "reps": R};
answer {"seconds": [...]}. The network is built once per (filters) and kept.
"""
import torch
import torch.nn.functional as F

from torch_anchor import build_vnet, parse_args, serve, timed

args = parse_args()
nets = {}


def inputs(request):
    dev, b, patch = args.device, request['batch'], request['patch']
    x = torch.randn(b, 1, *patch, device=dev)
    y = (torch.rand(b, *patch, device=dev) > 0.5).long()
    if request['filters'] not in nets:
        nets[request['filters']] = build_vnet(request['filters'], dev)
    return nets[request['filters']], x, y


def forward(request):
    net, x, _ = inputs(request)
    net.eval()
    with torch.no_grad():
        return {'seconds': timed(lambda: net(x, turnoff_drop=True), request['reps'], args.device)}


def step(request):
    net, x, y = inputs(request)
    net.train()

    def once():
        net.zero_grad(set_to_none=True)
        sdm, seg = net(x)
        (F.cross_entropy(seg, y) + (sdm ** 2).mean()).backward()
    return {'seconds': timed(once, request['reps'], args.device)}


serve(args, {'forward': forward, 'step': step})
