"""The layers the image flows (NICE, RealNVP, Glow) are made of, and `ImageFlow`, the multi-scale frame they share.

Every layer keeps the flow contract of `base.Flow` at its own size: `forward(h) -> (h', log_det)` with log_det =
log|det ∂h'/∂h| per example, and `inverse(h') -> h`. A layer that changes the shape of h says how in `out_shape`.

An `ImageFlow` is: a preprocessing layer (the logit, or nothing), then levels of layers; every level but the last ends
in a `Split` that factors half the channels out to the latent (Dinh et al. 2017, "multi-scale architecture"). The
latent z is every factored-out part and the last level's output, flattened and concatenated in that order: one
(n, 784) vector per image for MNIST, `encode(x)` gives it and `decode(z)` inverts it exactly (up to
rounding, which a digit a coupling squeezed hard can blow up in float32: the Latent tab runs flows in float64, see
recipes/flow.py).

Data are 8-bit MNIST with uniform dequantisation: a pixel with value k in 0..255 is u = (k + v) / 256, v ~ U(0, 1),
and the flow is a density on u ∈ [0, 1]^784. `log_prob(x)` is log p(u) − 784 log 256: the continuous density moved to
the 0..256 scale, a lower bound on the log-probability of the 8-bit image (Theis et al. 2016), in nats.
Bits per dimension = −log_prob / (784 ln 2), the figure the papers report.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .base import Flow, ImageModel, cpu_generator, init_parameters, standard_normal

LOG_256 = math.log(256.0)
Shape = tuple[int, ...]


def per_example(t: torch.Tensor) -> torch.Tensor:
    """Sum over every dimension but the first."""
    return t.flatten(1).sum(1)


class Layer(nn.Module):
    """A flow layer: `forward(h) -> (h', log_det)`, `inverse(h') -> h`, `out_shape(shape)` of one example."""

    def out_shape(self, shape: Shape) -> Shape:
        return shape

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class Logit(Layer):
    """u ∈ [0, 1] → logit(α + (1 − 2α) u), so the flow works on the real line (RealNVP, section 4.1). α keeps the ends
    finite; the log-det of the squashing is counted, so the density is still one on u."""

    def __init__(self, alpha: float = 0.05):
        super().__init__()
        self.alpha = alpha

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s = self.alpha + (1 - 2 * self.alpha) * u
        y = torch.log(s) - torch.log1p(-s)
        log_det = per_example(math.log(1 - 2 * self.alpha) - torch.log(s) - torch.log1p(-s))
        return y, log_det

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return (torch.sigmoid(y) - self.alpha) / (1 - 2 * self.alpha)


class Identity(Layer):
    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return h, h.new_zeros(h.shape[0])

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return y


class Flatten(Layer):
    """(C, H, W) ⇄ (C·H·W,): for the fully connected NICE."""

    def __init__(self, shape: Shape):
        super().__init__()
        self.shape = tuple(shape)

    def out_shape(self, shape: Shape) -> Shape:
        return (math.prod(shape),)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return h.flatten(1), h.new_zeros(h.shape[0])

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return y.reshape(-1, *self.shape)


class Squeeze(Layer):
    """(C, H, W) → (4C, H/2, W/2): each 2×2 block of pixels becomes four channels (RealNVP, figure 3)."""

    def out_shape(self, shape: Shape) -> Shape:
        c, h, w = shape
        return (4 * c, h // 2, w // 2)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n, c, hh, ww = h.shape
        y = h.reshape(n, c, hh // 2, 2, ww // 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(n, 4 * c, hh // 2, ww // 2)
        return y, h.new_zeros(n)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        n, c4, hh, ww = y.shape
        c = c4 // 4
        return y.reshape(n, c, 2, 2, hh, ww).permute(0, 1, 4, 2, 5, 3).reshape(n, c, 2 * hh, 2 * ww)


class ActNorm(Layer):
    """Per-channel affine y = (h + b) · exp(s), started from the first batch it sees in training so that batch comes
    out with zero mean and unit variance per channel (Glow, section 3.1). `initialized` is a buffer, saved with the
    weights, so a loaded model never re-initialises."""

    def __init__(self, channels: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.log_scale = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.register_buffer("initialized", torch.tensor(0.0))

    @torch.no_grad()
    def _start_from(self, h: torch.Tensor) -> None:
        mean, std = h.mean((0, 2, 3), keepdim=True), h.std((0, 2, 3), keepdim=True)
        self.bias.copy_(-mean)
        self.log_scale.copy_(-torch.log(std + 1e-6))
        self.initialized.fill_(1.0)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.training and not self.initialized:
            self._start_from(h)
        y = (h + self.bias) * torch.exp(self.log_scale)
        return y, self.log_scale.sum().expand(h.shape[0]) * (h.shape[2] * h.shape[3])

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return y * torch.exp(-self.log_scale) - self.bias


class InvConv1x1(Layer):
    """An invertible 1×1 convolution mixing the channels, W = P L (U + diag(sign · exp(log_s))) (Glow, section 3.2,
    "LU decomposition"): P is a fixed permutation, L unit lower triangular, U strictly upper triangular; the log-det
    is H·W·Σ log_s, O(C) instead of O(C³). It starts as a random rotation drawn from the caller's generator."""

    def __init__(self, channels: int):
        super().__init__()
        self.register_buffer("permutation", torch.eye(channels))
        self.register_buffer("sign_s", torch.ones(channels))
        self.register_buffer("lower_mask", torch.tril(torch.ones(channels, channels), -1))
        self.lower = nn.Parameter(torch.zeros(channels, channels))
        self.upper = nn.Parameter(torch.zeros(channels, channels))
        self.log_s = nn.Parameter(torch.zeros(channels))

    @torch.no_grad()
    def seeded_init(self, generator: torch.Generator) -> None:
        c = self.log_s.numel()
        q, _ = torch.linalg.qr(torch.randn(c, c, generator=generator, dtype=torch.float64))
        p, lower, upper = torch.linalg.lu(q)
        s = torch.diagonal(upper)
        self.permutation.copy_(p)
        self.lower.copy_(lower)
        self.upper.copy_(torch.triu(upper, 1))
        self.sign_s.copy_(torch.sign(s))
        self.log_s.copy_(torch.log(s.abs()))

    def weight(self) -> torch.Tensor:
        eye = torch.eye(self.log_s.numel(), dtype=self.log_s.dtype, device=self.log_s.device)
        lower = self.lower * self.lower_mask + eye
        upper = self.upper * self.lower_mask.T + torch.diag(self.sign_s * torch.exp(self.log_s))
        return self.permutation @ lower @ upper

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = F.conv2d(h, self.weight()[:, :, None, None])
        return y, self.log_s.sum().expand(h.shape[0]) * (h.shape[2] * h.shape[3])

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        w_inv = torch.linalg.inv(self.weight().double()).to(y.dtype)
        return F.conv2d(y, w_inv[:, :, None, None])


class ConvNet(nn.Sequential):
    """The coupling networks: conv 3×3 → ReLU → conv 1×1 → ReLU → conv 3×3, the last started at zero so every coupling
    starts as the identity (Glow, section 3.3)."""

    def __init__(self, c_in: int, hidden: int, c_out: int):
        super().__init__(
            nn.Conv2d(c_in, hidden, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(hidden, hidden, 1),
            nn.ReLU(),
            nn.Conv2d(hidden, c_out, 3, padding=1),
        )

    def seeded_init(self, generator: torch.Generator) -> None:
        for layer in list(self)[:-1]:
            init_parameters(layer, generator)
        nn.init.zeros_(self[-1].weight)
        nn.init.zeros_(self[-1].bias)


class AffineCoupling(Layer):
    """y_b = h_b · exp(s(h_a)) + t(h_a), y_a = h_a (RealNVP, eq. 7): the log-det is Σ s.

    `mask`: "checkerboard" (a and b are the two colours of a checkerboard over the pixels; `parity` picks which is
    kept; the network sees the kept pixels and the mask) or "channel" (the first or second half of the channels).
    `scale`: "tanh" bounds s to ±(a learned per-channel factor) (RealNVP); "sigmoid" gives exp(s) = sigmoid(· + 2),
    scales in (0, 1) that start near 1 (Glow's code).
    """

    def __init__(self, channels: int, hidden: int, mask: str = "channel", parity: int = 0, scale: str = "sigmoid"):
        super().__init__()
        if mask not in ("checkerboard", "channel") or scale not in ("tanh", "sigmoid"):
            raise ValueError(f"unknown coupling mask {mask!r} or scale {scale!r}")
        self.mask, self.parity, self.scale = mask, parity, scale
        if mask == "checkerboard":
            c_in, self.c_out = channels + 1, channels
        else:
            self.c_keep = channels // 2 if parity == 0 else channels - channels // 2
            c_in, self.c_out = self.c_keep, channels - self.c_keep
        self.net = ConvNet(c_in, hidden, 2 * self.c_out)
        if scale == "tanh":
            self.s_factor = nn.Parameter(torch.ones(1, self.c_out, 1, 1))

    def _checkerboard(self, h: torch.Tensor) -> torch.Tensor:
        i = torch.arange(h.shape[2], device=h.device)[:, None]
        j = torch.arange(h.shape[3], device=h.device)[None, :]
        return ((i + j + self.parity) % 2).to(h.dtype).expand(1, 1, -1, -1)

    def _log_scale_shift(self, kept: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raw, shift = self.net(kept).chunk(2, dim=1)
        if self.scale == "tanh":
            return self.s_factor * torch.tanh(raw), shift
        return F.logsigmoid(raw + 2.0), shift

    def _split(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.parity == 0:
            return h[:, : self.c_keep], h[:, self.c_keep :]
        return h[:, self.c_out :], h[:, : self.c_out]

    def _join(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.cat([a, b] if self.parity == 0 else [b, a], dim=1)

    def _checkerboard_terms(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """log s and t for the pixels of the other colour (zero on the kept ones), read from the kept ones."""
        m = self._checkerboard(h)
        log_s, t = self._log_scale_shift(torch.cat([h * m, m.expand(h.shape[0], -1, -1, -1)], 1))
        return log_s * (1 - m), t * (1 - m)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.mask == "checkerboard":
            log_s, t = self._checkerboard_terms(h)
            return h * torch.exp(log_s) + t, per_example(log_s)
        a, b = self._split(h)
        log_s, t = self._log_scale_shift(a)
        return self._join(a, b * torch.exp(log_s) + t), per_example(log_s)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        if self.mask == "checkerboard":  # the kept pixels are unchanged, so y gives the same log s and t
            log_s, t = self._checkerboard_terms(y)
            return (y - t) * torch.exp(-log_s)
        a, b = self._split(y)
        log_s, t = self._log_scale_shift(a)
        return self._join(a, (b - t) * torch.exp(-log_s))


class Split(Layer):
    """Factor out half the channels to the latent (RealNVP's multi-scale architecture). With `learned_prior` (Glow),
    the factored-out half z₂ is standardised by a Gaussian whose mean and log-scale a zero-started conv reads from the
    kept half z₁: ε = (z₂ − μ(z₁)) · exp(−log σ(z₁)), log-det −Σ log σ, so the latent ε is N(0, I) like the rest.

    `forward(h) -> (kept, out, log_det)`; `inverse(kept, out) -> h`.
    """

    def __init__(self, channels: int, learned_prior: bool = False):
        super().__init__()
        self.keep = channels - channels // 2
        self.prior = nn.Conv2d(self.keep, 2 * (channels // 2), 3, padding=1) if learned_prior else None

    def seeded_init(self, generator: torch.Generator) -> None:
        if self.prior is not None:
            nn.init.zeros_(self.prior.weight)
            nn.init.zeros_(self.prior.bias)

    def out_shape(self, shape: Shape) -> Shape:
        return (self.keep, *shape[1:])

    def factored_shape(self, shape: Shape) -> Shape:
        return (shape[0] - self.keep, *shape[1:])

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        kept, out = h[:, : self.keep], h[:, self.keep :]
        if self.prior is None:
            return kept, out, h.new_zeros(h.shape[0])
        mean, log_scale = self.prior(kept).chunk(2, dim=1)
        return kept, (out - mean) * torch.exp(-log_scale), -per_example(log_scale)

    def inverse(self, kept: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        if self.prior is not None:
            mean, log_scale = self.prior(kept).chunk(2, dim=1)
            out = out * torch.exp(log_scale) + mean
        return torch.cat([kept, out], dim=1)


class ImageFlow(Flow, ImageModel):
    """An image flow: `preprocess`, then `levels` (each a list of layers), every level but the last followed by a
    `Split`. Subclasses build the three in their constructor and call `self.plan()`.

    - `forward(u) -> (z, log_det)`: u (n, 1, 28, 28) in [0, 1] (dequantised), z (n, 784) as the module docstring says.
    - `inverse(z) -> u`; `encode(x)` / `decode(z)` are the same pair under the names the Latent tab uses.
    - `log_prob(x, generator=)`: x in [0, 1] is read as 8-bit (k = round(255 x)) and dequantised with noise from
      `generator` (seed 0 when None, so one image always gets one score); nats, see the module docstring.
    - `sample(n, generator, temperature)`: z from the prior with its scale times `temperature`, clamped to [0, 1].
    The prior is N(0, I); NICE overrides `prior_log_prob` / `prior_sample` with its logistic one.

    `inverse` holds every layer's output within ±`INVERSE_LIMIT`: a latent far from the data's (a hot sample at
    temperature 1.2) can make a coupling divide by a scale near 0 and overflow, and the pixels it reaches then saturate
    instead of turning the whole image into NaN. Real digits stay far inside the limit (the largest |h| it sees on
    the test images: NICE 1.7, RealNVP 47, Glow 27), so the inverse stays exact.
    """

    INVERSE_LIMIT = 1e6

    image_shape = (1, 28, 28)
    latent_shape = (784,)

    def plan(self) -> None:
        """Record the shape of every factored-out part, so `inverse` can cut z back into them."""
        shape, self.part_shapes = self.image_shape, []
        shape = self.preprocess.out_shape(shape)
        for i, level in enumerate(self.levels):
            for layer in level:
                shape = layer.out_shape(shape)
            if i < len(self.splits):
                self.part_shapes.append(self.splits[i].factored_shape(shape))
                shape = self.splits[i].out_shape(shape)
        self.part_shapes.append(shape)
        assert sum(math.prod(s) for s in self.part_shapes) == math.prod(self.latent_shape)

    def forward(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, log_det = self.preprocess(u)
        parts = []
        for i, level in enumerate(self.levels):
            for layer in level:
                h, ld = layer(h)
                log_det = log_det + ld
            if i < len(self.splits):
                h, out, ld = self.splits[i](h)
                parts.append(out.flatten(1))
                log_det = log_det + ld
        parts.append(h.flatten(1))
        return torch.cat(parts, 1), log_det

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        sizes = [math.prod(s) for s in self.part_shapes]
        parts = [p.reshape(-1, *s) for p, s in zip(z.split(sizes, 1), self.part_shapes, strict=True)]
        h = parts[-1]
        for i in reversed(range(len(self.levels))):
            if i < len(self.splits):
                h = self.held(self.splits[i].inverse(h, parts[i]))
            for layer in reversed(self.levels[i]):
                h = self.held(layer.inverse(h))
        return self.preprocess.inverse(h)

    def held(self, h: torch.Tensor) -> torch.Tensor:
        """h within ±INVERSE_LIMIT, overflow included (see the class docstring)."""
        limit = self.INVERSE_LIMIT
        return torch.nan_to_num(h, nan=0.0, posinf=limit, neginf=-limit).clamp(-limit, limit)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The latent (n, 784) of images x in [0, 1], taken as they are (no noise): `decode` gives x back."""
        return self(x)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.inverse(z)

    def prior_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(1)

    def prior_sample(self, n: int, generator: torch.Generator | None, temperature: float) -> torch.Tensor:
        return standard_normal((n, *self.latent_shape), generator, temperature)

    def dequantize(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """u = (k + v) / 256 with k = round(255 x) and v ~ U(0, 1) drawn on the CPU from `generator`."""
        noise = torch.rand(x.shape, generator=generator or cpu_generator(0)).to(x.device, x.dtype)
        return ((x * 255).round() + noise) / 256

    def density(self, u: torch.Tensor) -> torch.Tensor:
        """log p(u) of dequantised images u in [0, 1], nats per image."""
        z, log_det = self(u)
        return self.prior_log_prob(z) + log_det

    def log_prob(
        self, x: torch.Tensor, *, condition: torch.Tensor | None = None, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        u = self.dequantize(x, generator)
        return self.density(u) - u[0].numel() * LOG_256

    def bits_per_dim(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """−log_prob / (D ln 2) per image."""
        return -self.log_prob(x, generator=generator) / (x[0].numel() * math.log(2))

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, temperature: float = 1.0) -> torch.Tensor:
        z = self.prior_sample(n, generator, temperature).to(self.device)
        return self.inverse(z).clamp(0.0, 1.0)
