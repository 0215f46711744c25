"""What every PyTorch anchor of the benchmarks shares: the arguments (threads, device, TF32), the
dual-head V-Net both sides build, timing that waits for the device, and the request loop that
bench/lib/anchor.ts talks to: a header line {torch, threads, device} on start, then one JSON answer per
JSON request line. The request {"op": "peak"} answers the process's peak memory: ru_maxrss on the CPU
(the Python runtime included), torch.cuda.max_memory_allocated on a GPU.
"""
import argparse
import json
import pathlib
import resource
import sys
import time

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / 'test'))
from vnet_reference import build  # noqa: E402


def parse_args(extra=lambda p: None):
    p = argparse.ArgumentParser()
    p.add_argument('--threads', type=int, required=True)
    p.add_argument('--device', default='cpu')
    p.add_argument('--tf32', action='store_true', help='on CUDA, let matmul and cuDNN use TF32')
    extra(p)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    a.device = torch.device(a.device)
    if a.device.type == 'cuda':
        torch.backends.cuda.matmul.allow_tf32 = a.tf32
        torch.backends.cudnn.allow_tf32 = a.tf32
        torch.backends.cudnn.benchmark = True
    return a


def build_vnet(filters, device='cpu'):
    return build({'nChannels': 1, 'nClasses': 2, 'nFilters': filters, 'normalization': 'batchnorm',
                  'hasDropout': True, 'heads': 'seg+sdm'}).to(device)


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def timed(fn, reps, device, warm=True, events=False):
    """Seconds of each of reps calls, after one untimed warm-up, each waiting for the device. With
    events on CUDA: the device time between CUDA events around each call, all calls queued before one
    wait (what a single kernel costs, without the host's launch-and-wait round trip)."""
    if warm:
        fn()
        sync(device)
    if events and device.type == 'cuda':
        marks = []
        for _ in range(reps):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            marks.append((start, end))
        sync(device)
        return [start.elapsed_time(end) / 1000 for start, end in marks]
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    return times


def device_name(device):
    return torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'


def serve(args, handlers):
    """Answers requests {"op": name, ...} with handlers[name](request) until stdin closes."""
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(),
                      'device': device_name(args.device)}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        if request['op'] == 'peak':
            peak = (torch.cuda.max_memory_allocated(args.device) if args.device.type == 'cuda'
                    else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
            answer = {'peak_bytes': peak}
        else:
            answer = handlers[request['op']](request)
        print(json.dumps(answer), flush=True)
