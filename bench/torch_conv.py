"""PyTorch anchor for the per-layer convolution benchmark (bench/lib/conv-bench.ts): conv3d forward,
input gradient and weight gradient of one layer a request, or of a transposed convolution (k2 s2, as
the V-Net's up-convolutions) where the layer says so.
Request {"op": "conv", "layer": {name, n, cin, cout, in: [D,H,W], kernel, stride, padding, transposed},
"reps": R, "events": E}; answer {"fwd": [...], "dx": [...], "dw": [...]}, seconds of each timed call
(with E on CUDA: by CUDA events, as bench/torch_anchor.py's timed says).
"""
import torch
import torch.nn.functional as F

from torch_anchor import parse_args, serve, timed

args = parse_args()
gen = torch.Generator().manual_seed(0)


def conv(request):
    layer, reps, dev = request['layer'], request['reps'], args.device
    stride, padding, transposed = layer['stride'], layer['padding'], layer.get('transposed', False)
    x = torch.randn(layer['n'], layer['cin'], *layer['in'], generator=gen).to(dev)
    # ConvTranspose3d's weight is [in, out, k…]; conv3d's [out, in, k…]
    w_shape = (layer['cin'], layer['cout']) if transposed else (layer['cout'], layer['cin'])
    w = torch.randn(*w_shape, *layer['kernel'], generator=gen).to(dev)
    op = F.conv_transpose3d if transposed else F.conv3d
    y = op(x, w, None, stride, padding)
    dy = torch.randn(y.shape, generator=gen).to(dev)

    def backward(mask):
        return torch.ops.aten.convolution_backward(
            dy, x, w, None, stride, padding, [1, 1, 1], transposed, [0, 0, 0], 1, mask)

    events = request.get('events', False)
    with torch.no_grad():
        return {
            'fwd': timed(lambda: op(x, w, None, stride, padding), reps, dev, events=events),
            'dx': timed(lambda: backward([True, False, False]), reps, dev, events=events),
            'dw': timed(lambda: backward([False, True, False]), reps, dev, events=events),
        }


serve(args, {'conv': conv})
