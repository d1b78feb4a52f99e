"""Translate fast path: eager fp32 vs `genmodels.fast.FastPath` on one 256×256 picture, same weights.

    python bench/bench_translate.py [--size 256] [--repeats 5]

The network is the paper's horse2zebra generator (ngf 64, 9 residual blocks). Its Hub weights cannot be reached
from every machine, so the weights are a fixed random initialisation (seed 0): speed does not depend on them, and
PSNR compares the two paths on identical weights. PSNR is over the output in [0, 1]. JSON on the last line.

It also counts the network's multiply-adds (from its convolutions' shapes), so the JSON gives the achieved fp32
GFLOP/s: how close eager already is to the machine's limit, and so what any fp32 route could still gain.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genmodels.fast import FastPath  # noqa: E402
from genmodels.models.cyclegan import ResnetGenerator  # noqa: E402


def median_seconds(fn, x: torch.Tensor, repeats: int) -> float:
    fn(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def conv_flops(net: torch.nn.Module, x: torch.Tensor) -> int:
    """2 × the multiply-adds of every (transposed) convolution for one forward pass on x."""
    macs = 0

    def count(module, inputs, output):
        nonlocal macs
        k = module.kernel_size[0] * module.kernel_size[1]
        if isinstance(module, torch.nn.ConvTranspose2d):
            macs += inputs[0].numel() * module.out_channels * k
        else:
            macs += output.numel() * module.in_channels // module.groups * k

    convs = [m for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    hooks = [m.register_forward_hook(count) for m in convs]
    with torch.no_grad():
        net(x)
    for h in hooks:
        h.remove()
    return 2 * macs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    net = ResnetGenerator().eval()
    x = torch.rand(1, 3, args.size, args.size, generator=torch.Generator().manual_seed(1)) * 2 - 1
    eager = FastPath(net, compile=False, bf16=False)
    start = time.perf_counter()
    fast = FastPath(net, x)
    fast.ready.wait()
    warm_s = time.perf_counter() - start
    eager_s = median_seconds(eager, x, args.repeats)
    fast_s = median_seconds(fast, x, args.repeats)
    ref, out = (eager(x) + 1) / 2, (fast(x) + 1) / 2
    mse = (ref - out).pow(2).mean().item()
    gflop = conv_flops(net, x) / 1e9
    print(
        json.dumps(
            {
                "size": args.size,
                "torch_threads": torch.get_num_threads(),
                "fast_path": fast.status(),
                "compile_warm_s": round(warm_s, 1),
                "eager_fp32_s": round(eager_s, 3),
                "fast_s": round(fast_s, 3),
                "speedup": round(eager_s / fast_s, 2),
                "gflop_per_image": round(gflop, 1),
                "eager_gflops_per_s": round(gflop / eager_s, 1),
                "fast_gflops_per_s": round(gflop / fast_s, 1),
                "psnr_db": round(10 * math.log10(1 / mse), 1) if mse > 0 else float("inf"),
            }
        )
    )


if __name__ == "__main__":
    main()
