"""A small convolutional MNIST classifier, the project's yardstick rather than a generative model.

It labels generated samples, its penultimate features feed the Fréchet distance (an MNIST analogue of FID, Heusel et
al. 2017, arXiv:1706.08500), and later tabs use it to check that translations keep a digit's class.
"""

from __future__ import annotations

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .base import HUB_KWARGS


class MNISTClassifier(nn.Module, PyTorchModelHubMixin, **HUB_KWARGS):
    """x (n, 1, 28, 28) in [0, 1] → logits (n, 10).

    x ─ Conv Conv ─ pool ─ (w, 14, 14) ─ Conv Conv ─ pool ─ (2w, 7, 7) ─ Linear ─ features (d) ─ Linear ─ logits
    """

    def __init__(self, width: int = 32, feature_dim: int = 128, num_classes: int = 10):
        super().__init__()

        def block(c_in: int, c_out: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(c_in, c_out, 3, padding=1),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
                nn.Conv2d(c_out, c_out, 3, padding=1),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            )

        self.body = nn.Sequential(
            block(1, width),
            block(width, 2 * width),
            nn.Flatten(),
            nn.Dropout(0.3),
            nn.Linear(2 * width * 7 * 7, feature_dim),
            nn.ReLU(inplace=True),
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(feature_dim, num_classes))

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations (n, feature_dim): the embedding for the Fréchet distance."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))
