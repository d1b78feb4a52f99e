"""PixelCNN (van den Oord, Kalchbrenner & Kavukcuoglu 2016, arXiv:1601.06759) for binarised images.

A 7×7 type-A masked convolution, then residual blocks of 3×3 type-B masked convolutions, then two 1×1 layers give
one Bernoulli logit per pixel. Every layer sees only earlier pixels in raster order, so one forward pass gives all
784 conditionals and the exact log-likelihood. Stacked masked 3×3 kernels never reach the pixels above right of the
centre: the blind spot the Gated PixelCNN removes (see `receptive_field` in `autoregressive.py`).

NOTE: residual blocks are one masked 3×3 convolution each (the paper's blocks wrap it in 1×1 convolutions and use
      h = 2 × channels); with 8,000 training images a smaller block trains faster for the same likelihood.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .autoregressive import AutoregressiveModel, MaskedConv2d, pointwise
from .base import HUB_KWARGS


class PixelCNN(AutoregressiveModel, PyTorchModelHubMixin, **HUB_KWARGS):
    """x (n, 1, 28, 28) in {0, 1} → logits (n, 1, 28, 28).

    x ─ MaskA 7×7 ─ h ─┬─ ReLU ─ MaskB 3×3 ─(+)─ ... (layers blocks) ─ ReLU ─ 1×1 ─ ReLU ─ 1×1 ─ logits
                       └──────────────────────┘
    """

    def __init__(self, channels: int = 64, layers: int = 7, height: int = 28, width: int = 28):
        super().__init__()
        self.image_shape = (1, height, width)
        self.first = MaskedConv2d(1, channels, (7, 7), "A")
        self.blocks = nn.ModuleList(MaskedConv2d(channels, channels, (3, 3), "B") for _ in range(layers))
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU(), nn.Conv2d(channels, 1, 1))

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None, keep: dict | None = None):
        h = self.first(x)
        if keep is not None:
            keep["x"] = self.first.cache(x)
        for k, block in enumerate(self.blocks):
            a = F.relu(h)
            if keep is not None:
                keep[k] = block.cache(a)
            h = h + block(a)
        return self.head(h)

    def step(self, keep: dict, i: int, j: int) -> torch.Tensor:
        h = self.first.at(keep["x"], i, j)  # (n, channels)
        for k, block in enumerate(self.blocks):
            a = F.relu(h)
            keep[k][:, i + 1, j + 1] = a  # padded by 1 on the top and left
            h = h + block.at(keep[k], i, j)
        return pointwise(self.head, h)

    def put(self, keep: dict, i: int, j: int, value: torch.Tensor) -> None:
        keep["x"][:, i + 3, j + 3, 0] = value
