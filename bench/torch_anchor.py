"""What every PyTorch CPU anchor shares: the shape and thread arguments the TypeScript benchmark
passes, seeded torch, and the dual-head V-Net configuration both sides build."""
import argparse
import pathlib
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / 'test'))
from vnet_reference import build  # noqa: E402


def parse_args(reps, extra=lambda p: None):
    p = argparse.ArgumentParser()
    p.add_argument('--threads', type=int, required=True)
    p.add_argument('--patch', default='32,48,32')
    p.add_argument('--filters', type=int, default=16)
    p.add_argument('--reps', type=int, default=reps)
    extra(p)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    a.patch = [int(v) for v in a.patch.split(',')]
    return a


def build_vnet(filters):
    return build({'nChannels': 1, 'nClasses': 2, 'nFilters': filters, 'normalization': 'batchnorm',
                  'hasDropout': True, 'heads': 'seg+sdm'})
