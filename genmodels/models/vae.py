"""Convolutional variational autoencoder with a Bernoulli decoder (Kingma & Welling 2014, arXiv:1312.6114).

q(z|x) = N(μ(x), diag σ²(x)), p(z) = N(0, I), p(x|z) = Bernoulli(sigmoid(logits(z))) over binarised pixels.
`log_prob` is the evidence lower bound (ELBO); `iwae_bound` is the tighter importance-weighted bound of Burda,
Grosse & Salakhutdinov (2015, arXiv:1509.00519), used by the evaluation.

NOTE: decode(z) returns the Bernoulli means (probabilities), not a binary draw, so samples shown in the app are the
      grey-level means, as is usual for MNIST VAEs.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .base import HUB_KWARGS, LatentModel, LikelihoodModel, standard_normal


class ResidualBlock(nn.Module):
    """x + Conv3×3(ReLU(Conv3×3(x))), then ReLU: same shape in and out."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.body(x))


class ConvVAE(LatentModel, LikelihoodModel, PyTorchModelHubMixin, **HUB_KWARGS):
    """x (n, 1, 28, 28) ⇄ z (n, latent_dim).

    encoder: x ─ Conv ─ (w, 14, 14) ─ Conv ─ (2w, 7, 7) ─ MLP ─ (μ, log σ²)
    decoder: z ─ MLP ─ (2w, 7, 7) ─ [Res] ─ ConvT ─ (w, 14, 14) ─ [Res] ─ ConvT ─ logits (1, 28, 28)

    `blocks` residual 3×3 blocks at each of the decoder's two scales give p(x|z) more depth for few weights.
    """

    def __init__(self, latent_dim: int = 16, width: int = 32, hidden: int = 256, blocks: int = 0):
        super().__init__()
        self.latent_shape = (latent_dim,)
        self.encoder = nn.Sequential(
            nn.Conv2d(1, width, 4, stride=2, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),
            nn.ReLU(inplace=True),
            nn.Flatten(),
            nn.Linear(2 * width * 7 * 7, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, 2 * latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, 2 * width * 7 * 7),
            nn.ReLU(inplace=True),
            nn.Unflatten(1, (2 * width, 7, 7)),
            *[ResidualBlock(2 * width) for _ in range(blocks)],
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1),
            nn.ReLU(inplace=True),
            *[ResidualBlock(width) for _ in range(blocks)],
            nn.ConvTranspose2d(width, 1, 4, stride=2, padding=1),
        )

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (n, 1, 28, 28) → μ, log σ², each (n, latent_dim)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar.clamp(-12.0, 8.0)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The posterior mean μ(x), the usual point estimate of z."""
        return self.posterior(x)[0]

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """The Bernoulli logits (n, 1, 28, 28) of p(x | z)."""
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(z))

    def _log_weights(self, x: torch.Tensor, k: int, generator: torch.Generator | None) -> torch.Tensor:
        """log p(x, z_i) − log q(z_i | x) for k draws z_i ~ q(z|x): shape (k, n)."""
        n = x.shape[0]
        mu, logvar = self.posterior(x)
        eps = standard_normal((k, *mu.shape), generator).to(x.device)
        z = mu + eps * torch.exp(0.5 * logvar)  # (k, n, d)
        logits = self.decoder(z.reshape(k * n, -1)).reshape(k, n, -1)
        log_px_z = -F.binary_cross_entropy_with_logits(logits, x.reshape(1, n, -1).expand_as(logits), reduction="none")
        log_pz = -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(-1)
        log_qz = -0.5 * (eps.pow(2) + logvar + math.log(2 * math.pi)).sum(-1)
        return log_px_z.sum(-1) + log_pz - log_qz

    def elbo_terms(
        self, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Reconstruction log-likelihood (one draw of z) and the analytic KL(q(z|x) ‖ p(z)), each (n,)."""
        mu, logvar = self.posterior(x)
        eps = standard_normal(tuple(mu.shape), generator).to(x.device)
        logits = self.decoder(mu + eps * torch.exp(0.5 * logvar))
        recon = -F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1)
        return recon, kl

    def log_prob(
        self, x: torch.Tensor, *, condition: torch.Tensor | None = None, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """The ELBO in nats per image, (n,): a lower bound on log p(x), from one draw of z (from `generator`)."""
        recon, kl = self.elbo_terms(x, generator)
        return recon - kl

    def iwae_bound(self, x: torch.Tensor, k: int = 100, generator: torch.Generator | None = None) -> torch.Tensor:
        """log (1/k) Σ_i p(x, z_i)/q(z_i|x), (n,): a lower bound on log p(x) that tightens as k grows."""
        return torch.logsumexp(self._log_weights(x, k, generator), dim=0) - math.log(k)
