"""NICE: Non-linear Independent Components Estimation (Dinh, Krueger & Bengio 2014, arXiv:1410.8516).

The first of the coupling flows, as the paper built it for MNIST (section 5.1):
- the image as one vector of 784 pixels in [0, 1] (dequantised, no logit);
- four additive coupling layers, y_b = x_b + m(x_a), each keeping the odd or the even pixels in turn; m is a
  fully connected ReLU network. Additive couplings are volume preserving: their log-det is 0;
- a diagonal scaling layer y = x · exp(s) at the end, the only place volume changes (log-det Σ s);
- a standard logistic prior on every latent dimension, log p(z) = −Σ (softplus(z) + softplus(−z)).

Departs from the paper in width only: m has 5 hidden layers of `hidden` units (the paper: 1,000), so that the
checkpoint stays under 10 MB; trained with Adam instead of the paper's Adam variant with its own schedule.
Temperature scales the logistic prior's scale (z = t · logit(u), u ~ U(0, 1)).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .base import HUB_KWARGS
from .flow_layers import Flatten, Identity, ImageFlow, Layer


class AdditiveCoupling(Layer):
    """y_a = x_a, y_b = x_b + m(x_a) on a flat vector; a and b are the even and the odd positions (`parity` swaps)."""

    def __init__(self, dim: int, hidden: int, depth: int, parity: int):
        super().__init__()
        self.parity = parity
        half = dim // 2
        layers: list[nn.Module] = [nn.Linear(half, hidden), nn.ReLU()]
        for _ in range(depth - 1):
            layers += [nn.Linear(hidden, hidden), nn.ReLU()]
        self.m = nn.Sequential(*layers, nn.Linear(hidden, half))

    def _halves(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pairs = h.reshape(h.shape[0], -1, 2)
        return pairs[..., self.parity], pairs[..., 1 - self.parity]

    def _join(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.stack([a, b] if self.parity == 0 else [b, a], dim=-1).flatten(1)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = self._halves(h)
        return self._join(a, b + self.m(a)), h.new_zeros(h.shape[0])

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        a, b = self._halves(y)
        return self._join(a, b - self.m(a))


class Scaling(Layer):
    """y = x · exp(s), one s per dimension: log-det Σ s.

    s is stored as s / SPEED: the background pixels need s ≈ +5 (their values span 1/256), and Adam moves a parameter
    by about its learning rate per step, so stored as-is s would take thousands of steps to get there.
    """

    SPEED = 20.0

    def __init__(self, dim: int):
        super().__init__()
        self.s_slow = nn.Parameter(torch.zeros(dim))

    @property
    def s(self) -> torch.Tensor:
        return self.s_slow * self.SPEED

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return h * torch.exp(self.s), self.s.sum().expand(h.shape[0])

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return y * torch.exp(-self.s)


class NICE(ImageFlow, PyTorchModelHubMixin, **HUB_KWARGS):
    """x (n, 1, 28, 28) in [0, 1] ⇄ z (n, 784): Flatten → `couplings` additive couplings → Scaling; logistic prior."""

    def __init__(self, couplings: int = 4, hidden: int = 256, depth: int = 5):
        super().__init__()
        dim = 784
        self.preprocess = Identity()
        layers = [Flatten(self.image_shape)]
        layers += [AdditiveCoupling(dim, hidden, depth, i % 2) for i in range(couplings)]
        self.levels = nn.ModuleList([nn.ModuleList([*layers, Scaling(dim)])])
        self.splits = nn.ModuleList()
        self.plan()

    def prior_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return -(F.softplus(z) + F.softplus(-z)).sum(1)

    def prior_sample(self, n: int, generator: torch.Generator | None, temperature: float) -> torch.Tensor:
        u = torch.rand((n, *self.latent_shape), generator=generator, dtype=torch.float64).clamp(1e-7, 1 - 1e-7)
        return (float(temperature) * (torch.log(u) - torch.log1p(-u))).float()
