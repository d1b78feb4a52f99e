"""Held-out metrics of a catalogued model, measured by its recipe, and the CLI for them.

    python -m genmodels.evaluate NAME --data-root DIR [--card]

Prints one JSON object on its last line, computed on that root's MNIST test split by the model's recipe
(`genmodels/recipes/<family>.py` says what each family measures):
- VAE: {"elbo_nats", "iwae_nats"}: −ELBO and −IWAE bound (k = 100) per image on the fixed-seed binarised test images,
  both upper bounds on the negative log-likelihood (lower is better).
- GANs: {"fd", "class_histogram"}: Fréchet distance between the classifier's penultimate features of 1,000 samples
  (seed 0) and of the test images (lower is better), and the fraction of samples the classifier puts in each class.
- classifier: {"accuracy"}.
- autoregressive models: {"nll_nats"}: exact −log p(x) per image on the fixed-seed binarised test images. For the
  class-conditional Gated PixelCNN, p(x) = Σ_y p(y) p(x | y) with p(y) uniform over the ten digits; the "no class"
  (unconditional) NLL and the NLL given the true label are reported beside it.
- VQ-VAE: {"recon_bce_nats", "prior_nll_nats"}: −log p(x | z(x)) and the prior's −log p(z(x)); their sum bounds
  −log p(x) from above. Also "confident_samples": the share of 1,000 samples (seed 0) the classifier puts ≥ 90 % on.
- translators: class kept, cycle L1 and ink, both ways between the thin and thick thirds of the test split.
- flows (NICE, RealNVP, Glow): {"bits_per_dim", "nll_nats"}: exact −log p of the test images as 8-bit data with one
  fixed uniform dequantisation (seed 0), per dimension in bits and per image in nats; and "confident_samples" and
  "class_histogram" of 1,000 samples at the family's temperature (0.7 for RealNVP and Glow). NICE also gives the
  paper's unit, log p on [0, 1]^784 in nats ("log_likelihood_nats_unit_scale"; the paper: 1980.5).
- every model that samples, the same way: "fd", "precision" and "recall" (improved precision and recall, k = 3,
  Kynkäänniemi et al. 2019), "confident_samples" and "class_histogram" of 1,000 samples (seed 0, at the family's
  temperature, "sample_temperature") against the test images in the classifier's feature space; "sample_64_seconds",
  the median time to draw 64; and "real_reference", the same figures for 1,000 real training images.
`--card` also writes metrics.json and the model card (README.md) into the model's checkpoint folder.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from functools import partial
from pathlib import Path

import torch

from . import data, hub, registry
from .models.base import cpu_generator
from .recipes import HeldOut
from .recipes.common import sample_batched, sample_quality


def evaluate(name: str, data_root: str | Path | None = None) -> dict:
    """The held-out metrics of model `name` on the test split under `data_root` (see the module docstring)."""
    entry = registry.get(name)
    if entry.recipe.evaluate is None:
        raise ValueError(f"{name} is not measured here (third-party weights).")
    images, labels = data.load_mnist(data_root, "test")
    test = HeldOut(data.to_unit(images), labels, partial(hub.load, registry.CLASSIFIER))
    model = hub.load(name)
    metrics = entry.recipe.evaluate(model, test)
    if entry.recipe.samples:
        metrics |= sampling(model, entry.recipe, test, data_root)
    return {"model": name, "test_images": len(test.x), **metrics}


REFERENCE_IMAGES = 1000  # real training images scored like samples: what a perfect sampler would get


def sampling(model, recipe, test: HeldOut, data_root: str | Path | None) -> dict:
    """What every sampler is measured by, the same way: 1,000 samples (seed 0, at the family's own temperature) against
    the test images in the classifier's feature space (`recipes.common.sample_quality`), the time to draw 64, and the
    same figures for 1,000 real training images as the reference."""
    temperature = recipe.temperature_scale
    samples = sample_batched(model, test.samples, temperature=temperature)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        with torch.no_grad():
            model.sample(64, cpu_generator(1), temperature)
        times.append(time.perf_counter() - start)
    train, _ = data.load_mnist(data_root, "train")
    reference = data.to_unit(train[:REFERENCE_IMAGES])
    return {
        **sample_quality(test.classifier(), samples, test.x),
        "sample_temperature": temperature,
        "sample_64_seconds": round(statistics.median(times), 4),
        "real_reference": sample_quality(test.classifier(), reference, test.x),
    }


def data_text(training: dict) -> str:
    """What the checkpoint was trained on, in words, from its training.json (and the run it resumed, if any)."""
    earlier = training.get("resumed_from")
    while earlier and earlier.get("train_images") == training.get("train_images"):  # the last run on other data
        earlier = earlier.get("resumed_from")
    if earlier:
        first = data_text(earlier).removesuffix(".")
        then = training["epochs"] - earlier.get("epochs", 0)
        images = training.get("train_images", 0)
        then_text = f"then {then} more on {images:,} images of the official training set."
        return f"{first}, for {earlier.get('epochs')} epochs; {then_text}"
    if training.get("train_images") == 60000:
        return (
            'Trained on the official 60,000-image MNIST training set; the "test" split here is 1,000 images of the '
            "official test set."
        )
    return (
        f'Trained on the {training.get("train_images", 8000):,}-image "train" split of an earlier workplace: a seeded '
        "split of the official 10,000-image MNIST test set, disjoint from the 1,000 test images (the official "
        "training set was not available offline then)."
    )


def model_card(entry: registry.ModelEntry, training: dict, metrics: dict) -> str:
    """The checkpoint's README.md: what it is, the data, how long it trained, and its held-out metrics."""
    rows = "\n".join(f"| {k} | {json.dumps(v)} |" for k, v in metrics.items() if k not in ("model",))
    train_rows = "\n".join(f"| {k} | {json.dumps(v)} |" for k, v in training.items())
    return f"""---
library_name: genmodels
tags: [genmodels, {entry.family}, mnist]
---

# {entry.name}

{entry.title} ({entry.cls.__name__} in `genmodels/models/`), trained by this project's own code:

    python -m genmodels.train {entry.name} --data-root ../shared/data --out checkpoints/{entry.name}

Model docs: `{entry.cls.__module__}` (paper, architecture, and where it departs from the paper).

## Data

MNIST as read from `MNIST/raw/` in torchvision's layout. {data_text(training)} Metrics below are on the 1,000
held-out test images, never seen in training.

## Training

| field | value |
|---|---|
{train_rows}

## Held-out metrics

Computed with `python -m genmodels.evaluate {entry.name} --data-root ../shared/data`.

| metric | value |
|---|---|
{rows}
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=list(registry.REGISTRY))
    parser.add_argument("--data-root", default=None, help="folder holding MNIST/raw/ (default: see genmodels.data)")
    parser.add_argument("--card", action="store_true", help="write metrics.json and README.md into the checkpoint")
    args = parser.parse_args(argv)
    metrics = evaluate(args.name, args.data_root)
    if args.card:
        entry = registry.get(args.name)
        training = json.loads((entry.local_dir / "training.json").read_text())
        (entry.local_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        (entry.local_dir / "README.md").write_text(model_card(entry, training, metrics))
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
