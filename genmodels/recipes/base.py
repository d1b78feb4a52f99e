"""What a model family's recipe holds, and what its evaluation is given.

A `Recipe` is everything the project knows about training, measuring and showing one kind of model, kept beside the
registry entry that names it: the training loop (`train`), its full default config and epochs, the held-out metrics
(`evaluate`, printed by `python -m genmodels.evaluate`), the badge the app shows for those metrics, and what the model
can do (capabilities the app reads up front instead of calling the model to find out). Tiny configs for the tests live
here too, so a recipe and its smallest working example sit together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

FD_SAMPLES = 1000  # samples behind every Fréchet distance and class histogram


@dataclass
class HeldOut:
    """What an evaluation sees: the held-out images (n, 1, 28, 28) in [0, 1], their labels, and the yardstick.

    `classifier()` loads the project's MNIST classifier the first time it is called (a model's evaluation that needs
    no classifier never loads it). `samples` is how many images a sampler is scored on (FD_SAMPLES; tests use fewer).
    """

    x: torch.Tensor
    y: torch.Tensor
    load_classifier: Callable[[], nn.Module]
    samples: int = FD_SAMPLES
    _classifier: nn.Module | None = field(default=None, repr=False)

    def classifier(self) -> nn.Module:
        if self._classifier is None:
            self._classifier = self.load_classifier()
        return self._classifier


# (model, known (1 or n, 1, H, W) in [0, 1], mask (1, 1, H, W) bool with True where to fill, n, generator, temperature,
# condition (n,) or None) -> yields (steps done, steps in all, completions (n, 1, H, W) in [0, 1]) as they grow;
# the last is the answer. Observed pixels come back as the model reads them (binary models: known > 0.5).
Completer = Callable[..., Iterator[tuple[int, int, torch.Tensor]]]
# (model, x, y, epochs, seed, **options) -> stats; options are keyword arguments with defaults (train --set KEY=VALUE)
Trainer = Callable[..., dict]
Evaluator = Callable[[nn.Module, HeldOut], dict]  # (model, held-out set) -> JSON-able metrics
Badge = Callable[[dict], str]  # metrics.json -> one line for the app


def prior_draw(model: nn.Module, n: int, generator: torch.Generator) -> torch.Tensor:
    return model.prior_sample(n, generator)


def model_decode(model: nn.Module, z: torch.Tensor) -> torch.Tensor:
    return model.decode(z).clamp(0.0, 1.0)


def model_encode(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return model.encode(x)


@dataclass(frozen=True)
class LatentSpace:
    """How the Latent tab moves in a family's latent space: one sentence on what z is (`about`), z for a seed
    (`draw(model, n, generator)`), images in [0, 1] from z (`decode(model, z)`), and z from images in [0, 1]
    (`encode(model, x)`; None for a GAN, which has no encoder: the tab finds its z by optimisation). z may have any
    shape per image; walks and arithmetic treat it as one vector."""

    about: str
    draw: Callable[[nn.Module, int, torch.Generator], torch.Tensor] = prior_draw
    decode: Callable[[nn.Module, torch.Tensor], torch.Tensor] = model_decode
    encode: Callable[[nn.Module, torch.Tensor], torch.Tensor] | None = model_encode


@dataclass(frozen=True)
class Recipe:
    """One kind of model: how to train it, measure it and show it, and what it can do.

    Attributes:
        family: "gan", "vae", "autoregressive", ...; stated here only (the registry and the app read it from here).
        train: the training loop, (model, x, y, epochs, seed) -> stats for training.json; x (n, 1, 28, 28) in [0, 1].
        evaluate: the held-out metrics, or None for a model that is not trained or measured here.
        badge: the app's one-line summary of the metrics that `evaluate` wrote.
        epochs: the default number of epochs.
        config: the full constructor kwargs trained here (the model class's defaults when empty).
        tiny_config: constructor kwargs small enough for a test to build, train a step and evaluate in a second.
        samples: draws images (`sample(n, generator, temperature)`), so the Sample tab lists it.
        encodes: has `encode(x)` (a VAE's posterior mean, a VQ-VAE's codes, a flow's inverse).
        likelihood: "exact", "bound" (−log_prob bounds the NLL from above) or "" (none).
        autoregressive: draws pixel by pixel with the shared sampler (`models/autoregressive.py`), so it streams rows.
        conditional: takes a class label (`condition=`) when sampling and scoring.
        truncation: its `sample` takes `truncation=` (a GAN's latent).
        translates: keeps the translation contract (`translate(x, source, target)`, `domains`).
        temperature: what sampling temperature t does for this family, in one sentence for the Sample tab.
        temperatures: the (lowest, highest) t the family draws sensibly at; the Sample tab keeps t inside and says so.
        temperature_scale: the family draws at temperature_scale × t (flows: 0.7, so the Sample tab's t = 1 gives the
            reduced temperature of the Glow paper).
        complete: fills the masked pixels of an image (`Completer` above), for the Complete tab; None if it cannot.
        completion: how it fills them and how far that is the true conditional p(hidden | observed), in one sentence.
        latent: how walks, arithmetic, encoding and directions reach its latent space (`LatentSpace`); None if not.
        denoises: trained to give back clean images from noisy ones (`reconstruct(noisy)`), for the Latent tab.
    """

    family: str
    train: Trainer | None
    evaluate: Evaluator | None
    badge: Badge
    epochs: int = 0
    config: dict = field(default_factory=dict)
    tiny_config: dict = field(default_factory=dict)
    samples: bool = False
    encodes: bool = False
    likelihood: Literal["exact", "bound", ""] = ""
    autoregressive: bool = False
    conditional: bool = False
    truncation: bool = False
    translates: bool = False
    temperature: str = "t scales the spread of the latent prior, z ~ N(0, t²I): lower = more typical, less varied."
    temperatures: tuple[float, float] = (0.05, 2.0)
    temperature_scale: float = 1.0
    complete: Completer | None = None
    completion: str = ""
    latent: LatentSpace | None = None
    denoises: bool = False


def numbers_badge(metrics: dict) -> str:
    """A fallback badge: every float metric, as stored."""
    return ", ".join(f"{k} {v}" for k, v in metrics.items() if isinstance(v, float))
