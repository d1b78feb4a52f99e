"""StarGAN (Choi et al. 2018, arXiv:1711.09020): one generator translating among many domains.

Where CycleGAN needs a generator per ordered pair of domains (k(k − 1) of them), StarGAN has one, told the target:
the target domain's one-hot vector is broadcast to constant image planes and concatenated to the input. Its body is
the same ResNet generator as CycleGAN's (`cyclegan.ResnetGenerator`, with `channels + k` input planes).

The discriminator has two heads on one trunk: real/fake per patch, and which domain the picture belongs to. Training
(in `genmodels.train.train_stargan`): adversarial loss, domain classification (real pictures teach D the domains, G
is rewarded when D reads its output as the target) and reconstruction ‖x − G(G(x, c_target), c_source)‖₁.

NOTE: the generator's first instance norm is left out. The target arrives as constant planes; after a convolution
      they are a constant per channel, which instance norm (subtracting each channel's mean) would erase entirely,
      leaving G blind to the target (the paper's code gets it through only by zero padding at the borders). Without
      that norm, the constant shifts where the ReLU cuts, and the target reaches every later layer.
NOTE: the paper's adversarial loss is WGAN-GP; here it is the least-squares loss CycleGAN uses, which trains faster
      on a CPU (no double backward). Instance norm without affine parameters, as in `cyclegan.py`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .cyclegan import ResnetGenerator


class StarGAN(nn.Module, PyTorchModelHubMixin):
    """The translation contract (see `cyclegan.CycleGAN`), for any ordered pair of `domains`."""

    def __init__(
        self,
        domains: tuple[str, ...] = ("thin", "medium", "thick"),
        channels: int = 1,
        ngf: int = 16,
        n_blocks: int = 4,
        native_size: int | None = 28,
    ):
        super().__init__()
        self.domains, self.channels, self.native_size = tuple(domains), channels, native_size
        self.g = ResnetGenerator(channels + len(domains), channels, ngf, n_blocks)
        self.g.model[2] = nn.Identity()  # see the NOTE above: instance norm here would erase the target planes

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def generate(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """x in [-1, 1] (n, C, H, W), target domain indices (n,) → [-1, 1]."""
        planes = F.one_hot(target, len(self.domains)).to(x.dtype)[:, :, None, None].expand(-1, -1, *x.shape[-2:])
        return self.g(torch.cat([x, planes], 1))

    def index(self, domain: str) -> int:
        if domain not in self.domains:
            raise ValueError(f"This model knows the domains {', '.join(self.domains)}, not {domain!r}.")
        return self.domains.index(domain)

    def translate(self, x: torch.Tensor, source: str, target: str) -> torch.Tensor:
        self.index(source)
        t = torch.full((len(x),), self.index(target), dtype=torch.long, device=x.device)
        return (self.generate(x * 2 - 1, t) + 1) / 2


class StarDiscriminator(nn.Module):
    """A conv trunk; `forward` gives (patch real/fake logits (n, 1, h, w), domain logits (n, k))."""

    def __init__(self, channels: int = 1, domains: int = 3, ndf: int = 32, size: int = 28):
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Conv2d(channels, ndf, 4, 2, 1),
            nn.LeakyReLU(0.01),
            nn.Conv2d(ndf, 2 * ndf, 4, 2, 1),
            nn.LeakyReLU(0.01),
            nn.Conv2d(2 * ndf, 4 * ndf, 3, 1, 1),
            nn.LeakyReLU(0.01),
        )
        self.src = nn.Conv2d(4 * ndf, 1, 3, 1, 1)
        self.cls = nn.Conv2d(4 * ndf, domains, size // 4)  # covers the whole 7×7 map: one answer per picture

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(x)
        return self.src(h), self.cls(h).flatten(1)
