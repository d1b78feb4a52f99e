"""PixelRNN with Row LSTM layers (van den Oord, Kalchbrenner & Kavukcuoglu 2016, arXiv:1601.06759, section 3.1).

A Row LSTM processes the image one row at a time. Its gates at row i come from a masked 1×k convolution of the
layer's input along row i (input-to-state, only columns up to j) plus a 1×3 convolution of the hidden state of row
i − 1 (state-to-state):  [o, f, i, g] = σ(K_ss ⊛ h_{i−1} + K_is ⊛ x_i),  c_i = f ⊙ c_{i−1} + i ⊙ g,
h_i = o ⊙ tanh(c_i). Its receptive field is a triangle above the pixel. As in the paper, a 7×7 type-A masked
convolution comes first and two 1×1 layers end the network; layers are joined by residual connections.

NOTE: binary pixels with one Bernoulli logit each (the paper's MNIST setting); no multi-scale or channel masking.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from .autoregressive import AutoregressiveModel, MaskedConv2d, pointwise, reshaped_weight
from .base import HUB_KWARGS


class RowLSTM(nn.Module):
    """One Row LSTM layer: (n, c, H, W) → hidden states (n, c, H, W), row after row."""

    def __init__(self, channels: int, kernel: int = 3):
        super().__init__()
        self.input_to_state = MaskedConv2d(channels, 4 * channels, (1, kernel), "B")
        self.state_to_state = nn.Conv1d(channels, 4 * channels, 3, padding=1)

    @staticmethod
    def cell(gates: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """LSTM update from gate pre-activations (n, 4c, ...) and the previous cell state."""
        sig, g = gates.split([3 * c.shape[1], c.shape[1]], 1)
        o, f, i = torch.sigmoid(sig).chunk(3, 1)
        c = f * c + i * torch.tanh(g)
        return o * torch.tanh(c), c

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        N, C, H, W = x.shape
        from_input = self.input_to_state(x)  # (n, 4c, H, W): every row at once
        h, c = x.new_zeros(N, C, W), x.new_zeros(N, C, W)
        hs, cs = [], []
        for i in range(H):
            h, c = self.cell(from_input[:, :, i] + self.state_to_state(h), c)
            hs.append(h)
            cs.append(c)
        return torch.stack(hs, 2), torch.stack(cs, 2)

    def at(self, x_cache: torch.Tensor, h: torch.Tensor, c: torch.Tensor, i: int, j: int):
        """Hidden and cell state at (i, j), (n, c) each, from the input's cache and the states, all channels-last.

        h is padded by one column each side (n, H, W + 2, c) so the 1×3 state-to-state kernel needs no clipping.
        """
        gates = self.input_to_state.at(x_cache, i, j) + self.state_to_state.bias
        if i > 0:
            window = h[:, i - 1, j : j + 3]  # (n, 3, c): columns j − 1 .. j + 1 of row i − 1
            weight = reshaped_weight(self.state_to_state, lambda w: w.permute(2, 1, 0).flatten(0, 1).contiguous())
            gates = torch.addmm(gates, window.flatten(1), weight)
            return self.cell(gates, c[:, i - 1, j])
        return self.cell(gates, torch.zeros_like(c[:, 0, j]))


class PixelRNN(AutoregressiveModel, PyTorchModelHubMixin, **HUB_KWARGS):
    """x (n, 1, 28, 28) in {0, 1} → logits (n, 1, 28, 28).

    x ─ MaskA 7×7 ─ h ─┬─ RowLSTM ─(+)─ ... (layers) ─ ReLU ─ 1×1 ─ ReLU ─ 1×1 ─ logits
                       └────────────┘
    """

    def __init__(self, channels: int = 32, layers: int = 2, height: int = 28, width: int = 28):
        super().__init__()
        self.image_shape = (1, height, width)
        self.first = MaskedConv2d(1, channels, (7, 7), "A")
        self.rows = nn.ModuleList(RowLSTM(channels) for _ in range(layers))
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU(), nn.Conv2d(channels, 1, 1))

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None, keep: dict | None = None):
        h = self.first(x)
        if keep is not None:
            keep["x"] = self.first.cache(x)
        for k, layer in enumerate(self.rows):
            hidden, cell = layer(h)
            if keep is not None:
                hidden_cache = F.pad(hidden, (1, 1)).permute(0, 2, 3, 1).contiguous()
                keep[k] = dict(x=layer.input_to_state.cache(h), h=hidden_cache, c=cell.permute(0, 2, 3, 1).contiguous())
            h = h + hidden
        return self.head(h)

    def step(self, keep: dict, i: int, j: int) -> torch.Tensor:
        h = self.first.at(keep["x"], i, j)
        for k, layer in enumerate(self.rows):
            s = keep[k]
            s["x"][:, i, j + layer.input_to_state.pads[0]] = h
            hidden, s["c"][:, i, j] = layer.at(s["x"], s["h"], s["c"], i, j)
            s["h"][:, i, j + 1] = hidden
            h = h + hidden
        return pointwise(self.head, h)

    def put(self, keep: dict, i: int, j: int, value: torch.Tensor) -> None:
        keep["x"][:, i + 3, j + 3, 0] = value
