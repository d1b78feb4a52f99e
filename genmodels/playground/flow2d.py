"""A 2D RealNVP: affine coupling layers trained by maximum likelihood (Dinh, Sohl-Dickstein & Bengio 2017,
arXiv:1605.08803).

Each coupling keeps one coordinate x_a and transforms the other: x_b' = x_b · exp(s(x_a)) + t(x_a), so the Jacobian
is triangular and log|det| = s(x_a). Layers alternate which coordinate they keep.
log p(x) = log N(f(x); 0, I) + Σ log|det ∂f/∂x| with f the data → latent map (`forward`): the project's flow
contract (`models.base.Flow`), which the image flows keep too.

NOTE: s is squashed by a scaled tanh (|s| ≤ 2) for stability, a common choice the paper does not use.
"""

from __future__ import annotations

import threading

import torch
from torch import nn

from ..models.base import Flow, init_parameters


class AffineCoupling(nn.Module):
    def __init__(self, keep: int, hidden: int = 64):
        super().__init__()
        self.keep = keep  # index of the coordinate passed through unchanged
        self.net = nn.Sequential(
            nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 2)
        )
        self.start_as_identity()

    def start_as_identity(self) -> None:
        """s = t = 0: the layer starts as the identity map."""
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def seeded_init(self, generator: torch.Generator) -> None:
        """`base.init_parameters` for the hidden layers, then the identity start."""
        init_parameters(self.net, generator)
        self.start_as_identity()

    def _st(self, x_keep: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s, t = self.net(x_keep).chunk(2, dim=1)
        return 2.0 * torch.tanh(s / 2.0), t

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = x[:, self.keep : self.keep + 1], x[:, 1 - self.keep : 2 - self.keep]
        s, t = self._st(a)
        b = b * s.exp() + t
        out = torch.cat([a, b], 1) if self.keep == 0 else torch.cat([b, a], 1)
        return out, s.squeeze(1)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        a, b = y[:, self.keep : self.keep + 1], y[:, 1 - self.keep : 2 - self.keep]
        s, t = self._st(a)
        b = (b - t) * (-s).exp()
        return torch.cat([a, b], 1) if self.keep == 0 else torch.cat([b, a], 1)


class RealNVP2D(Flow):
    """Data x (n, 2) ⇄ latent z (n, 2) through `layers` alternating affine couplings."""

    latent_shape = (2,)

    def __init__(self, layers: int = 8, hidden: int = 64):
        super().__init__()
        self.couplings = nn.ModuleList(AffineCoupling(i % 2, hidden) for i in range(layers))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x → (z, log|det ∂z/∂x|)."""
        log_det = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        for layer in self.couplings:
            x, ld = layer(x)
            log_det = log_det + ld
        return x, log_det

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        for layer in reversed(self.couplings):
            z = layer.inverse(z)
        return z


class FlowTrainer:
    """Holds a flow, its optimiser and the data; `step(k)` takes k Adam steps on minibatches."""

    def __init__(self, data: torch.Tensor, seed: int = 0, layers: int = 8, hidden: int = 64, lr: float = 1e-3):
        self.data = data.float()
        self.g = torch.Generator().manual_seed(seed)  # initial weights and minibatches: never torch's global state
        self.flow = init_parameters(RealNVP2D(layers, hidden), self.g)
        self.opt = torch.optim.Adam(self.flow.parameters(), lr=lr)
        self.steps = 0
        self.history: list[tuple[int, float]] = []  # (step, mean log-likelihood of (up to 2,000 of) the data)
        self.lock = threading.Lock()  # held by whoever trains it (a server may run two clicks of one user at once)

    def step(self, k: int = 1, batch: int = 256) -> float:
        for _ in range(k):
            idx = torch.randint(0, len(self.data), (min(batch, len(self.data)),), generator=self.g)
            loss = -self.flow.log_prob(self.data[idx]).mean()
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            self.steps += 1
        with torch.no_grad():
            ll = self.flow.log_prob(self.data[:2000]).mean().item()
        self.history.append((self.steps, ll))
        return ll
