"""Completion: what it costs beside a full sample, and how well each family fills a hole. Prints JSON on its last line.

    python bench/bench_complete.py [--images 200] [--repeats 3] [--data-root DIR]

Speed, per autoregressive model: the median time of 16 completions of the bottom half and of the right half of one
test digit, divided by the median time of 16 full samples (the cached sampler starts at the first hidden pixel, so
the bottom half should cost about half; the right half starts in the first row and costs about a full sample).
Fidelity, per model that completes: the bottom half of the first `images` test images hidden, one completion each
(seed 0): how often the project's classifier reads the completion as the original digit, and the mean per-pixel
absolute error on the hidden half against the original (binarised at 0.5, as the models read it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from genmodels import data, hub, registry  # noqa: E402
from genmodels.models.base import cpu_generator  # noqa: E402
from genmodels.tasks.complete import completing_models, preset_mask  # noqa: E402


def answer(recipe, model, known, mask, n, seed, condition=None) -> torch.Tensor:
    *_, (_, _, images) = recipe.complete(model, known, mask, n, cpu_generator(seed), 1.0, condition)
    return images


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def speed(name: str, known: torch.Tensor, repeats: int, n: int = 16) -> dict:
    entry, model = registry.get(name), hub.load(name)
    condition = torch.full((n,), -1) if entry.recipe.conditional else None
    full = median_time(lambda: model.sample(n, cpu_generator(0)), repeats)
    out = {"full_sample_s": round(full, 3)}
    for mask_name in ("bottom half", "right half"):
        mask = preset_mask(mask_name)
        t = median_time(lambda m=mask: answer(entry.recipe, model, known, m, n, 0, condition), repeats)
        out[f"{mask_name.replace(' ', '_')}_s"] = round(t, 3)
        out[f"{mask_name.replace(' ', '_')}_ratio"] = round(t / full, 3)
    return out


def fidelity(name: str, x: torch.Tensor, y: torch.Tensor, classifier) -> dict:
    entry, model = registry.get(name), hub.load(name)
    mask = preset_mask("bottom half")
    condition = torch.full((len(x),), -1) if entry.recipe.conditional else None
    start = time.perf_counter()
    images = batch_completions(entry.recipe, model, x, mask, condition)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        read = classifier(images.to(classifier.device)).argmax(1).cpu()
    hidden = mask.expand_as(images)
    error = (images - (x > 0.5).float()).abs()[hidden].mean().item()
    return {
        "class_kept": round((read == y).float().mean().item(), 4),
        "hidden_pixel_error": round(error, 4),
        "seconds": round(seconds, 2),
    }


def batch_completions(recipe, model, x, mask, condition) -> torch.Tensor:
    """One completion of each image in x (seed 0), in batches of 50 sharing the mask."""
    out = []
    for i in range(0, len(x), 50):
        known = x[i : i + 50]
        cond = None if condition is None else condition[i : i + 50]
        *_, (_, _, images) = recipe.complete(model, known, mask, len(known), cpu_generator(i), 1.0, cond)
        out.append(images.cpu())
    return torch.cat(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data-root", default=None)
    args = parser.parse_args()
    images, labels = data.load_mnist(args.data_root, "test")
    x, y = data.to_unit(images[: args.images]), labels[: args.images]
    results = {"torch_threads": torch.get_num_threads(), "speed": {}, "fidelity": {}, "images": len(x)}
    for name in registry.names(autoregressive=True):
        results["speed"][name] = speed(name, x[:1], args.repeats)
        print(name, results["speed"][name], file=sys.stderr)
    classifier = hub.load(registry.CLASSIFIER)
    for name in completing_models():
        results["fidelity"][name] = fidelity(name, x, y, classifier)
        print(name, results["fidelity"][name], file=sys.stderr)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
