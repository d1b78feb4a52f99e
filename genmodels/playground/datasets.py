"""2D data for the playground: the usual presets, a drawing turned into a density, and CSV rows.

Every preset returns an (n, 2) float tensor of points drawn with the given `torch.Generator`, scaled to lie roughly
in [-2, 2]², so one plotting window fits them all.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable

import numpy as np
import torch

MAX_POINTS = 5000
MAX_CSV_BYTES = 2_000_000
MAX_CSV_VALUE = 1e30  # comfortably inside float32 (3.4e38) once centred and scaled


def _normal(n: int, g: torch.Generator) -> torch.Tensor:
    return torch.randn(n, 2, generator=g)


def ring_centres(k: int = 8, radius: float = 1.6) -> torch.Tensor:
    angle = torch.arange(k).float() * (2 * math.pi / k)
    return radius * torch.stack([angle.cos(), angle.sin()], 1)


def ring_of_gaussians(n: int, g: torch.Generator, k: int = 8, radius: float = 1.6, std: float = 0.08) -> torch.Tensor:
    return ring_centres(k, radius)[torch.randint(0, k, (n,), generator=g)] + std * _normal(n, g)


def grid_centres(side: int = 5, spacing: float = 0.8) -> torch.Tensor:
    ticks = (torch.arange(side).float() - (side - 1) / 2) * spacing
    return torch.cartesian_prod(ticks, ticks)


def grid_of_gaussians(
    n: int, g: torch.Generator, side: int = 5, spacing: float = 0.8, std: float = 0.05
) -> torch.Tensor:
    cell = torch.randint(0, side, (n, 2), generator=g).float()
    return (cell - (side - 1) / 2) * spacing + std * _normal(n, g)


def two_moons(n: int, g: torch.Generator, noise: float = 0.06) -> torch.Tensor:
    t = torch.rand(n, generator=g) * math.pi
    upper = torch.rand(n, generator=g) < 0.5
    x = torch.where(upper, t.cos(), 1 - t.cos())
    y = torch.where(upper, t.sin(), 0.5 - t.sin())
    return (torch.stack([x, y], 1) - torch.tensor([0.5, 0.25])) * 1.4 + noise * _normal(n, g)


def spiral(n: int, g: torch.Generator, turns: float = 1.75, noise: float = 0.05) -> torch.Tensor:
    t = torch.rand(n, generator=g).sqrt() * turns * 2 * math.pi
    r = t / (turns * 2 * math.pi) * 1.9
    return torch.stack([r * t.cos(), r * t.sin()], 1) + noise * _normal(n, g)


def circles(n: int, g: torch.Generator, radii: tuple[float, float] = (0.8, 1.7), noise: float = 0.05) -> torch.Tensor:
    r = torch.tensor(radii)[torch.randint(0, 2, (n,), generator=g)]
    angle = torch.rand(n, generator=g) * 2 * math.pi
    return r[:, None] * torch.stack([angle.cos(), angle.sin()], 1) + noise * _normal(n, g)


def checkerboard(n: int, g: torch.Generator, squares: int = 4) -> torch.Tensor:
    # Pick a dark square uniformly, then a uniform point in it: squares (i, j) with i + j even, on [-2, 2]².
    size = 4.0 / squares
    dark = [(i, j) for i in range(squares) for j in range(squares) if (i + j) % 2 == 0]
    pick = torch.tensor(dark, dtype=torch.float32)[torch.randint(0, len(dark), (n,), generator=g)]
    return (pick + torch.rand(n, 2, generator=g)) * size - 2.0


def line_segment(n: int, g: torch.Generator) -> torch.Tensor:
    """Uniform on the segment from (-1.5, -1) to (1.5, 1): a distribution with one-dimensional support."""
    t = torch.rand(n, 1, generator=g) * 2 - 1
    return t * torch.tensor([1.5, 1.0])


PRESETS: dict[str, Callable[[int, torch.Generator], torch.Tensor]] = {
    "8 Gaussians (ring)": ring_of_gaussians,
    "25 Gaussians (grid)": grid_of_gaussians,
    "Two moons": two_moons,
    "Spiral": spiral,
    "Concentric circles": circles,
    "Checkerboard": checkerboard,
    "Line segment (1D support)": line_segment,
}


# Presets made of separate modes: their centres, and how near (about 5 standard deviations) a point must be to count
# for one. The GAN lab counts which modes the generator reaches, so mode collapse shows as a number, not a hunch.
MODES: dict[str, tuple[torch.Tensor, float]] = {
    "8 Gaussians (ring)": (ring_centres(), 0.4),
    "25 Gaussians (grid)": (grid_centres(), 0.25),
}


def preset(name: str, n: int, seed: int) -> torch.Tensor:
    """`n` points of preset `name`, reproducible from `seed`. Raises ValueError for an unknown name."""
    if name not in PRESETS:
        raise ValueError(f"Unknown dataset {name!r}. Choose from: {', '.join(PRESETS)}.")
    return PRESETS[name](n, torch.Generator().manual_seed(seed))


def from_csv(text: str) -> torch.Tensor:
    """Points from CSV text with two numeric columns x,y (a header row is allowed), scaled into [-2, 2]².

    Raises:
        ValueError: with the line number and what is wrong.
    """
    if len(text) > MAX_CSV_BYTES:
        raise ValueError(f"The CSV is larger than {MAX_CSV_BYTES // 1_000_000} MB; send at most {MAX_POINTS} rows.")
    rows = []
    for line_no, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) < 2:
            raise ValueError(f"CSV line {line_no} has {len(row)} column; each row needs x,y.")
        try:
            x, y = float(row[0]), float(row[1])
        except ValueError:
            if not rows and line_no == 1:
                continue  # a header row
            raise ValueError(f"CSV line {line_no}: {row[0][:20]!r}, {row[1][:20]!r} are not both numbers.") from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError(f"CSV line {line_no} holds a value that is not finite.")
        if max(abs(x), abs(y)) > MAX_CSV_VALUE:  # past float32's range the points would turn into inf, then NaN
            raise ValueError(f"CSV line {line_no} holds a value beyond ±{MAX_CSV_VALUE:g}.")
        rows.append((x, y))
    if len(rows) < 10:
        raise ValueError(f"The CSV needs at least 10 x,y rows; it has {len(rows)}.")
    if len(rows) > MAX_POINTS:
        raise ValueError(f"The CSV has {len(rows)} rows; the playground takes at most {MAX_POINTS}.")
    points = torch.tensor(rows, dtype=torch.float64)
    if (points.max(0).values - points.min(0).values).max() <= 1e-9 * max(1.0, points.abs().max().item()):
        raise ValueError("Every CSV row is the same point; the tools need points that differ.")
    return normalise(points).float()


def from_sketch(image: np.ndarray, n: int, seed: int) -> torch.Tensor:
    """Sample `n` points from a drawing: ink darkness (or alpha) is the density, each point jittered in its pixel.

    Args:
        image: (H, W), (H, W, 3) or (H, W, 4) array; drawn strokes are dark on light, or opaque on transparent.
    """
    a = np.asarray(image, dtype=np.float64)
    if a.ndim == 3 and a.shape[2] == 4 and a[..., 3].max() > a[..., 3].min():
        ink = a[..., 3] / 255.0  # strokes on a transparent canvas
    elif a.ndim == 3 and a.shape[2] == 4 and a[..., 3].max() == 0:
        ink = np.zeros(a.shape[:2])  # a fully transparent, untouched canvas
    else:
        grey = a[..., :3].mean(axis=2) if a.ndim == 3 else a
        ink = 1.0 - grey / 255.0  # dark strokes on a light canvas
    if ink.ndim != 2 or ink.sum() <= 1e-9 or (ink > 0.05).sum() < 3:
        raise ValueError("The drawing is empty: draw a few strokes first.")
    h, w = ink.shape
    g = torch.Generator().manual_seed(seed)
    p = torch.from_numpy(ink.ravel() / ink.sum())
    idx = torch.multinomial(p, n, replacement=True, generator=g)
    cols, rows = (idx % w).double(), (idx // w).double()
    jitter = torch.rand(n, 2, generator=g, dtype=torch.float64)
    # Image rows grow downwards; the plot's y grows upwards.
    points = torch.stack([cols + jitter[:, 0], h - (rows + jitter[:, 1])], 1).float()
    return normalise(points)


def normalise(points: torch.Tensor, half_width: float = 1.8) -> torch.Tensor:
    """Centre the points and scale their larger extent into [-half_width, half_width] (aspect kept)."""
    lo, hi = points.min(0).values, points.max(0).values
    extent = (hi - lo).max().clamp(min=1e-6)
    return (points - (lo + hi) / 2) * (2 * half_width / extent)
