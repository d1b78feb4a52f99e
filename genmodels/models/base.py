"""The small contracts every model family in genmodels keeps (see DESIGN.md, "Contracts").

Image models return samples as float tensors shaped (n, C, H, W) with values in [0, 1] on the model's device. All
randomness comes from a `torch.Generator` the caller passes; noise is drawn on the CPU from it and then moved, so one
seed gives the same images on CPU and GPU.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


def default_device() -> torch.device:
    """CUDA when present, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def cpu_generator(seed: int) -> torch.Generator:
    """A CPU generator seeded with `seed`: the only source of randomness the models use."""
    return torch.Generator().manual_seed(int(seed))


@contextmanager
def one_intra_op_thread() -> Iterator[None]:
    """Torch on one intra-op thread for the block, in this thread only (OpenMP's setting is per thread).

    For work made of many tiny ops (a 2D GAN's steps, an autoregressive sampler's per-pixel slices): splitting them
    over two cores costs more than it saves, and from a server's worker thread it was measured 3× slower.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def standard_normal(
    shape: tuple[int, ...],
    generator: torch.Generator | None = None,
    temperature: float = 1.0,
    truncation: float | None = None,
) -> torch.Tensor:
    """Draw N(0, temperature² I) on the CPU, optionally truncated to |z| ≤ truncation · temperature.

    Truncation uses the inverse CDF (one uniform draw per element, no rejection loop), so the number of random
    numbers consumed is the same with or without it.
    """
    if truncation is None or truncation <= 0:
        z = torch.randn(shape, generator=generator)
    else:
        # u ~ U(Φ(-t), Φ(t)) and z = Φ⁻¹(u) is N(0, 1) conditioned on |z| ≤ t.
        lo = 0.5 * (1.0 + math.erf(-truncation / math.sqrt(2.0)))
        u = torch.rand(shape, generator=generator, dtype=torch.float64)
        z = torch.special.ndtri(lo + (1.0 - 2.0 * lo) * u).float()
    return z * float(temperature)


class ImageModel(nn.Module):
    """An image model: `sample(n, generator, temperature) -> (n, C, H, W)` in [0, 1]."""

    family: str = ""
    image_shape: tuple[int, int, int] = (1, 28, 28)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def sample(self, n: int, generator: torch.Generator | None = None, temperature: float = 1.0) -> torch.Tensor:
        raise NotImplementedError


class LatentModel(ImageModel):
    """A model with a prior over latents z: `latent_shape`, `decode(z)`, and `encode(x)` where it exists.

    `sample` draws z from the (optionally tempered and truncated) prior and decodes it. Temperature scales the
    prior's standard deviation; truncation resamples each latent coordinate into [-t, t] (Brock et al. 2018).
    """

    latent_shape: tuple[int, ...] = ()

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no encoder")

    def prior_sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        temperature: float = 1.0,
        truncation: float | None = None,
    ) -> torch.Tensor:
        z = standard_normal((n, *self.latent_shape), generator, temperature, truncation)
        return z.to(self.device)

    @torch.no_grad()
    def sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        temperature: float = 1.0,
        truncation: float | None = None,
    ) -> torch.Tensor:
        return self.decode(self.prior_sample(n, generator, temperature, truncation)).clamp(0.0, 1.0)


class LikelihoodModel:
    """Mixed into models with a likelihood or a bound on it.

    `log_prob(x) -> (n,)` in nats, on the data representation the model was trained on (binarised MNIST here).
    For a VAE it is the evidence lower bound, so −log_prob is an upper bound on the negative log-likelihood.
    """

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError
