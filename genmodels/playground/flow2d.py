"""2D coupling flows trained by maximum likelihood: RealNVP's affine couplings (Dinh, Sohl-Dickstein & Bengio 2017,
arXiv:1605.08803) and rational-quadratic spline couplings (Durkan, Bekasov, Murray & Papamakarios 2019, "Neural
Spline Flows", arXiv:1906.04032).

Each coupling keeps one coordinate x_a and transforms the other with a monotone map conditioned on x_a, so the
Jacobian is triangular and log|det| is that map's log-derivative. Affine: x_b' = x_b · exp(s(x_a)) + t(x_a), log|det|
= s(x_a); one affine layer cannot split a mode in two, so sharp multi-mode data (the ring of 8 Gaussians) needs many
of them. Spline: x_b' = a monotone rational-quadratic spline of x_b on [−B, B] with K bins (identity outside), whose
knots the conditioner outputs; one layer can put several modes along x_b. Layers alternate which coordinate they keep.
log p(x) = log N(f(x); 0, I) + Σ log|det ∂f/∂x| with f the data → latent map (`forward`): the project's flow
contract (`models.base.Flow`), which the image flows keep too.

NOTE: s is squashed by a scaled tanh (|s| ≤ 2) for stability, a common choice the paper does not use.
"""

from __future__ import annotations

import math
import threading

import torch
import torch.nn.functional as F
from torch import nn

from ..models.base import Flow, init_parameters


class Coupling(nn.Module):
    """A coupling layer: keeps coordinate `keep`, and a small MLP of it gives the other coordinate's map. The MLP's
    last layer starts at zero, which every coupling here reads as the identity map."""

    def __init__(self, keep: int, hidden: int, outputs: int):
        super().__init__()
        self.keep = keep  # index of the coordinate passed through unchanged
        self.net = nn.Sequential(
            nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, outputs)
        )
        self.start_as_identity()

    def start_as_identity(self) -> None:
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def seeded_init(self, generator: torch.Generator) -> None:
        """`base.init_parameters` for the hidden layers, then the identity start."""
        init_parameters(self.net, generator)
        self.start_as_identity()


class AffineCoupling(Coupling):
    """x_b' = x_b · exp(s(x_a)) + t(x_a); s = t = 0 at the start."""

    def __init__(self, keep: int, hidden: int = 64):
        super().__init__(keep, hidden, 2)

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


class SplineCoupling(Coupling):
    """x_b' = RQ-spline(x_b; knots from x_a) on [−bound, bound], the identity outside (linear tails of slope 1);
    equal bins and slope 1 at every knot at the start."""

    MIN_BIN, MIN_SLOPE = 1e-3, 1e-3

    def __init__(self, keep: int, hidden: int = 64, bins: int = 8, bound: float = 3.0):
        super().__init__(keep, hidden, 3 * bins - 1)
        self.bins, self.bound = bins, bound

    def _knots(self, x_keep: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Knot positions xs, ys (n, K + 1) from −bound to bound, and the slopes at them (n, K + 1)."""
        k, b = self.bins, self.bound
        w, h, d = self.net(x_keep).split([k, k, k - 1], dim=1)

        def edges(raw: torch.Tensor) -> torch.Tensor:
            widths = self.MIN_BIN + (1 - self.MIN_BIN * k) * torch.softmax(raw, dim=1)
            return F.pad(torch.cumsum(widths, 1), (1, 0)) * 2 * b - b

        one = math.log(math.expm1(1 - self.MIN_SLOPE))  # softplus(one) + MIN_SLOPE = 1: slope 1 when d = 0
        slopes = F.pad(self.MIN_SLOPE + F.softplus(d + one), (1, 1), value=1.0)  # slope 1 at ±bound: smooth tails
        xs, ys = edges(w), edges(h)
        return xs.clamp(-b, b), ys.clamp(-b, b), slopes

    def _spline(self, v: torch.Tensor, x_keep: torch.Tensor, inverse: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """The spline (or its inverse) at v (n,), and log|d spline/dx| at the matching x."""
        xs, ys, slopes = self._knots(x_keep)
        if inverse:  # the quadratic's root loses digits in float32 when bins are very narrow: solve it in float64
            dtype, v, xs, ys, slopes = v.dtype, v.double(), xs.double(), ys.double(), slopes.double()
        inside = (v > -self.bound) & (v < self.bound)
        knots = ys if inverse else xs
        k = (torch.searchsorted(knots.contiguous(), v[:, None].contiguous()) - 1).clamp(0, self.bins - 1)
        pick = lambda t: t.gather(1, k).squeeze(1)  # noqa: E731
        x0, w, y0, h = pick(xs), pick(xs[:, 1:] - xs[:, :-1]), pick(ys), pick(ys[:, 1:] - ys[:, :-1])
        d0, d1 = pick(slopes), pick(slopes[:, 1:])
        s = h / w
        if inverse:
            dy = v - y0
            a = h * (s - d0) + dy * (d1 + d0 - 2 * s)
            bq = h * d0 - dy * (d1 + d0 - 2 * s)
            c = -s * dy
            theta = (2 * c / (-bq - torch.sqrt((bq * bq - 4 * a * c).clamp(min=0)))).clamp(0, 1)
            out = x0 + theta * w
        else:
            theta = ((v - x0) / w).clamp(0, 1)
        mix = theta * (1 - theta)
        denom = s + (d1 + d0 - 2 * s) * mix
        if not inverse:
            out = y0 + h * (s * theta**2 + d0 * mix) / denom
        log_deriv = (
            2 * torch.log(s) + torch.log(d1 * theta**2 + 2 * s * mix + d0 * (1 - theta) ** 2) - 2 * torch.log(denom)
        )
        out, log_deriv = torch.where(inside, out, v), torch.where(inside, log_deriv, torch.zeros_like(v))
        return (out.to(dtype), log_deriv.to(dtype)) if inverse else (out, log_deriv)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = x[:, self.keep : self.keep + 1], x[:, 1 - self.keep]
        b, log_det = self._spline(b, a, inverse=False)
        out = torch.stack([a[:, 0], b], 1) if self.keep == 0 else torch.stack([b, a[:, 0]], 1)
        return out, log_det

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        a, b = y[:, self.keep : self.keep + 1], y[:, 1 - self.keep]
        b, _ = self._spline(b, a, inverse=True)
        return torch.stack([a[:, 0], b], 1) if self.keep == 0 else torch.stack([b, a[:, 0]], 1)


COUPLINGS = {"spline": SplineCoupling, "affine": AffineCoupling}


class RealNVP2D(Flow):
    """Data x (n, 2) ⇄ latent z (n, 2) through `layers` alternating couplings: affine (RealNVP, the default here) or
    rational-quadratic splines (`coupling="spline"`)."""

    latent_shape = (2,)

    def __init__(self, layers: int = 8, hidden: int = 64, coupling: str = "affine"):
        super().__init__()
        self.couplings = nn.ModuleList(COUPLINGS[coupling](i % 2, hidden) for i in range(layers))

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

    def __init__(
        self,
        data: torch.Tensor,
        seed: int = 0,
        layers: int = 8,
        hidden: int = 64,
        lr: float = 1e-3,
        coupling: str = "affine",
    ):
        self.data = data.float()
        self.g = torch.Generator().manual_seed(seed)  # initial weights and minibatches: never torch's global state
        self.flow = init_parameters(RealNVP2D(layers, hidden, coupling), self.g)
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
