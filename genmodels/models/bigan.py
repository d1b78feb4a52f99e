"""BiGAN: a GAN that also learns an encoder (Donahue, Krähenbühl & Darrell 2017, arXiv:1605.09782; ALI, Dumoulin et
al. 2017, is the same model).

A GAN maps z to x and has no way back. A BiGAN trains an encoder E(x) beside the generator G(z), and the
discriminator judges pairs: real (x, E(x)) against generated (G(z), z). At the optimum the two joint distributions
match, so E inverts G: z = E(x) in one forward pass, where a plain GAN needs an optimisation over z per image (the
Latent tab shows both). The training loop is the recipe in `genmodels/recipes/gan.py`.

NOTE: the generator is the project's DCGAN generator (`gan.py`); the encoder mirrors the DCGAN discriminator.
"""

from __future__ import annotations

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .base import HUB_KWARGS, LatentModel
from .gan import GANGenerator


def conv_features(width: int) -> nn.Sequential:
    """x (n, 1, 28, 28) in [-1, 1] → features (n, 2w·7·7): two stride-2 convolutions with leaky ReLUs."""
    return nn.Sequential(
        nn.Conv2d(1, width, 4, stride=2, padding=1),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),
        nn.BatchNorm2d(2 * width),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Flatten(),
    )


class BiGAN(LatentModel, PyTorchModelHubMixin, **HUB_KWARGS):
    """z (n, latent_dim) ⇄ image (n, 1, 28, 28).

    generator: the DCGAN generator, z → x in [-1, 1]
    encoder:   x ─ Conv ─ LReLU ─ Conv ─ BN LReLU ─ Linear ─ z
    """

    def __init__(self, latent_dim: int = 32, width: int = 64):
        super().__init__()
        self.latent_shape = (latent_dim,)
        self.width = width
        self.generator = GANGenerator(latent_dim, width)
        self.encoder = nn.Sequential(conv_features(width), nn.Linear(2 * width * 7 * 7, latent_dim))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z → image in [-1, 1], what the discriminator sees."""
        return self.generator(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator.decode(z)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x (n, 1, 28, 28) in [0, 1] → z (n, latent_dim), in one pass."""
        return self.encoder(x * 2 - 1)


class JointDiscriminator(nn.Module):
    """(x in [-1, 1], z) → one logit: is this pair (x, E(x)) from the data or (G(z), z) from the generator?

    x ─ conv features ─┐
                       ├─ concat ─ Linear ─ LReLU ─ Linear ─ logit
    z ─ Linear ─ LReLU ┘
    """

    def __init__(self, latent_dim: int, width: int = 64, hidden: int = 512):
        super().__init__()
        self.x_features = conv_features(width)
        self.z_features = nn.Sequential(nn.Linear(latent_dim, hidden), nn.LeakyReLU(0.2, inplace=True))
        self.joint = nn.Sequential(
            nn.Linear(2 * width * 7 * 7 + hidden, hidden),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.joint(torch.cat([self.x_features(x), self.z_features(z)], 1)).squeeze(1)
