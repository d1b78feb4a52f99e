"""PixelCNN (van den Oord, Kalchbrenner & Kavukcuoglu 2016, arXiv:1601.06759) for binarised images.

A 7×7 type-A masked convolution, then residual blocks of 3×3 type-B masked convolutions, then two 1×1 layers give
one Bernoulli logit per pixel. Every layer sees only earlier pixels in raster order, so one forward pass gives all
784 conditionals and the exact log-likelihood. Stacked masked 3×3 kernels never reach the pixels above right of the
centre: the blind spot the Gated PixelCNN removes (see `receptive_field` in `autoregressive.py`).

NOTE: residual blocks are one masked 3×3 convolution each (the paper's blocks wrap it in 1×1 convolutions and use
      h = 2 × channels); with 8,000 training images a smaller block trains faster for the same likelihood.

`deeper(layers, generator)` grows a trained net by blocks that start as the identity (zero weights, so h + block(a) =
h; Chen, Goodfellow & Shlens 2016, "Net2Net", arXiv:1511.05641): the deeper net starts at the trained one's
likelihood, and each block widens the receptive field by one row and one column (3 + layers rows above the pixel).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .autoregressive import AutoregressiveModel, MaskedConv2d, pointwise
from .base import HUB_KWARGS, init_parameters


class PixelCNN(AutoregressiveModel, PyTorchModelHubMixin, **HUB_KWARGS):
    """x (n, 1, 28, 28) in {0, 1} → logits (n, 1, 28, 28).

    x ─ MaskA 7×7 ─ h ─┬─ ReLU ─ MaskB 3×3 ─(+)─ ... (layers blocks) ─ ReLU ─ 1×1 ─ ReLU ─ 1×1 ─ logits
                       └──────────────────────┘
    """

    def __init__(self, channels: int = 64, layers: int = 7, height: int = 28, width: int = 28):
        super().__init__()
        self.image_shape = (1, height, width)
        self.channels = channels
        self.first = MaskedConv2d(1, channels, (7, 7), "A")
        self.blocks = nn.ModuleList(MaskedConv2d(channels, channels, (3, 3), "B") for _ in range(layers))
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU(), nn.Conv2d(channels, 1, 1))

    def deeper(self, layers: int, generator: torch.Generator) -> PixelCNN:
        """A copy with `layers` blocks: these weights, and new blocks after them that start as the identity."""
        if layers <= len(self.blocks):
            raise ValueError(f"deeper needs more than the {len(self.blocks)} blocks the net has; got {layers}.")
        grown = init_parameters(PixelCNN(self.channels, layers, *self.image_shape[1:]), generator)
        grown.load_state_dict(self.state_dict(), strict=False)  # the new blocks' names are not in it
        with torch.no_grad():
            for block in grown.blocks[len(self.blocks) :]:
                block.weight.zero_()
                block.bias.zero_()
        return grown.to(self.first.weight.device)

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
