"""CycleGAN (Zhu et al. 2017, arXiv:1703.10593): two ResNet generators between unpaired domains A and B.

`ResnetGenerator` is the paper's generator with the parameter names of the junyanz implementation
(github.com/junyanz/pytorch-CycleGAN-and-pix2pix, `networks.ResnetGenerator`): reflection padding, a 7×7 conv,
two stride-2 downsamplings, `n_blocks` residual blocks, two transposed-conv upsamplings, a 7×7 conv and tanh;
instance norm without affine parameters or running statistics, so its convolutions carry biases. Its state dict keys
are `model.<index>.*`, as in a junyanz `latest_net_G.pth`. `PatchDiscriminator` is the 70×70 PatchGAN
(`networks.NLayerDiscriminator`), used for training.

Images go in and out in [0, 1]; the networks work in [-1, 1] internally, as in the paper.

Foreign checkpoints, read with `torch.load(weights_only=True)` and loaded with `strict=True`:
- junyanz: one generator per file (`latest_net_G.pth`, or `latest_net_G_A.pth` + `latest_net_G_B.pth`), keys
  `model.N.*`, possibly with a `module.` prefix and, from PyTorch < 0.4, instance-norm running statistics.
- `tmabraham/horse2zebra_cyclegan` on the Hub: one `pytorch_model.bin` with `G_A.*`, `G_B.*`, `D_A.*`, `D_B.*`.
  Which prefix translates which way is stated once, in `TMABRAHAM_PREFIXES`.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

# tmabraham/horse2zebra_cyclegan (trained with UPIT): G_B turns horses into zebras, G_A zebras into horses.
TMABRAHAM_PREFIXES = {("horse", "zebra"): "G_B.", ("zebra", "horse"): "G_A."}


def _norm(channels: int) -> nn.InstanceNorm2d:
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)


class ResnetBlock(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3),
            _norm(dim),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, 3),
            _norm(dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """[-1, 1] images (n, in_channels, H, W) → (n, out_channels, H, W); H and W must be multiples of 4."""

    def __init__(self, in_channels: int = 3, out_channels: int = 3, ngf: int = 64, n_blocks: int = 9):
        super().__init__()
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, 7), _norm(ngf), nn.ReLU(True)]
        for i in range(2):  # downsampling
            c = ngf * 2**i
            layers += [nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), _norm(2 * c), nn.ReLU(True)]
        layers += [ResnetBlock(ngf * 4) for _ in range(n_blocks)]
        for i in range(2):  # upsampling
            c = ngf * 2 ** (2 - i)
            layers += [
                nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1),
                _norm(c // 2),
                nn.ReLU(True),
            ]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class PatchDiscriminator(nn.Module):
    """PatchGAN: a map of real/fake logits, one per overlapping patch (70×70 with n_layers = 3)."""

    def __init__(self, in_channels: int = 3, ndf: int = 64, n_layers: int = 3):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        c = ndf
        for i in range(1, n_layers + 1):
            out = ndf * min(2**i, 8)
            stride = 2 if i < n_layers else 1
            layers += [nn.Conv2d(c, out, 4, stride=stride, padding=1), _norm(out), nn.LeakyReLU(0.2, True)]
            c = out
        layers.append(nn.Conv2d(c, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def junyanz_state(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A junyanz generator state dict as `ResnetGenerator` keys: no `module.` prefix, no instance-norm statistics
    (checkpoints from PyTorch < 0.4 carry `running_mean` / `running_var` / `num_batches_tracked` there)."""
    out = {}
    for key, value in state.items():
        key = key.removeprefix("module.")
        if key.rsplit(".", 1)[-1] in ("running_mean", "running_var", "num_batches_tracked"):
            continue
        out[key] = value
    return out


def generator_config(state: Mapping[str, torch.Tensor]) -> dict:
    """channels, ngf and n_blocks of a `ResnetGenerator` state dict, read from its shapes."""
    first = state["model.1.weight"]  # (ngf, in_channels, 7, 7)
    blocks = {k.split(".")[1] for k in state if ".conv_block." in k}
    return dict(channels=first.shape[1], ngf=first.shape[0], n_blocks=len(blocks))


def prefixed(state: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The entries under `prefix`, with the prefix removed. Raises ValueError when there are none."""
    part = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    if not part:
        found = sorted({k.split(".", 1)[0] for k in state})
        raise ValueError(f"No weights under {prefix!r} in this checkpoint (it has: {', '.join(found)}).")
    return part


class CycleGAN(nn.Module, PyTorchModelHubMixin):
    """Two generators between domains A and B: `g_ab` (A → B) and `g_ba` (B → A).

    The translation contract: `domains`, `channels`, `native_size` (None: any size, a multiple of 4) and
    `translate(x, source, target)` with x in [0, 1].
    """

    def __init__(
        self,
        domains: tuple[str, str] = ("horse", "zebra"),
        channels: int = 3,
        ngf: int = 64,
        n_blocks: int = 9,
        native_size: int | None = None,
    ):
        super().__init__()
        self.domains, self.channels, self.native_size = tuple(domains), channels, native_size
        self.g_ab = ResnetGenerator(channels, channels, ngf, n_blocks)
        self.g_ba = ResnetGenerator(channels, channels, ngf, n_blocks)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def generator(self, source: str, target: str) -> ResnetGenerator:
        a, b = self.domains
        if (source, target) == (a, b):
            return self.g_ab
        if (source, target) == (b, a):
            return self.g_ba
        raise ValueError(f"This model translates {a} ↔ {b}, not {source} → {target}.")

    def translate(self, x: torch.Tensor, source: str, target: str) -> torch.Tensor:
        return (self.generator(source, target)(x * 2 - 1) + 1) / 2

    @classmethod
    def from_tmabraham(cls, state: Mapping[str, torch.Tensor]) -> CycleGAN:
        """The Hub checkpoint `tmabraham/horse2zebra_cyclegan` (`pytorch_model.bin`), both generators, strict."""
        g_ab = prefixed(state, TMABRAHAM_PREFIXES[("horse", "zebra")])
        g_ba = prefixed(state, TMABRAHAM_PREFIXES[("zebra", "horse")])
        model = cls(("horse", "zebra"), **generator_config(g_ab))
        model.g_ab.load_state_dict(g_ab, strict=True)
        model.g_ba.load_state_dict(g_ba, strict=True)
        return model

    @classmethod
    def from_junyanz(
        cls, g_ab: Mapping[str, torch.Tensor], g_ba: Mapping[str, torch.Tensor], domains: tuple[str, str]
    ) -> CycleGAN:
        """Two junyanz generator files (`latest_net_G_A.pth` is A → B, `latest_net_G_B.pth` B → A), strict."""
        g_ab, g_ba = junyanz_state(g_ab), junyanz_state(g_ba)
        model = cls(domains, **generator_config(g_ab))
        model.g_ab.load_state_dict(g_ab, strict=True)
        model.g_ba.load_state_dict(g_ba, strict=True)
        return model
