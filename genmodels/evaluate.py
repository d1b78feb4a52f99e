"""Held-out metrics for the catalogued models, and their CLI.

    python -m genmodels.evaluate NAME --data-root DIR [--card]

Prints one JSON object on its last line, computed on that root's MNIST test split:
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
`--card` also writes metrics.json and the model card (README.md) into the model's checkpoint folder.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import torch
from torch import nn

from . import data, hub, registry
from .models.base import cpu_generator

FD_SAMPLES = 1000
IWAE_K = 100


def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """‖μa − μb‖² + tr(Σa + Σb − 2 (Σa Σb)^½) between Gaussians fitted to feature sets a (n, d) and b (m, d)."""
    a, b = a.double(), b.double()
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T), torch.cov(b.T)
    # tr (Σa Σb)^½ = Σ √λ over the eigenvalues λ of the symmetric Σa^½ Σb Σa^½ (same spectrum as Σa Σb).
    vals, vecs = torch.linalg.eigh(cov_a)
    root_a = vecs @ torch.diag(vals.clamp(min=0).sqrt()) @ vecs.T
    cross = torch.linalg.eigvalsh(root_a @ cov_b @ root_a).clamp(min=0).sqrt().sum()
    return float((mu_a - mu_b).pow(2).sum() + cov_a.trace() + cov_b.trace() - 2 * cross)


@torch.no_grad()
def classify(classifier: nn.Module, x: torch.Tensor, batch: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """Penultimate features (n, d) and class probabilities (n, 10) of images x (n, 1, 28, 28) in [0, 1]."""
    feats, probs = [], []
    for chunk in x.split(batch):
        f = classifier.features(chunk.to(classifier.device))
        feats.append(f.cpu())
        probs.append(classifier.head(f).softmax(1).cpu())
    return torch.cat(feats), torch.cat(probs)


def class_histogram(probs: torch.Tensor) -> list[float]:
    """Fraction of images whose most likely class is c, for c = 0..9."""
    counts = torch.bincount(probs.argmax(1), minlength=probs.shape[1]).double()
    return [round(float(v), 4) for v in counts / counts.sum()]


@torch.no_grad()
def sample_batched(model: nn.Module, n: int, seed: int = 0, batch: int = 250) -> torch.Tensor:
    """n samples on the CPU, drawn in batches from one generator seeded `seed`."""
    g = cpu_generator(seed)
    return torch.cat([model.sample(min(batch, n - i), g).cpu() for i in range(0, n, batch)])


def gan_metrics(model: nn.Module, classifier: nn.Module, test_x: torch.Tensor, n: int = FD_SAMPLES) -> dict:
    fake_feats, fake_probs = classify(classifier, sample_batched(model, n))
    real_feats, _ = classify(classifier, test_x)
    return {"fd": round(frechet_distance(fake_feats, real_feats), 3), "class_histogram": class_histogram(fake_probs)}


@torch.no_grad()
def vae_metrics(model: nn.Module, test_x: torch.Tensor, k: int = IWAE_K, batch: int = 100) -> dict:
    xb = data.fixed_binarization(test_x)
    g = cpu_generator(0)
    elbo = torch.cat([model.log_prob(c.to(model.device), g).cpu() for c in xb.split(batch)])
    iwae = torch.cat([model.iwae_bound(c.to(model.device), k, g).cpu() for c in xb.split(batch)])
    return {"elbo_nats": round(-elbo.mean().item(), 3), "iwae_nats": round(-iwae.mean().item(), 3), "iwae_k": k}


@torch.no_grad()
def classifier_metrics(model: nn.Module, test_x: torch.Tensor, test_y: torch.Tensor) -> dict:
    _, probs = classify(model, test_x)
    return {"accuracy": round((probs.argmax(1) == test_y).double().mean().item(), 4)}


@torch.no_grad()
def translation_metrics(
    model: nn.Module, classifier: nn.Module, test_x: torch.Tensor, test_y: torch.Tensor, batch: int = 250
) -> dict:
    """Stroke translation on the test split's thin and thick thirds (split per class, as in training).

    class_kept: how often the classifier reads the translated digit as it reads the original; cycle_l1: mean
    |x − G_BA(G_AB(x))| per pixel in [0, 1]; ink: mean pixel intensity, which a thin → thick model should raise.
    """
    domain = data.stroke_domains(test_x, test_y)
    a_name, b_name = model.domains[0], model.domains[-1]  # thin and thick (StarGAN also knows medium)
    out: dict = {}
    for (src, dst), d in (((a_name, b_name), 0), ((b_name, a_name), 2)):
        x = test_x[domain == d]
        run = lambda t, s, u: torch.cat([model.translate(c.to(model.device), s, u).cpu() for c in t.split(batch)])  # noqa: E731
        y = run(x, src, dst)
        back = run(y, dst, src)
        _, p_x = classify(classifier, x)
        _, p_y = classify(classifier, y)
        key = f"{src}_to_{dst}"
        out[f"class_kept_{key}"] = round((p_y.argmax(1) == p_x.argmax(1)).double().mean().item(), 4)
        out[f"cycle_l1_{src}_{dst}_{src}"] = round((back - x).abs().mean().item(), 4)
        out[f"ink_{src}"] = round(x.mean().item(), 4)
        out[f"ink_{key}"] = round(y.mean().item(), 4)
        out[f"images_{src}"] = len(x)
    return out


@torch.no_grad()
def autoregressive_metrics(model: nn.Module, test_x: torch.Tensor, test_y: torch.Tensor, batch: int = 100) -> dict:
    xs = data.fixed_binarization(test_x).split(batch)

    def nll(condition: torch.Tensor | None) -> torch.Tensor:
        """−log p(x | condition) per test image; condition: labels (n,), or None."""
        conditions = [None] * len(xs) if condition is None else condition.split(batch)
        dev = model.device
        return torch.cat(
            [
                -model.log_prob(x.to(dev), None if c is None else c.to(dev)).cpu()
                for x, c in zip(xs, conditions, strict=True)
            ]
        )

    if not model.num_classes:
        return {"nll_nats": round(nll(None).mean().item(), 3)}
    n = len(test_x)
    per_class = torch.stack(
        [-nll(torch.full((n,), y)) for y in range(model.num_classes)], 1
    )  # (n, classes): log p(x|y)
    mixture = torch.logsumexp(per_class, 1) - math.log(model.num_classes)
    return {
        "nll_nats": round(-mixture.mean().item(), 3),
        "nll_unconditional_nats": round(nll(None).mean().item(), 3),
        "nll_given_label_nats": round(nll(test_y).mean().item(), 3),
    }


@torch.no_grad()
def vqvae_metrics(model: nn.Module, classifier: nn.Module, test_x: torch.Tensor, batch: int = 100) -> dict:
    xb = data.fixed_binarization(test_x).to(model.device)
    recon = torch.cat([model.recon_bce(c) for c in xb.split(batch)])
    prior = torch.cat([-model.prior.log_prob(model.encode(c).float()) for c in xb.split(batch)])
    _, probs = classify(classifier, sample_batched(model, FD_SAMPLES))
    return {
        "recon_bce_nats": round(recon.mean().item(), 3),
        "prior_nll_nats": round(prior.mean().item(), 3),
        "nll_bound_nats": round((recon + prior).mean().item(), 3),
        "confident_samples": round((probs.max(1).values >= 0.9).double().mean().item(), 4),
        "class_histogram": class_histogram(probs),
    }


def evaluate(name: str, data_root: str | Path | None = None) -> dict:
    """The held-out metrics of model `name` on the test split under `data_root` (see the module docstring)."""
    entry = registry.get(name)
    images, labels = data.load_mnist(data_root, "test")
    test_x = data.to_unit(images)
    model = hub.load(name)
    if entry.family == "gan":
        metrics = gan_metrics(model, hub.load("mnist-classifier"), test_x)
    elif entry.family == "vae":
        metrics = vae_metrics(model, test_x)
    elif entry.family == "classifier":
        metrics = classifier_metrics(model, test_x, labels)
    elif entry.family == "autoregressive":
        metrics = autoregressive_metrics(model, test_x, labels)
    elif entry.family == "vqvae":
        metrics = vqvae_metrics(model, hub.load("mnist-classifier"), test_x)
    elif entry.family == "translation" and not entry.hub_file:
        metrics = translation_metrics(model, hub.load("mnist-classifier"), test_x, labels)
    else:
        raise ValueError(f"no evaluation defined for family {entry.family!r}")
    return {"model": name, "test_images": len(test_x), **metrics}


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

MNIST as read from `MNIST/raw/` in torchvision's layout. In this workplace the "train" split is 8,000 images and the
"test" split 1,000 images, a seeded split of the official 10,000-image MNIST test set (the official 60,000-image
training set was not available offline). Metrics below are on the 1,000 held-out test images, never seen in training.

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
