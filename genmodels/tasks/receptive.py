"""Which earlier pixels each autoregressive model looks at: the gradient-based receptive field of one pixel.

For the pixel the user picks, |∂ logit(i, j) / ∂ x| over the input image (see `autoregressive.receptive_field`).
PixelCNN's stacked masked 3×3 kernels leave a blind spot above right of the pixel; the Gated PixelCNN's two
stacks do not; the Row LSTM sees a triangle above.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import hub, registry
from ..models.autoregressive import receptive_field
from .common import as_int

MODELS = tuple(registry.names(autoregressive=True))  # every model the shared raster-order sampler draws
SCALE = 8  # each pixel of a map is drawn SCALE × SCALE
SEEN_LOW, SEEN_HIGH = np.array([200, 225, 255]), np.array([20, 70, 200])  # weak → strong dependence: pale → deep blue
BLIND = np.array([255, 170, 60])  # earlier in raster order, yet no influence
LATER = np.array([60, 60, 60])  # the pixel itself and everything after it: must not be seen
TARGET = np.array([230, 30, 30])


def model_choices() -> list[tuple[str, str]]:
    """(title, name) of every model the receptive-field view shows."""
    return [(registry.get(name).title, name) for name in MODELS]


def picture(grad: torch.Tensor, i: int, j: int) -> tuple[np.ndarray, dict]:
    """A (H·SCALE, W·SCALE, 3) uint8 map of one pixel's dependencies, and counts of what it sees."""
    H, W = grad.shape
    g = grad.detach().double().cpu().numpy()
    order = np.arange(H * W).reshape(H, W)
    earlier = order < i * W + j
    seen = g > 0
    strength = np.zeros_like(g)
    if seen.any():
        logs = np.log10(g[seen])
        strength[seen] = (logs - logs.min()) / max(logs.max() - logs.min(), 1e-9)
    rgb = np.where(earlier[..., None], BLIND, LATER).astype(float)
    rgb[seen] = SEEN_LOW + strength[seen][:, None] * (SEEN_HIGH - SEEN_LOW)
    rgb[i, j] = TARGET
    image = rgb.round().astype(np.uint8).repeat(SCALE, 0).repeat(SCALE, 1)
    counts = {
        "earlier_pixels": int(earlier.sum()),
        "seen": int((seen & earlier).sum()),
        "seen_later": int((seen & ~earlier).sum()),
    }
    return image, counts


def receptive_fields(row: object, col: object) -> tuple[list[tuple[np.ndarray | None, str]], dict]:
    """Per model in MODELS: (picture or None, caption), and the counts as JSON. A missing model says so in its slot."""
    i = as_int(row, "Row", 0, 27)
    j = as_int(col, "Column", 0, 27)
    slots, info = [], {"pixel": [i, j]}
    for name in MODELS:
        title = registry.get(name).title
        try:
            model = hub.cached(name)
        except ValueError as exc:
            slots.append((None, f"**{title}**: ⚠️ {exc}"))
            continue
        image, counts = picture(receptive_field(model, i, j), i, j)
        info[name] = counts
        slots.append((image, f"**{title}** sees {counts['seen']} of the {counts['earlier_pixels']} earlier pixels"))
    return slots, info
