"""DCGAN generator and discriminator for 28×28 images (Radford, Metz & Chintala 2015, arXiv:1511.06434).

The same generator serves the WGAN-GP model (Gulrajani et al. 2017, arXiv:1704.00028); what differs is the loss and
the critic, which must not use batch norm because the gradient penalty is taken per sample (the paper uses layer
norm or none). The training loops are the recipe in `genmodels/recipes/gan.py`.

NOTE: 28×28 output (two stride-2 up-convolutions from 7×7) instead of the paper's 64×64, and a linear first layer
      instead of a 1×1 → 4×4 transposed convolution; the shapes fit MNIST without resizing.
NOTE: images are generated in [-1, 1] (tanh) as in the paper and mapped to [0, 1] by `decode`.
"""

from __future__ import annotations

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .base import HUB_KWARGS, LatentModel


def conv_blocks(channels: int, depth: int) -> list[nn.Module]:
    """`depth` shape-keeping 3×3 convolutions, each with batch norm and ReLU."""
    return [
        layer
        for _ in range(depth)
        for layer in (nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(True))
    ]


class GANGenerator(LatentModel, PyTorchModelHubMixin, **HUB_KWARGS):
    """z (n, latent_dim) → image (n, channels, 28, 28).

    z ─ Linear ─ (2w, 7, 7) ─ BN ReLU ─ [Conv3 BN ReLU] × depth ─ ConvT ─ (w, 14, 14) ─ BN ReLU
      ─ [Conv3 BN ReLU] × depth ─ ConvT ─ (C, 28, 28) ─ tanh
    `depth`: 3×3 convolutions at 7×7 and at 14×14 (0, the first checkpoints' shape, goes straight to upsampling).
    """

    def __init__(self, latent_dim: int = 64, width: int = 64, channels: int = 1, depth: int = 0):
        super().__init__()
        self.latent_shape = (latent_dim,)
        self.image_shape = (channels, 28, 28)
        self.width = width
        self.project = nn.Sequential(
            nn.Linear(latent_dim, 2 * width * 7 * 7, bias=False),
            nn.Unflatten(1, (2 * width, 7, 7)),
            nn.BatchNorm2d(2 * width),
            nn.ReLU(inplace=True),
            *conv_blocks(2 * width, depth),
        )
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            *conv_blocks(width, depth),
            nn.ConvTranspose2d(width, channels, 4, stride=2, padding=1),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z (n, latent_dim) → image in [-1, 1], the representation the discriminator sees."""
        return self.upsample(self.project(z))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return (self(z) + 1.0) / 2.0


class GANDiscriminator(nn.Module, PyTorchModelHubMixin, **HUB_KWARGS):
    """image (n, C, 28, 28) in [-1, 1] → one logit (DCGAN) or critic score (WGAN) per image.

    x ─ Conv ─ (w, 14, 14) ─ LReLU ─ Conv ─ (2w, 7, 7) ─ norm LReLU ─ Linear ─ score
    `norm`: "batch" for DCGAN, "layer" (or "none") for a WGAN-GP critic.
    """

    def __init__(self, width: int = 64, channels: int = 1, norm: str = "batch"):
        super().__init__()
        norms = {
            "batch": lambda c: nn.BatchNorm2d(c),
            "layer": lambda c: nn.GroupNorm(1, c),
            "none": lambda c: nn.Identity(),
        }
        if norm not in norms:
            raise ValueError(f"norm must be one of {sorted(norms)}, got {norm!r}")
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),
            norms[norm](2 * width),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Flatten(),
            nn.Linear(2 * width * 7 * 7, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)
