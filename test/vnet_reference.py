"""PyTorch side of the V-Net parity test (test/vnet.test.ts).

A V-Net written here from docs/method.md §1 (the UA-MT/DTC architecture; with two heads DTC's
vnet_sdf: `out_conv` + tanh is the SDM head, `out_conv2` the segmentation logits), with the
reference's module names, and a minimal safetensors reader and writer (the safetensors package is
not in Debian). It writes two fixtures:

test/fixtures/vnet_parity.safetensors
  (a) voxgrad -> PyTorch: the V-Net voxgrad exported (export_vnet_init.mjs) loaded with strict=True,
      run in train mode with given dropout masks (outputs, the gradient of every parameter of
      sum(seg*cot_seg) + sum(sdm*cot_sdm), BN buffers afterwards), then in eval mode (outputs);
      groups `a/...`, metadata `a_config` and `a_export_sha256` (the export it consumed).
  (b) PyTorch -> voxgrad: outputs and gradients in eval mode of the PyTorch-initialised V-Net saved
      in vnet_torch_weights.safetensors, then its train-mode outputs with dropout off and the BN
      buffers afterwards; groups `b/...`, metadata `b_config`.
  (c) metadata `manifests`: state_dict names and shapes, and parameter counts, of nFilters=16
      V-Nets for each normalization and head layout.
test/fixtures/vnet_torch_weights.safetensors: (b)'s weights, a plain state_dict.

References run in float64 from the float32 weights. Run from the repository root:
  npm run build && node test/fixtures/export_vnet_init.mjs /tmp/vnet_voxgrad_init.safetensors
  /usr/bin/python3 test/vnet_reference.py /tmp/vnet_voxgrad_init.safetensors
"""
import hashlib
import json
import pathlib
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

FIXTURES = pathlib.Path(__file__).resolve().parent / 'fixtures'
DTYPES = {'F32': np.dtype('<f4'), 'I64': np.dtype('<i8')}


def read_safetensors(path):
    raw = pathlib.Path(path).read_bytes()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    metadata = header.pop('__metadata__', {})
    tensors = {}
    for name, e in header.items():
        begin, end = e['data_offsets']
        arr = np.frombuffer(raw[8 + n + begin:8 + n + end], dtype=DTYPES[e['dtype']]).reshape(e['shape'])
        tensors[name] = torch.from_numpy(arr.copy())
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    header, chunks, offset = {'__metadata__': metadata}, [], 0
    for name, t in tensors.items():
        t = t.detach()
        dtype = 'I64' if t.dtype == torch.int64 else 'F32'
        data = (t if dtype == 'I64' else t.to(torch.float32)).numpy().astype(DTYPES[dtype]).tobytes()
        header[name] = {'dtype': dtype, 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    h = json.dumps(header).encode()
    h += b' ' * (-len(h) % 8)
    pathlib.Path(path).write_bytes(struct.pack('<Q', len(h)) + h + b''.join(chunks))


# ---- the V-Net ----

def norm_layers(kind, channels):
    if kind == 'batchnorm':
        return [nn.BatchNorm3d(channels)]
    if kind == 'groupnorm':
        return [nn.GroupNorm(16, channels)]
    if kind == 'instancenorm':
        return [nn.InstanceNorm3d(channels)]
    if kind == 'none':
        return []
    raise ValueError(kind)


class Block(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return self.conv(x)


def conv_block(stages, cin, cout, norm):
    layers = []
    for i in range(stages):
        layers += [nn.Conv3d(cin if i == 0 else cout, cout, 3, padding=1), *norm_layers(norm, cout), nn.ReLU(inplace=True)]
    return Block(layers)


def down_block(cin, cout, norm):
    return Block([nn.Conv3d(cin, cout, 2, stride=2), *norm_layers(norm, cout), nn.ReLU(inplace=True)])


def up_block(cin, cout, norm):
    return Block([nn.ConvTranspose3d(cin, cout, 2, stride=2), *norm_layers(norm, cout), nn.ReLU(inplace=True)])


class VNet(nn.Module):
    def __init__(self, n_channels, n_classes, n_filters=16, normalization='batchnorm', has_dropout=False, heads='seg+sdm'):
        super().__init__()
        f, nm = n_filters, normalization
        self.block_one = conv_block(1, n_channels, f, nm)
        self.block_one_dw = down_block(f, 2 * f, nm)
        self.block_two = conv_block(2, 2 * f, 2 * f, nm)
        self.block_two_dw = down_block(2 * f, 4 * f, nm)
        self.block_three = conv_block(3, 4 * f, 4 * f, nm)
        self.block_three_dw = down_block(4 * f, 8 * f, nm)
        self.block_four = conv_block(3, 8 * f, 8 * f, nm)
        self.block_four_dw = down_block(8 * f, 16 * f, nm)
        self.block_five = conv_block(3, 16 * f, 16 * f, nm)
        self.block_five_up = up_block(16 * f, 8 * f, nm)
        self.block_six = conv_block(3, 8 * f, 8 * f, nm)
        self.block_six_up = up_block(8 * f, 4 * f, nm)
        self.block_seven = conv_block(3, 4 * f, 4 * f, nm)
        self.block_seven_up = up_block(4 * f, 2 * f, nm)
        self.block_eight = conv_block(2, 2 * f, 2 * f, nm)
        self.block_eight_up = up_block(2 * f, f, nm)
        self.block_nine = conv_block(1, f, f, nm)
        self.out_conv = nn.Conv3d(f, n_classes, 1)
        self.out_conv2 = nn.Conv3d(f, n_classes, 1) if heads == 'seg+sdm' else None
        self.dropout = nn.Dropout3d(p=0.5)
        self.has_dropout = has_dropout

    def forward(self, x, turnoff_drop=False):
        drop = self.has_dropout and not turnoff_drop
        x1 = self.block_one(x)
        x2 = self.block_two(self.block_one_dw(x1))
        x3 = self.block_three(self.block_two_dw(x2))
        x4 = self.block_four(self.block_three_dw(x3))
        x5 = self.block_five(self.block_four_dw(x4))
        if drop:
            x5 = self.dropout(x5)
        x6 = self.block_six(self.block_five_up(x5) + x4)
        x7 = self.block_seven(self.block_six_up(x6) + x3)
        x8 = self.block_eight(self.block_seven_up(x7) + x2)
        x9 = self.block_nine(self.block_eight_up(x8) + x1)
        if drop:
            x9 = self.dropout(x9)
        if self.out_conv2 is None:
            return self.out_conv(x9)
        return torch.tanh(self.out_conv(x9)), self.out_conv2(x9)


class GivenMaskDropout3d(nn.Module):
    """Dropout3d(0.5) whose keep-masks [N, C] are given, used in call order (train mode only)."""

    def __init__(self, masks, p=0.5):
        super().__init__()
        self.masks, self.p = list(masks), p

    def forward(self, x):
        if not self.training:
            return x
        keep = self.masks.pop(0).to(x.dtype).view(x.shape[0], x.shape[1], 1, 1, 1)
        return x * keep / (1 - self.p)


def build(config):
    return VNet(config['nChannels'], config['nClasses'], config['nFilters'], config['normalization'],
                config['hasDropout'], config['heads'])


def f64(t):
    return t.detach().to(torch.float64)


# ---- (a) voxgrad weights into PyTorch ----

def network_a(export_path, n):
    """The exported V-Net in float64, train mode, with its given dropout masks; and the generator
    that then draws the cotangents."""
    weights, meta = read_safetensors(export_path)
    config = json.loads(meta['config'])
    net = build(config).double()
    net.load_state_dict(weights, strict=True)
    f = config['nFilters']
    g = torch.Generator().manual_seed(11)
    mask5 = (torch.rand(n, 16 * f, generator=g) >= 0.5).float()
    mask9 = (torch.rand(n, f, generator=g) >= 0.5).float()
    mask9[:, 0] = 1  # every sample keeps a channel, so the head sees signal
    net.train()
    net.dropout = GivenMaskDropout3d([mask5, mask9])
    return net, config, g, mask5, mask9


def relu_margin(export_path, x):
    """The smallest |input| of any ReLU in case (a)'s forward pass. An input within float32
    rounding of 0 lets a correct float32 engine take the other branch there and differ from this
    float64 reference by a whole voxel's gradient, so the fixture's input keeps a margin."""
    net, *_ = network_a(export_path, x.shape[0])
    margins = []
    for m in net.modules():
        if isinstance(m, nn.ReLU):
            m.register_forward_pre_hook(lambda _m, inp: margins.append(float(inp[0].abs().min())))
    with torch.no_grad():
        net(f64(x))
    return min(margins)


def voxgrad_to_torch(export_path, x, out):
    net, config, g, mask5, mask9 = network_a(export_path, x.shape[0])
    out_shape = (x.shape[0], config['nClasses'], *x.shape[2:])
    cot_seg, cot_sdm = torch.randn(out_shape, generator=g), torch.randn(out_shape, generator=g)
    out.update({'a/mask5': mask5, 'a/mask9': mask9, 'a/cot_seg': cot_seg, 'a/cot_sdm': cot_sdm})

    sdm, seg = net(f64(x))
    ((seg * f64(cot_seg)).sum() + (sdm * f64(cot_sdm)).sum()).backward()
    out.update({'a/train/seg': seg, 'a/train/sdm': sdm})
    out.update({f'a/train/grad/{k}': p.grad for k, p in net.named_parameters()})
    out.update({f'a/train/state/{k}': b for k, b in net.named_buffers()})

    net.eval()
    with torch.no_grad():
        sdm, seg = net(f64(x))
    out.update({'a/eval/seg': seg, 'a/eval/sdm': sdm})
    return config


# ---- (b) PyTorch weights into voxgrad ----

def torch_to_voxgrad(x, out):
    config = {'nChannels': 1, 'nClasses': 1, 'nFilters': 2, 'normalization': 'batchnorm', 'hasDropout': True,
              'heads': 'seg+sdm', 'seed': 0}
    torch.manual_seed(2)
    net = build(config)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm3d):  # away from the 1/0 defaults, so a mix-up would show
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
        net.train()
        for _ in range(2):  # moves the running statistics; num_batches_tracked becomes 2
            net(torch.randn(2, 1, 16, 16, 16) * 2 + 0.5, turnoff_drop=True)
    path = FIXTURES / 'vnet_torch_weights.safetensors'
    write_safetensors(path, net.state_dict(), {'config': json.dumps(config)})

    weights, _ = read_safetensors(path)
    net = build(config).double()
    net.load_state_dict(weights, strict=True)
    g = torch.Generator().manual_seed(12)
    out_shape = (x.shape[0], 1, *x.shape[2:])
    cot_seg, cot_sdm = torch.randn(out_shape, generator=g), torch.randn(out_shape, generator=g)
    out.update({'b/cot_seg': cot_seg, 'b/cot_sdm': cot_sdm})

    net.eval()
    sdm, seg = net(f64(x))
    ((seg * f64(cot_seg)).sum() + (sdm * f64(cot_sdm)).sum()).backward()
    out.update({'b/eval/seg': seg, 'b/eval/sdm': sdm})
    out.update({f'b/eval/grad/{k}': p.grad for k, p in net.named_parameters()})

    net.train()
    with torch.no_grad():
        sdm, seg = net(f64(x), turnoff_drop=True)
    out.update({'b/train/seg': seg, 'b/train/sdm': sdm})
    out.update({f'b/train/state/{k}': b for k, b in net.named_buffers()})
    return config


# ---- (c) names and shapes at full size ----

def manifests():
    result = []
    for normalization in ['batchnorm', 'instancenorm', 'groupnorm', 'none']:
        for heads, classes in [('seg+sdm', 1), ('seg', 2)]:
            config = {'nChannels': 1, 'nClasses': classes, 'nFilters': 16, 'normalization': normalization,
                      'hasDropout': True, 'heads': heads}
            net = build(config)
            result.append({'config': config,
                           'parameters': sum(p.numel() for p in net.parameters()),
                           'state': [[k, list(v.shape)] for k, v in net.state_dict().items()]})
    return result


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    export_path = sys.argv[1]
    # Of 20 candidate inputs, the one whose ReLU inputs stay furthest from 0 (see relu_margin).
    candidates = [torch.randn(2, 1, 32, 32, 32, generator=torch.Generator().manual_seed(seed)) for seed in range(20)]
    margins = [relu_margin(export_path, c) for c in candidates]
    best = max(range(len(candidates)), key=lambda i: margins[i])
    x = candidates[best]
    print(f'input seed {best}: smallest |ReLU input| {margins[best]:.2e} (seed 0: {margins[0]:.2e})')
    out = {'x': x}
    config_a = voxgrad_to_torch(export_path, x, out)
    config_b = torch_to_voxgrad(x, out)
    meta = {'a_config': json.dumps(config_a),
            'a_export_sha256': hashlib.sha256(pathlib.Path(export_path).read_bytes()).hexdigest(),
            'b_config': json.dumps(config_b),
            'manifests': json.dumps(manifests())}
    write_safetensors(FIXTURES / 'vnet_parity.safetensors', out, meta)
    print('wrote', FIXTURES / 'vnet_parity.safetensors', 'and', FIXTURES / 'vnet_torch_weights.safetensors')


if __name__ == '__main__':
    main()
