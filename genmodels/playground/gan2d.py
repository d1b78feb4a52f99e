"""GAN, WGAN and WGAN-GP on 2D data, trained live, with the quantities worth watching.

Losses (D: discriminator or critic, G: generator, z ~ N(0, I₂)):
- "minimax"         Goodfellow et al. 2014 (arXiv:1406.2661): D maximises log D(x) + log(1 − D(G(z))); G minimises
                    log(1 − D(G(z))), which saturates when D wins early.
- "non-saturating"  the same D; G maximises log D(G(z)) instead (the paper's practical variant).
- "wgan"            Arjovsky et al. 2017 (arXiv:1701.07875): critic maximises E f(x) − E f(G(z)) with its weights
                    clipped to [−c, c]; RMSProp; 5 critic steps per generator step.
- "wgan-gp"         Gulrajani et al. 2017 (arXiv:1704.00028): clipping replaced by λ E(‖∇f(x̂)‖ − 1)²; Adam β=(0.5, 0.9).

NOTE: λ = 0.1 for WGAN-GP as in the paper's own toy-data code (λ = 10 is for images), and clip c = 0.1 for WGAN
      (the paper's 0.01 learns very slowly with these small MLPs); both are shown in the UI.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from .. import losses
from ..models.base import init_parameters
from . import divergences

LOSSES = ("minimax", "non-saturating", "wgan", "wgan-gp")


def mlp(d_in: int, d_out: int, hidden: int, depth: int = 2) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(d_in if i == 0 else hidden, hidden), nn.LeakyReLU(0.2)]
    return nn.Sequential(*layers, nn.Linear(hidden, d_out))


class GAN2D:
    """A generator and a discriminator (or critic) on 2D data, stepped by `step(k)`.

    `sampler(n, generator)` supplies real minibatches, so a preset can be drawn afresh each step and a drawing or CSV
    can be resampled from its finite set of points.
    """

    def __init__(
        self,
        sampler: Callable[[int, torch.Generator], torch.Tensor],
        loss: str = "wgan-gp",
        seed: int = 0,
        hidden: int = 64,
        batch: int = 256,
        lr: float | None = None,
    ):
        if loss not in LOSSES:
            raise ValueError(f"Loss must be one of {', '.join(LOSSES)}, got {loss!r}.")
        self.sampler, self.loss, self.batch = sampler, loss, batch
        self.g = torch.Generator().manual_seed(seed)  # initial weights and every draw: never torch's global state
        self.G, self.D = init_parameters(mlp(2, 2, hidden), self.g), init_parameters(mlp(2, 1, hidden), self.g)
        self.critic_steps = 5 if loss in ("wgan", "wgan-gp") else 1
        self.clip, self.gp_weight = 0.1, 0.1
        if loss == "wgan":
            lr = lr or 5e-4
            self.opt_g = torch.optim.RMSprop(self.G.parameters(), lr=lr, foreach=True)
            self.opt_d = torch.optim.RMSprop(self.D.parameters(), lr=lr, foreach=True)
        else:
            lr = lr or 1e-3
            betas = (0.5, 0.9) if loss == "wgan-gp" else (0.5, 0.999)
            # fused: one kernel per step over all tensors; per-call overhead is what limits these small MLPs
            self.opt_g = torch.optim.Adam(self.G.parameters(), lr=lr, betas=betas, fused=True)
            self.opt_d = torch.optim.Adam(self.D.parameters(), lr=lr, betas=betas, fused=True)
        self.steps = 0
        self._batches: list[tuple[torch.Tensor, torch.Tensor]] = []  # (real, fake) minibatches drawn ahead
        self.history: list[tuple[int, float, float]] = []  # (step, D loss, G loss)
        self.running = False

    @property
    def is_wasserstein(self) -> bool:
        return self.loss in ("wgan", "wgan-gp")

    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, 2, generator=self.g)

    def _d_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        # One forward pass over real and fake together: per-call overhead, not arithmetic, limits these small networks
        # (the MLP has no batch statistics, so batching changes nothing). The interpolates get their own pass, so the
        # double backward of the gradient penalty runs over their rows only.
        n = len(real)
        scores = self.D(torch.cat([real, fake])).squeeze(1)
        d_real, d_fake = scores[:n], scores[n:]
        if not self.is_wasserstein:
            return losses.discriminator_loss(d_real, d_fake)
        loss = losses.critic_loss(d_real, d_fake)
        if self.loss == "wgan-gp":
            loss = loss + self.gp_weight * losses.gradient_penalty(self.D, real, fake, self.g)
        return loss

    def _g_loss(self, fake: torch.Tensor) -> torch.Tensor:
        kind = "wasserstein" if self.is_wasserstein else self.loss
        return losses.generator_loss(self.D(fake).squeeze(1), kind)

    def step(self, k: int = 1) -> None:
        """k discriminator/critic updates, with a generator update after every `critic_steps` of them."""
        for _ in range(k):
            if not self._batches:
                # G stays fixed until its next update: draw the batches of all critic steps before it in one go
                m = self.critic_steps - self.steps % self.critic_steps
                real = self.sampler(m * self.batch, self.g)
                with torch.no_grad():
                    fake = self.G(self.noise(m * self.batch))
                self._batches = list(zip(real.split(self.batch), fake.split(self.batch), strict=True))
            real, fake = self._batches.pop(0)
            d_loss = self._d_loss(real, fake)
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            if self.loss == "wgan":
                with torch.no_grad():
                    for p in self.D.parameters():
                        p.clamp_(-self.clip, self.clip)
            self.steps += 1
            if self.steps % self.critic_steps == 0:
                self.D.requires_grad_(False)  # the generator's step needs no gradients for D's weights
                g_loss = self._g_loss(self.G(self.noise(self.batch)))
                self.opt_g.zero_grad(set_to_none=True)
                g_loss.backward()
                self.opt_g.step()
                self.D.requires_grad_(True)
                self.history.append((self.steps, d_loss.item(), g_loss.item()))

    @torch.no_grad()
    def samples(self, n: int = 512, seed: int = 1) -> torch.Tensor:
        return self.G(torch.randn(n, 2, generator=torch.Generator().manual_seed(seed)))

    @torch.no_grad()
    def critic_map(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """D(x) on a grid: the probability "real" for a GAN, the critic's score for a WGAN. Shape (len(ys), len(xs))."""
        grid = torch.tensor(np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2), dtype=torch.float32)
        out = self.D(grid).squeeze(1)
        out = out if self.is_wasserstein else torch.sigmoid(out)
        return out.reshape(len(ys), len(xs)).numpy()

    @torch.no_grad()
    def noise_grid_image(self, lines: int = 9, points: int = 40, extent: float = 2.0) -> list[np.ndarray]:
        """Images under G of horizontal and vertical lines of the noise plane: how G bends its input space."""
        t = torch.linspace(-extent, extent, points)
        polylines = []
        for c in torch.linspace(-extent, extent, lines):
            polylines += [torch.stack([t, torch.full_like(t, c)], 1), torch.stack([torch.full_like(t, c), t], 1)]
        return list(self.G(torch.cat(polylines)).reshape(len(polylines), points, 2).numpy())

    def estimates(self, n: int = 256, seed: int = 2) -> dict:
        """Running estimates between data and G: KL both ways (histogram, ½-count smoothing), JS, W1 (exact OT)."""
        real = self.sampler(n, torch.Generator().manual_seed(seed))
        fake = self.samples(n, seed)
        p, q = divergences.histograms(real, fake, bins=24, extent=2.5)
        return {
            "kl_data_g": divergences.kl_from_counts(p, q, smoothing=0.5),
            "kl_g_data": divergences.kl_from_counts(q, p, smoothing=0.5),
            "js": divergences.js_from_counts(p, q),
            "w1": divergences.wasserstein1(real, fake),
        }


def kde(points: torch.Tensor, xs: np.ndarray, ys: np.ndarray, bandwidth: float = 0.1) -> np.ndarray:
    """Gaussian kernel density estimate of `points` on a grid, shape (len(ys), len(xs))."""
    grid = torch.tensor(np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2), dtype=torch.float32)
    d2 = torch.cdist(grid, points.float()).pow(2)
    # clamped so far-away terms are exactly tiny, not denormal floats (which make exp ~10× slower on CPU)
    dens = torch.exp((-0.5 * d2 / bandwidth**2).clamp(min=-60)).mean(1) / (2 * math.pi * bandwidth**2)
    return dens.reshape(len(ys), len(xs)).numpy()


def optimal_discriminator(real: torch.Tensor, fake: torch.Tensor, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_G(x)), both densities by KDE; 0.5 where both are negligible."""
    p, q = kde(real, xs, ys), kde(fake, xs, ys)
    total = p + q
    return np.where(total > 1e-6, p / np.maximum(total, 1e-12), 0.5)


def mode_coverage(samples: torch.Tensor, centres: torch.Tensor, radius: float) -> np.ndarray:
    """Fraction of samples within `radius` of each centre (a sample counts for its nearest centre only)."""
    d = torch.cdist(samples.float(), centres.float())
    nearest = d.argmin(1)
    hit = d.min(1).values < radius
    return np.array([float(((nearest == k) & hit).float().mean()) for k in range(len(centres))])


def modes_reached(samples: torch.Tensor, centres: torch.Tensor, radius: float) -> np.ndarray:
    """Which modes G reaches: at least a quarter of a mode's fair share (1/k) of the samples lands near it."""
    return mode_coverage(samples, centres, radius) >= 0.25 / len(centres)
