"""Cached vs naive autoregressive sampling, and cached sampling measured in forward passes. JSON on the last line.

    python bench/bench_autoregressive.py [--n 16] [--naive-rows 2] [--repeats 3] [--threads T]

Per model (the shipped checkpoint when present, else the trained config with fresh weights: the time does not depend
on the weights): one forward pass over n images (median of `repeats`), cached sampling of n images (median), and the
naive sampler — the whole network once per pixel. The naive sampler costs the same for every pixel, so it is timed
over the first `naive_rows` rows only and scaled to the whole image (`naive_scaled_from_rows` says so).
ratio_cached_to_forward = cached sampling time ÷ one forward pass of the same n images (the issue's bar: ≤ 15).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from genmodels import hub, registry  # noqa: E402
from genmodels.models.autoregressive import AutoregressiveModel, sample_rows  # noqa: E402
from genmodels.models.vqvae import VQVAE  # noqa: E402

MODELS = ("pixelcnn-mnist", "gated-pixelcnn-mnist", "pixelrnn-mnist", "vqvae-mnist")


def load(name: str) -> tuple[AutoregressiveModel, str]:
    entry = registry.get(name)
    try:
        model, source = hub.load(name), "checkpoint"
    except ValueError:
        model, source = entry.cls(**entry.recipe.config), "trained config, fresh weights"
    model = model.prior if isinstance(model, VQVAE) else model
    return model.eval(), source


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@torch.no_grad()
def bench(name: str, n: int, naive_rows: int, repeats: int) -> dict:
    model, source = load(name)
    C, H, W = model.image_shape
    x = torch.zeros((n, C, H, W))
    forward_s = median_time(lambda: model(x), repeats)
    cached_s = median_time(lambda: list(sample_rows(model, n, torch.Generator().manual_seed(0))), repeats)
    rows = min(naive_rows, H)
    mask = torch.zeros((1, 1, H, W))
    mask[..., :rows, :] = 1
    start = time.perf_counter()
    list(sample_rows(model, n, torch.Generator().manual_seed(0), mask=mask, cached=False))
    naive_s = (time.perf_counter() - start) * H / rows
    return {
        "weights": source,
        "image": [H, W],
        "forward_s": round(forward_s, 4),
        "cached_s": round(cached_s, 3),
        "naive_s": round(naive_s, 2),
        "naive_scaled_from_rows": rows,
        "speedup_cached_vs_naive": round(naive_s / cached_s, 1),
        "ratio_cached_to_forward": round(cached_s / forward_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--naive-rows", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    results = {}
    for name in MODELS:
        results[name] = bench(name, args.n, args.naive_rows, args.repeats)
        print(name, results[name], flush=True)
    summary = {
        "images": args.n,
        "torch_threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "models": results,
        "max_ratio_cached_to_forward": max(r["ratio_cached_to_forward"] for r in results.values()),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
