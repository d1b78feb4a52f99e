"""Helpers shared by the tabs' task functions: checking what a user sent, and turning tensors into pictures."""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
import torch

MAX_SEED = 2**31 - 1  # seeds a user can type: what every browser and client can send as a whole number


def as_int(value: object, what: str, lo: int, hi: int) -> int:
    """`value` as an int in [lo, hi]; accepts ints, integral floats and digit strings, else a ValueError."""
    number = value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            pass
    if isinstance(number, bool) or not isinstance(number, Real) or not math.isfinite(number) or number != int(number):
        raise ValueError(f"{what} must be a whole number from {lo} to {hi}, got {value!r}.")
    if not lo <= int(number) <= hi:
        raise ValueError(f"{what} must be from {lo} to {hi}, got {int(number)}.")
    return int(number)


def as_seed(value: object) -> int:
    """`value` as a seed, 0..MAX_SEED (see `as_int`)."""
    return as_int(value, "Seed", 0, MAX_SEED)


def as_float(value: object, what: str, lo: float, hi: float) -> float:
    """`value` as a finite float in [lo, hi], else a ValueError."""
    number = value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            pass
    if isinstance(number, bool) or not isinstance(number, Real) or not math.isfinite(number):
        raise ValueError(f"{what} must be a number from {lo:g} to {hi:g}, got {value!r}.")
    if not lo <= float(number) <= hi:
        raise ValueError(f"{what} must be from {lo:g} to {hi:g}, got {float(number):g}.")
    return float(number)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(n, C, H, W) in [0, 1] → uint8 (n, H, W, 3)."""
    x = (images.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).cpu()
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    return x.permute(0, 2, 3, 1).numpy()


def image_grid(images: torch.Tensor, ncol: int | None = None, pad: int = 2, scale: int = 2) -> np.ndarray:
    """Tile (n, C, H, W) images in [0, 1] into one uint8 (rows, cols, 3) picture, upscaled by `scale` (nearest).

    Tiles sit on a mid-grey background so white-on-black digits keep their edges.
    """
    tiles = to_uint8(images)
    n, h, w, _ = tiles.shape
    ncol = ncol or math.ceil(math.sqrt(n))
    nrow = math.ceil(n / ncol)
    grid = np.full((nrow * (h + pad) + pad, ncol * (w + pad) + pad, 3), 128, dtype=np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, ncol)
        grid[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = tile
    return grid.repeat(scale, axis=0).repeat(scale, axis=1)
