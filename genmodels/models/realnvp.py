"""RealNVP: density estimation using Real NVP (Dinh, Sohl-Dickstein & Bengio 2017, arXiv:1605.08803).

Affine couplings, y_b = x_b · exp(s(x_a)) + t(x_a), with the paper's multi-scale architecture (section 3.6), sized
for 28 × 28 MNIST:
- logit preprocessing, u → logit(α + (1 − 2α) u) with α = 0.05 (section 4.1), its log-det counted;
- scale 1 (1 × 28 × 28): 3 checkerboard couplings → squeeze → (4 × 14 × 14): 3 channel couplings → factor out half;
- scale 2 (2 × 14 × 14): 3 checkerboard couplings → squeeze → (8 × 7 × 7): 3 channel couplings → factor out half;
- last (4 × 7 × 7): 4 checkerboard couplings.
Masks alternate which half is kept; s = (learned per-channel factor) · tanh(·) as in the paper.

Departs from the paper: the s and t networks are small convnets (conv 3×3, conv 1×1, conv 3×3 of `hidden`
channels) instead of deep ResNets with batch normalisation, so that training fits on a CPU; no weight norm.
"""

from __future__ import annotations

from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .base import HUB_KWARGS
from .flow_layers import AffineCoupling, ImageFlow, Logit, Split, Squeeze


class RealNVP(ImageFlow, PyTorchModelHubMixin, **HUB_KWARGS):
    """x (n, 1, 28, 28) in [0, 1] ⇄ z (n, 784) = [factored out at scale 1 (392), at scale 2 (196), last (196)]."""

    def __init__(self, hidden: int = 64, alpha: float = 0.05):
        super().__init__()

        def scale(channels: int, hid: int) -> list[nn.Module]:
            checker = [AffineCoupling(channels, hid, "checkerboard", i % 2, "tanh") for i in range(3)]
            channel = [AffineCoupling(4 * channels, hid, "channel", i % 2, "tanh") for i in range(3)]
            return [*checker, Squeeze(), *channel]

        self.preprocess = Logit(alpha)
        last = [AffineCoupling(4, hidden, "checkerboard", i % 2, "tanh") for i in range(4)]
        self.levels = nn.ModuleList(
            [nn.ModuleList(scale(1, hidden // 2)), nn.ModuleList(scale(2, hidden)), nn.ModuleList(last)]
        )
        self.splits = nn.ModuleList([Split(4), Split(8)])
        self.plan()
