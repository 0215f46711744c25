#!/bin/sh
# On a machine with a real GPU: the WebGPU conv3d benchmark (Node, Dawn) and the PyTorch CUDA anchor at
# the same V-Net layer shapes, one after the other on the same device. Extra arguments go to both,
# e.g. `bench/gpu.sh --batch 2 --reps 10`. Run from the repository root after `npm ci`.
set -eu
npm run build >/dev/null
node build/bench/webgpu-conv.js "$@"
python3 bench/torch_conv_cuda.py --device cuda "$@"
