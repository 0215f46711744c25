"""PyTorch anchor for the inference benchmark (bench/lib/inference-bench.ts): one LA scan segmented as
the reference's test_single_case does (patch, stride, softmax averaged over overlapping windows), at
the scan's resolution or, for a model trained at 1/f resolution, on the block-mean-reduced scan with
the class probabilities resampled back trilinearly (the scoring of docs/data-and-metrics.md).
Request {"op": "inference", "case": path of mri_norm2.h5, "downsample": f, "filters": F,
"patch": [D,H,W], "stride": [D,H,W], "reps": R}; answer {"seconds": [...], "windows": n}.
Weights are the seeded initialisation: the time does not depend on them.
"""
import pathlib
import sys

import h5py
import numpy as np

from torch_anchor import build_vnet, parse_args, serve, timed

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / 'test' / 'fixtures'))
from make_full_resolution import block_mean, upsample  # noqa: E402
from make_la_inference import single_case  # noqa: E402

args = parse_args()
if args.device.type != 'cpu':
    raise SystemExit('bench/torch_inference.py: the reference sliding window runs on the CPU only')


def inference(request):
    with h5py.File(request['case'], 'r') as f:
        image = f['image'][:].astype(np.float32)
    f, patch, stride = request['downsample'], tuple(request['patch']), tuple(request['stride'])
    net = build_vnet(request['filters'])
    net.eval()
    windows = []

    def once():
        small = block_mean(image, f) if f > 1 else image
        _, score, n = single_case(net, small, patch, stride)
        probs = upsample(score, f, image.shape) if f > 1 else score
        windows.append(n)
        return np.argmax(probs, axis=0)
    return {'seconds': timed(once, request['reps'], args.device, warm=False), 'windows': windows[0]}


serve(args, {'inference': inference})
