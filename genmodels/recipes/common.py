"""Pieces the recipes share, written once: batches, data-parallel training steps, keeping the best weights,
learning-rate decay, and the classifier-based measures of samples (Fréchet distance, improved precision and recall,
class histogram, confident share), and a loop's full state on disk so a stopped run goes on where it was.

Under `torchrun` (see `genmodels.train`) every process runs the same recipe loop with the same seed: `batches` gives
each process its equal share of every global batch, `data_parallel` runs a loss as a DistributedDataParallel forward
(so the backward averages the gradients of all processes), and `shard` cuts a draw made for the global batch to this
process's rows. One process is the special case where all three do nothing.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from ..models.base import cpu_generator


def processes() -> tuple[int, int]:
    """(this process's rank, how many processes train together): (0, 1) unless run under torchrun."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def batches(n: int, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Shuffled index batches covering range(n) once (the last, smaller batch dropped).

    `batch_size` is the global batch: with several processes every one draws the same order (same seed) and takes
    its own equal share of each batch, so together they cover exactly what one process would.
    """
    rank, size = processes()
    if batch_size % size:
        raise ValueError(f"The batch of {batch_size} does not split evenly over {size} processes.")
    share = batch_size // size
    order = torch.randperm(n, generator=generator)
    for i in range(0, n - batch_size + 1, batch_size):
        yield order[i + rank * share : i + (rank + 1) * share]


def shard(t: torch.Tensor) -> torch.Tensor:
    """This process's rows of `t`, a draw made for the global batch (noise, targets): the processes together use
    exactly the rows one process would, none twice."""
    rank, size = processes()
    share = len(t) // size
    return t[rank * share : (rank + 1) * share]


class _Step(nn.Module):
    """`loss(model, *inputs)` as a module's forward, so that DistributedDataParallel can run it."""

    def __init__(self, model: nn.Module, loss: Callable[..., object]):
        super().__init__()
        self.model, self.loss = model, loss

    def forward(self, *inputs: object) -> object:
        return self.loss(self.model, *inputs)


def data_parallel(model: nn.Module, loss: Callable[..., object], unused: bool = False) -> Callable[..., object]:
    """`loss(model, *inputs)` as one call; under torchrun a DistributedDataParallel forward, so the next backward
    through what it returns averages `model`'s gradients over all processes (other modules it uses, say a GAN's
    critic inside the generator's loss, are not synchronised: their gradients are thrown away before their own step).

    `unused`: some of `model`'s parameters get no gradient from `loss` (say a part trained in a later stage).
    """
    step = _Step(model, loss)
    if processes()[1] == 1:
        return step
    device = next(model.parameters()).device
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(step, device_ids=ids, find_unused_parameters=unused)


def summed_over_processes(t: torch.Tensor) -> torch.Tensor:
    """`t` summed over all processes, in place (counts each process made on its own share)."""
    if processes()[1] > 1:
        dist.all_reduce(t)
    return t


def mean_over_processes(total: float, count: int, device: torch.device) -> float:
    """A per-example mean over all processes, from each process's own sum (`total`) over the `count` examples of
    its share (under torchrun a process sees only its share of every batch)."""
    both = summed_over_processes(torch.tensor([total, count], dtype=torch.float64, device=device))
    return (both[0] / both[1]).item()


def as_on_first_process(t: torch.Tensor) -> torch.Tensor:
    """`t` overwritten, in place, with process 0's value (a change made outside the optimiser, e.g. a reset)."""
    if processes()[1] > 1:
        dist.broadcast(t, 0)
    return t


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


class LoopState:
    """A training loop's whole state in one file (`path`), so that a run stopped at any point goes on from its last
    finished epoch exactly as if it had never stopped: the `parts` (modules, optimisers: anything with a state dict),
    the random stream the loop draws from, and the loop's own counters.

    `load()` puts a saved state back into the parts and returns its counters ({} when there is no file yet); `save()`
    writes one after an epoch: a new file renamed over the old, so a stop mid-write leaves the last one whole; under
    torchrun process 0 writes it (every process holds the same state). Read back with torch.load(weights_only=True):
    tensors and numbers only, never code.
    """

    def __init__(self, path: str | Path, random: torch.Generator, **parts: object):
        self.path, self.random, self.parts = Path(path), random, parts

    def load(self) -> dict:
        if not self.path.exists():
            return {}
        try:
            saved = torch.load(self.path, map_location="cpu", weights_only=True)
            for name, part in self.parts.items():
                part.load_state_dict(saved["parts"][name])
        except (KeyError, RuntimeError, ValueError, OSError) as e:
            raise ValueError(f"{self.path} is not a saved state of this model and loop.") from e
        self.random.set_state(saved["random"])
        return saved["counters"]

    def save(self, **counters: float) -> None:
        if processes()[0]:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        saved = {
            "parts": {name: part.state_dict() for name, part in self.parts.items()},
            "random": self.random.get_state(),
            "counters": counters,
        }
        partial = self.path.with_name(self.path.name + ".partial")
        torch.save(saved, partial)
        os.replace(partial, self.path)


def linear_decay(progress: float, start: float) -> float:
    """A learning-rate factor at `progress` (0 … 1) through a run: 1 until `start`, then linearly down to 0 at the end
    (`start` 1: constant)."""
    return 1.0 if start >= 1 else min(1.0, (1 - progress) / (1 - start))


def decay_over_second_half(optimizers: list[torch.optim.Optimizer], total_steps: int) -> list:
    """Schedulers that keep each learning rate for the first half of `total_steps`, then decay it linearly to 0."""
    return [
        torch.optim.lr_scheduler.LambdaLR(o, lambda step: linear_decay(step / total_steps, 0.5)) for o in optimizers
    ]


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
