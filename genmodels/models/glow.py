"""Glow: generative flow with invertible 1×1 convolutions (Kingma & Dhariwal 2018, arXiv:1807.03039).

One step of flow is ActNorm → invertible 1×1 convolution → affine coupling (section 3, table 1):
- ActNorm: per-channel scale and bias, started from the first training batch (data-dependent), saved with the weights;
- the 1×1 convolution is LU-decomposed, so its log-det costs O(C);
- the coupling keeps half the channels and scales the other half by sigmoid(· + 2), shifts it by t (Glow's code).
Multi-scale (section 3 and RealNVP): squeeze → `steps` steps → split with a learned prior → squeeze → `steps` steps,
for 28 × 28 MNIST: (4 × 14 × 14) then (8 × 7 × 7). The split's conditional Gaussian is written as a flow layer, so the
latent is N(0, I) everywhere and temperature t draws every part at scale t (the paper's reduced temperature, t = 0.7).

Preprocessing: the logit of RealNVP (α = 0.05) with its log-det, where the paper centres x to [−0.5, 0.5]; it gives
the same density on the pixels and trains faster here. Departs from the paper in size (L = 2 levels, `steps` steps of
`hidden` channels instead of 3 × 32 × 512) so that it trains on a CPU, and has no learned top prior.
"""

from __future__ import annotations

from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .base import HUB_KWARGS
from .flow_layers import ActNorm, AffineCoupling, ImageFlow, InvConv1x1, Logit, Split, Squeeze


def step_of_flow(channels: int, hidden: int, parity: int) -> list[nn.Module]:
    return [ActNorm(channels), InvConv1x1(channels), AffineCoupling(channels, hidden, "channel", parity, "sigmoid")]


class Glow(ImageFlow, PyTorchModelHubMixin, **HUB_KWARGS):
    """x (n, 1, 28, 28) in [0, 1] ⇄ z (n, 784) = [factored out at level 1 (2 × 14 × 14), level 2 (8 × 7 × 7)]."""

    def __init__(self, steps: int = 8, hidden: int = 64, alpha: float = 0.05):
        super().__init__()

        def level(channels: int) -> nn.ModuleList:
            layers: list[nn.Module] = [Squeeze()]
            for i in range(steps):
                layers += step_of_flow(channels, hidden, i % 2)
            return nn.ModuleList(layers)

        self.preprocess = Logit(alpha)
        self.levels = nn.ModuleList([level(4), level(8)])
        self.splits = nn.ModuleList([Split(4, learned_prior=True)])
        self.plan()
