"""Pieces the recipes share, written once: batches, keeping the best weights, learning-rate decay, and the
classifier-based measures of samples (Fréchet distance, improved precision and recall, class histogram, confident
share)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import nn

from ..models.base import cpu_generator


def batches(n: int, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Shuffled index batches covering range(n) once (the last, smaller batch dropped)."""
    order = torch.randperm(n, generator=generator)
    for i in range(0, n - batch_size + 1, batch_size):
        yield order[i : i + batch_size]


class KeepBest:
    """Remembers the weights with the best validation score seen so far, and puts them back at the end.

    `lower_is_better`: True for a loss or an NLL, False for an ELBO.
    """

    def __init__(self, model: nn.Module, lower_is_better: bool = True):
        self.model, self.sign = model, 1.0 if lower_is_better else -1.0
        self.best, self.epoch, self.state = math.inf if lower_is_better else -math.inf, 0, None

    def update(self, score: float, epoch: int) -> None:
        if self.state is None or self.sign * score < self.sign * self.best:
            self.best, self.epoch = score, epoch
            self.state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def restore(self) -> None:
        self.model.load_state_dict(self.state)


def decay_over_second_half(optimizers: list[torch.optim.Optimizer], total_steps: int) -> list:
    """Schedulers that keep each learning rate for the first half of `total_steps`, then decay it linearly to 0."""
    decay = lambda step: min(1.0, 2 - 2 * step / total_steps)  # noqa: E731
    return [torch.optim.lr_scheduler.LambdaLR(o, decay) for o in optimizers]


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


def confident_share(probs: torch.Tensor, level: float = 0.9) -> float:
    """The share of images the classifier gives at least `level` for one class."""
    return round((probs.max(1).values >= level).double().mean().item(), 4)


@torch.no_grad()
def sample_batched(model: nn.Module, n: int, seed: int = 0, batch: int = 250, temperature: float = 1.0) -> torch.Tensor:
    """n samples on the CPU, drawn in batches from one generator seeded `seed`."""
    g = cpu_generator(seed)
    return torch.cat([model.sample(min(batch, n - i), g, temperature).cpu() for i in range(0, n, batch)])


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019, arXiv:1904.06991) of feature sets real (n, d) and
    fake (m, d): each set's manifold is the union of balls around its points reaching their k-th nearest neighbour.
    Precision is the share of fake points inside the real manifold (quality), recall the share of real points inside
    the fake one (coverage)."""
    real, fake = real.double(), fake.double()

    def radii(points: torch.Tensor) -> torch.Tensor:
        return torch.cdist(points, points).kthvalue(k + 1, dim=1).values  # the point itself is the 1st, at 0

    between = torch.cdist(fake, real)  # (m, n)
    precision = (between <= radii(real)[None, :]).any(1).double().mean().item()
    recall = (between.T <= radii(fake)[None, :]).any(1).double().mean().item()
    return precision, recall


def sample_quality(classifier: nn.Module, images: torch.Tensor, real: torch.Tensor) -> dict:
    """How images (n, 1, 28, 28) compare with real ones in the classifier's feature space: Fréchet distance,
    precision and recall (k = 3), the share the classifier is ≥ 90 % sure of, and the class histogram."""
    feats, probs = classify(classifier, images)
    real_feats, _ = classify(classifier, real)
    precision, recall = precision_recall(real_feats, feats)
    return {
        "fd": round(frechet_distance(feats, real_feats), 3),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "confident_samples": confident_share(probs),
        "class_histogram": class_histogram(probs),
    }
