"""VQ-VAE (van den Oord, Vinyals & Kavukcuoglu 2017, arXiv:1711.00937) with a Gated PixelCNN prior over its codes.

The encoder maps a 28×28 digit to a 7×7 grid of vectors; each is replaced by its nearest codebook entry (the vector
quantiser). Gradients pass the quantiser straight through (z_e + sg(z_q − z_e)); the codebook is pulled to the
encoder outputs (‖sg(z_e) − e‖²) and the encoder is held near its codes by the commitment loss (β ‖z_e − sg(e)‖²).
Training the autoencoder and the prior are two stages: the prior is a Gated PixelCNN fitted to the code grids of
the training images. Sampling draws a code grid from that prior and decodes it — there is no N(0, I) latent here.

Because the encoder is deterministic, p(x) ≥ p(x | z(x)) p(z(x)), so reconstruction BCE + prior NLL (nats) is an
upper bound on −log p(x); `log_prob` returns the matching lower bound on log p(x).

NOTE: Bernoulli decoder on binarised MNIST (the paper models images with continuous or 256-way outputs); codes the
      encoder stopped using are restarted at random encoder outputs after each epoch (not in the paper) so that
      the small codebook stays in use.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .base import HUB_KWARGS, LatentModel, LikelihoodModel
from .gated_pixelcnn import GatedPixelCNN


class VectorQuantizer(nn.Module):
    """z_e (n, D, h, w) → nearest codebook vectors z_q (same shape), their indices (n, h, w), and the two losses."""

    def __init__(self, codes: int, dim: int, beta: float = 0.25):
        super().__init__()
        self.beta = beta
        self.codebook = nn.Embedding(codes, dim)
        self.seeded_init(None)

    def seeded_init(self, generator: torch.Generator | None) -> None:
        """Codebook entries ~ U(±1/codes) (see `base.init_parameters`)."""
        with torch.no_grad():
            self.codebook.weight.uniform_(
                -1 / self.codebook.num_embeddings, 1 / self.codebook.num_embeddings, generator=generator
            )

    def indices(self, z_e: torch.Tensor) -> torch.Tensor:
        flat = z_e.permute(0, 2, 3, 1)  # (n, h, w, D)
        d = (flat.unsqueeze(-2) - self.codebook.weight).pow(2).sum(-1)  # (n, h, w, K)
        return d.argmin(-1)

    def lookup(self, idx: torch.Tensor) -> torch.Tensor:
        return self.codebook(idx).permute(0, 3, 1, 2)  # (n, D, h, w)

    def forward(self, z_e: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        idx = self.indices(z_e)
        z_q = self.lookup(idx)
        codebook_loss = (z_e.detach() - z_q).pow(2).mean()
        commitment_loss = self.beta * (z_e - z_q.detach()).pow(2).mean()
        z_q = z_e + (z_q - z_e).detach()  # straight-through estimator
        return z_q, idx, codebook_loss, commitment_loss


class VQVAE(LatentModel, LikelihoodModel, PyTorchModelHubMixin, **HUB_KWARGS):
    """x (n, 1, 28, 28) → codes (n, 1, 7, 7) in 0..codes−1 → logits (n, 1, 28, 28); `prior` models the codes.

    As a latent model its latents are the code grids: `prior_sample` draws them from the PixelCNN prior.

    encoder: x ─ Conv s2 ─ (w, 14, 14) ─ Conv s2 ─ (2w, 7, 7) ─ ResBlock ─ 1×1 ─ z_e (D, 7, 7)
    decoder: z_q ─ 3×3 ─ (2w, 7, 7) ─ ResBlock ─ ConvT ─ (w, 14, 14) ─ ConvT ─ logits (1, 28, 28)
    `prior_vertical_residual`: the prior's vertical stack adds each layer's input too (see `GatedPixelCNN`).
    """

    def __init__(
        self,
        codes: int = 32,
        code_dim: int = 16,
        width: int = 32,
        prior_channels: int = 64,
        prior_layers: int = 8,
        prior_kernel: int = 3,
        prior_vertical_residual: bool = False,
    ):
        super().__init__()
        self.latent_shape = (1, 7, 7)
        w = width
        self.encoder = nn.Sequential(
            nn.Conv2d(1, w, 4, 2, 1),
            nn.ReLU(),
            nn.Conv2d(w, 2 * w, 4, 2, 1),
            ResBlock(2 * w),
            nn.ReLU(),
            nn.Conv2d(2 * w, code_dim, 1),
        )
        self.quantizer = VectorQuantizer(codes, code_dim)
        self.decoder = nn.Sequential(
            nn.Conv2d(code_dim, 2 * w, 3, padding=1),
            ResBlock(2 * w),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1),
            nn.ReLU(),
            nn.ConvTranspose2d(w, 1, 4, 2, 1),
        )
        self.prior = GatedPixelCNN(
            prior_channels, prior_layers, prior_kernel, 0, codes, 7, 7, vertical_residual=prior_vertical_residual
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Code indices (n, 1, 7, 7)."""
        return self.quantizer.indices(self.encoder(x)).unsqueeze(1)

    def decode_logits(self, codes: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.quantizer.lookup(codes[:, 0].long()))

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Bernoulli means (n, 1, 28, 28) for code grids (n, 1, 7, 7)."""
        return torch.sigmoid(self.decode_logits(codes))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Reconstruction logits, code indices, codebook loss, commitment loss."""
        z_q, idx, codebook_loss, commitment_loss = self.quantizer(self.encoder(x))
        return self.decoder(z_q), idx, codebook_loss, commitment_loss

    def recon_bce(self, x: torch.Tensor) -> torch.Tensor:
        """−log p(x | z(x)) in nats, (n,)."""
        logits = self.decode_logits(self.encode(x))
        return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)

    def log_prob(self, x: torch.Tensor, *, condition: torch.Tensor | None = None) -> torch.Tensor:
        """log p(x | z(x)) + log p(z(x)) ≤ log p(x), (n,)."""
        return -self.recon_bce(x) + self.prior.log_prob(self.encode(x))

    def prior_sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        temperature: float = 1.0,
        truncation: float | None = None,
    ) -> torch.Tensor:
        """Code grids (n, 1, 7, 7) from the PixelCNN prior (cached sampler); `truncation` does not apply."""
        return self.prior.sample(n, generator, temperature)


class ResBlock(nn.Module):
    """x + Conv1×1(ReLU(Conv3×3(ReLU(x))))."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(channels, channels // 2, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(channels // 2, channels, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)
