"""PyTorch CPU anchor for bench/wasm-conv.ts: times conv3d forward, input gradient and weight gradient.

Usage: /usr/bin/python3 bench/torch_conv.py THREADS
Reads one layer a line from stdin, as JSON {name, n, cin, cout, in: [D,H,W], kernel, stride, padding},
and answers each with a line {name, fwd, dx, dw} in seconds (best of the timed repetitions), so that the
caller can time its own kernels and these in turn, layer by layer, under the same load.
"""
import json
import sys
import time

import torch


def best_time(fn, min_time=0.3, min_reps=3):
    fn()  # warm-up
    times = []
    start = time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)  # the least disturbed run, as bench/wasm-conv.ts does


def layer_times(layer, gen):
    x = torch.randn(layer["n"], layer["cin"], *layer["in"], generator=gen)
    w = torch.randn(layer["cout"], layer["cin"], *layer["kernel"], generator=gen)
    stride, padding = layer["stride"], layer["padding"]
    y = torch.nn.functional.conv3d(x, w, None, stride, padding)
    dy = torch.randn(y.shape, generator=gen)

    def backward(mask):
        return torch.ops.aten.convolution_backward(
            dy, x, w, None, stride, padding, [1, 1, 1], False, [0, 0, 0], 1, mask)

    with torch.no_grad():
        return {
            "name": layer["name"],
            "fwd": best_time(lambda: torch.nn.functional.conv3d(x, w, None, stride, padding)),
            "dx": best_time(lambda: backward([True, False, False])),
            "dw": best_time(lambda: backward([False, True, False])),
        }


def main():
    torch.set_num_threads(int(sys.argv[1]))
    gen = torch.Generator().manual_seed(0)
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(layer_times(json.loads(line), gen)), flush=True)


if __name__ == "__main__":
    main()
