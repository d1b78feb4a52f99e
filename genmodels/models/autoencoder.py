"""Autoencoders: deterministic, denoising and linear (Hinton & Salakhutdinov 2006; Vincent et al. 2008, ICML;
Baldi & Hornik 1989, Neural Networks 2(1)).

x ─ encoder ─ z ─ decoder ─ x̂, trained to give back x. With hidden layers (ReLU MLPs) and a sigmoid output trained by
cross-entropy it is the deterministic autoencoder; the same network trained on corrupted inputs is the denoising
autoencoder. With `hidden=0` the encoder and decoder are single linear maps trained by squared error: at the optimum
the decoder's columns span the top principal subspace of the data (Baldi & Hornik), the link to PCA that the Latent
tab measures as an angle. The training loops are the recipe in `genmodels/recipes/autoencoder.py`.

NOTE: an autoencoder has no prior over z, so it does not sample; the Latent tab maps and decodes its latent space.
"""

from __future__ import annotations

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .base import HUB_KWARGS

PIXELS = 28 * 28


class Autoencoder(nn.Module, PyTorchModelHubMixin, **HUB_KWARGS):
    """x (n, 1, 28, 28) ⇄ z (n, latent_dim); `forward(x)` is the reconstruction.

    hidden > 0:  x ─ 784 ─ hidden ─ hidden/2 ─ z ─ hidden/2 ─ hidden ─ 784 ─ sigmoid   (ReLU between)
    hidden = 0:  x ─ Linear ─ z ─ Linear ─ x̂                                              (linear, PCA's subspace)
    """

    image_shape = (1, 28, 28)

    def __init__(self, latent_dim: int = 2, hidden: int = 512):
        super().__init__()
        self.latent_shape = (latent_dim,)
        self.linear = hidden == 0
        if self.linear:
            self.encoder = nn.Linear(PIXELS, latent_dim)
            self.decoder = nn.Linear(latent_dim, PIXELS)
        else:
            sizes = [PIXELS, hidden, hidden // 2, latent_dim]
            self.encoder = mlp(sizes)
            self.decoder = mlp(sizes[::-1])

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x.flatten(1))

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """The output layer before the sigmoid (n, 1, 28, 28); for the linear autoencoder, x̂ itself."""
        return self.decoder(z).unflatten(1, self.image_shape)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        out = self.decode_logits(z)
        return out.clamp(0.0, 1.0) if self.linear else torch.sigmoid(out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    reconstruct = forward

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device


def mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers through `sizes` with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers[:-1])
