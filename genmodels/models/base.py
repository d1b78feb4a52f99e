"""The small contracts every model family in genmodels keeps (see DESIGN.md, "Contracts"), written once.

- `ImageModel`: `sample(n, generator, temperature) -> (n, C, H, W)` in [0, 1] on the model's device.
- `LatentModel`: `latent_shape`, `decode(z)`, `decode_logits(z)` where the decoder has logits, `encode(x)` where an
  encoder exists.
- `LikelihoodModel`: `log_prob(x, *, condition=None) -> (n,)` in nats (exact, or a bound, as the recipe declares).
- `Flow`: `forward(x) -> (z, log_det)`, `inverse(z) -> x`, `log_prob`, `sample(n, generator, temperature)`; flow
  layers keep the same `forward` / `inverse` pair.
The autoregressive contract is in `autoregressive.py`, the translation contract in `cyclegan.py`. What a model can do
(encode, likelihood, autoregressive, conditional, translate) is declared by its recipe (`genmodels/recipes/`), not
discovered by calling it.

All randomness comes from a `torch.Generator` the caller passes; noise is drawn on the CPU from it and then moved, so
one seed gives the same images on CPU and GPU. Nothing here touches torch's process-wide random state: a server runs
many users in threads, and `init_parameters` draws initial weights from a generator, never from a reseeded global one.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

# What PyTorchModelHubMixin writes into every model card and config of ours.
HUB_KWARGS = dict(library_name="genmodels", repo_url="https://github.com/genmodels/genmodels", tags=["genmodels"])


def default_device() -> torch.device:
    """CUDA when present, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def cpu_generator(seed: int) -> torch.Generator:
    """A CPU generator seeded with `seed`: the only source of randomness the models use."""
    return torch.Generator().manual_seed(int(seed))


def init_parameters(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """Draw `module`'s weights again from `generator`, with torch's default schemes; returns the module.

    Linear and convolution layers: U(±1/√fan_in) for weights (kaiming-uniform, a = √5) and biases; embeddings:
    N(0, 1); normalisation layers keep their constant start. A module with its own scheme defines
    `seeded_init(generator)`, which is called instead (for it and everything inside it).
    """
    if hasattr(module, "seeded_init"):
        module.seeded_init(generator)
        return module
    with torch.no_grad():
        if isinstance(module, (nn.Linear, nn.modules.conv._ConvNd)):
            nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
            if module.bias is not None:
                fan_in, _ = nn.init._calculate_fan_in_and_fan_out(module.weight)
                bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                nn.init.uniform_(module.bias, -bound, bound, generator=generator)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, generator=generator)
    for child in module.children():
        init_parameters(child, generator)
    return module


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

    image_shape: tuple[int, int, int] = (1, 28, 28)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def sample(self, n: int, generator: torch.Generator | None = None, temperature: float = 1.0) -> torch.Tensor:
        raise NotImplementedError


class LatentModel(ImageModel):
    """A model with a prior over latents z: `latent_shape`, `decode(z)`, and `encode(x)` where it exists.

    A decoder with a Bernoulli (or other) output also has `decode_logits(z)`; `decode(z)` is then its mean.

    `sample` draws z from the (optionally tempered and truncated) prior and decodes it. Temperature scales the
    prior's standard deviation; truncation resamples each latent coordinate into [-t, t] (Brock et al. 2018).
    """

    latent_shape: tuple[int, ...] = ()

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no decoder logits")

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

    `log_prob(x, *, condition=None) -> (n,)` in nats, on the data representation the model was trained on (binarised
    MNIST, or 8-bit for flows). `condition` is a class label per image (n,) for conditional models, None otherwise;
    models that need randomness for a bound (a VAE's draws of z) take a keyword-only `generator` too. For a bound
    (VAE, VQ-VAE) −log_prob is an upper bound on the negative log-likelihood; the recipe declares which it is.
    """

    def log_prob(self, x: torch.Tensor, *, condition: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError


class Flow(nn.Module, LikelihoodModel):
    """A normalising flow: an invertible f from data x to latent z with a standard normal prior.

    `forward(x) -> (z, log_det)` with log_det = log|det ∂z/∂x| per example (n,), `inverse(z) -> x`, and
    log p(x) = log N(z; 0, I) + log_det. Flow layers keep the same two-method contract, so a flow is a composition of
    layers and its log-det is the sum of theirs. Subclasses set `latent_shape` (one example's z).
    """

    latent_shape: tuple[int, ...] = ()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def log_prob(self, x: torch.Tensor, *, condition: torch.Tensor | None = None) -> torch.Tensor:
        z, log_det = self(x)
        return -0.5 * (z.pow(2) + math.log(2 * math.pi)).flatten(1).sum(1) + log_det

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, temperature: float = 1.0) -> torch.Tensor:
        """n draws x = f⁻¹(z), z ~ N(0, temperature² I), noise drawn on the CPU."""
        device = next(self.parameters()).device
        return self.inverse(standard_normal((n, *self.latent_shape), generator, temperature).to(device))
