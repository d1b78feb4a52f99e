"""Latent spaces: interpolation, GAN inversion, the attributes of a digit, and each model's class means and attribute
directions, measured on the training images by the CLI:

    python -m genmodels.latent NAME --data-root DIR [--images 10000]   # writes checkpoints/NAME/latent.safetensors

- `lerp` and `slerp` (Shoemake 1985; White 2016, arXiv:1609.04468, for generative models): slerp follows the great
  circle between the two endpoints, so between two draws of N(0, I) it stays where the prior's mass is (a lerp
  passes close to the origin, which a high-dimensional Gaussian almost never draws).
- `invert`: a GAN has no encoder, so its z for an image is found by gradient descent on ‖G(z) − x‖² from several
  random starts (Zhu et al. 2016, arXiv:1609.03552; Creswell & Bharath 2018, arXiv:1802.05701).
- `ink` (the mean intensity: stroke thickness) and `slant` (from the second moments: how far each row's mass moves
  right per row up; the deskewing measure of LeCun et al.'s MNIST preprocessing).
- `statistics`: the mean latent of each digit class, and the ink and slant directions: within each class, the mean
  latent of the quarter with the most ink (or slant) minus that of the quarter with the least, averaged over the
  classes (so a direction does not also change the digit). Moving by 1 along a direction is that difference: from a
  thin digit to a thick one. An encoder's latents come from the training images; a GAN's from its own samples, read
  by the project's classifier (only samples it is ≥ 90 % sure of count towards class means, and each class mean is
  scaled to the typical norm of its members: the plain mean of many N(0, I) draws sits near the origin, off the prior's
  shell).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from . import data, hub, registry
from .models.base import cpu_generator
from .recipes.common import classify

FILE = "latent.safetensors"
ATTRIBUTES = ("ink", "slant")
CONFIDENT = 0.9


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """(1 − t) a + t b for each t: a, b (d,), t (k,) → (k, d)."""
    return (1 - t)[:, None] * a + t[:, None] * b


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """sin((1 − t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b with Ω the angle between a and b: a, b (d,), t (k,) → (k, d).

    When a and b have the same norm every point does too. Parallel or antiparallel endpoints (sin Ω ≈ 0) have no
    one great circle between them: the lerp is returned."""
    a64, b64, t64 = a.double(), b.double(), t.double()
    cos = torch.dot(a64, b64) / (a64.norm() * b64.norm()).clamp(min=1e-30)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    if torch.sin(omega).abs() < 1e-6:
        return lerp(a, b, t)
    wa, wb = torch.sin((1 - t64) * omega) / torch.sin(omega), torch.sin(t64 * omega) / torch.sin(omega)
    return (wa[:, None] * a64 + wb[:, None] * b64).to(torch.promote_types(a.dtype, b.dtype))


def ink(x: torch.Tensor) -> torch.Tensor:
    """Mean intensity per image (n,) of x (n, 1, H, W) in [0, 1]: thicker strokes, more ink."""
    return x.flatten(1).mean(1)


def slant(x: torch.Tensor) -> torch.Tensor:
    """Slant per image (n,): −cov(column, row) / var(row) over the ink, i.e. how many pixels the strokes move right
    per row upwards (0 upright, > 0 leaning right like italics)."""
    n, _, H, W = x.shape
    w = x[:, 0].double() + 1e-8
    rows = torch.arange(H, dtype=torch.float64)[None, :, None]
    cols = torch.arange(W, dtype=torch.float64)[None, None, :]
    mass = w.sum((1, 2))
    mr, mc = (w * rows).sum((1, 2)) / mass, (w * cols).sum((1, 2)) / mass
    cov = (w * (rows - mr[:, None, None]) * (cols - mc[:, None, None])).sum((1, 2)) / mass
    var = (w * (rows - mr[:, None, None]) ** 2).sum((1, 2)) / mass
    return (-cov / var.clamp(min=1e-8)).float()


def invert(
    decode: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    starts: torch.Tensor,
    steps: int,
    lr: float = 0.05,
    every: int = 10,
) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
    """Find z with decode(z) ≈ x (1, C, H, W) by Adam on the mean squared error, from each row of `starts` (k, d).

    Yields (steps done, z (k, d), error per start (k,)) at the start, every `every` steps and at the end; the error
    is that of the z yielded with it. Only z gets gradients (`torch.autograd.grad`): the model, shared by every
    user, is not touched."""
    z = starts.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    for step in range(steps + 1):
        with torch.enable_grad():
            error = (decode(z) - x).pow(2).flatten(1).mean(1)
            (grad,) = torch.autograd.grad(error.sum(), z)
        if step % every == 0 or step == steps:
            yield step, z.detach().clone(), error.detach()
        if step < steps:
            z.grad = grad
            opt.step()


@torch.no_grad()
def pairs(name: str, images: int, data_root: str | Path | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Latents (n, d) with their images (n, 1, 28, 28) and labels (n,): encoded training images, or for a model
    without an encoder its own samples (seed 0) and the classifier's readings (−1 where it is < 90 % sure)."""
    entry, model = registry.get(name), hub.load(name)
    space = entry.recipe.latent
    if space is None:
        raise ValueError(f"{name} has no latent space to measure.")
    if space.encode is not None:
        x, y = data.load_mnist(data_root, "train")
        x, y = data.to_unit(x[:images]), y[:images]
        z = torch.cat([space.encode(model, c.to(model.device)).cpu() for c in x.split(500)])
        return z.flatten(1).float(), x, y
    g = cpu_generator(0)
    z = torch.cat([space.draw(model, min(500, images - i), g).cpu() for i in range(0, images, 500)])
    x = torch.cat([space.decode(model, c.to(model.device)).cpu() for c in z.split(500)])
    _, probs = classify(hub.load(registry.CLASSIFIER), x)
    confidence, label = probs.max(1)
    return z.flatten(1), x, torch.where(confidence >= CONFIDENT, label, -1)


def statistics(
    z: torch.Tensor, x: torch.Tensor, y: torch.Tensor, typical_norm: bool = False
) -> dict[str, torch.Tensor]:
    """Class means (10, d) and the ink and slant directions (d,) described in the module docstring.

    `typical_norm`: scale each class mean to the mean norm of its members. For a GAN's N(0, I) latents the plain mean
    of many draws lies near the origin, where the prior has almost no mass, and decoded as a blur of digits."""
    means = [z[y == c].mean(0) for c in range(10)]
    if typical_norm:
        means = [m * z[y == c].norm(dim=1).mean() / m.norm() for c, m in enumerate(means)]
    out = {"class_means": torch.stack(means)}
    for attribute, measure in (("ink", ink), ("slant", slant)):
        values, diffs = measure(x), []
        for c in range(10):
            zc, vc = z[y == c], values[y == c]
            order = vc.argsort()
            quarter = max(len(order) // 4, 1)
            diffs.append(zc[order[-quarter:]].mean(0) - zc[order[:quarter]].mean(0))
        out[attribute] = torch.stack(diffs).mean(0)
    return out


def measure(name: str, data_root: str | Path | None, images: int = 10_000) -> dict[str, torch.Tensor]:
    z, x, y = pairs(name, images, data_root)
    missing = [c for c in range(10) if not (y == c).any()]
    if missing:
        raise ValueError(f"{name}: no latents for the digits {missing}; measure on more images.")
    return statistics(z, x, y, typical_norm=registry.get(name).recipe.latent.encode is None)


def load(name: str) -> dict[str, torch.Tensor]:
    """The model's class means and directions from `checkpoints/NAME/latent.safetensors` (or the Hub).

    Raises ValueError, in our words, when the file is missing or unreadable."""
    entry = registry.get(name)
    path = entry.local_dir / FILE
    try:
        if not path.is_file():
            path = hub.hub_paths(entry, (FILE,))[0]
        return load_file(path)
    except Exception as exc:
        raise ValueError(
            f"{entry.title}: its class means and directions are missing here "
            f"(`python -m genmodels.latent {name} --data-root DIR` measures them)."
        ) from exc


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=[n for n, e in registry.REGISTRY.items() if e.recipe.latent])
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--images", type=int, default=10_000)
    args = parser.parse_args(argv)
    stats = measure(args.name, args.data_root, args.images)
    out = registry.get(args.name).local_dir / FILE
    save_file({k: v.contiguous() for k, v in stats.items()}, out)
    norms = {k: round(v.norm().item(), 3) for k, v in stats.items() if k in ATTRIBUTES}
    print(json.dumps({"model": args.name, "file": str(out), "direction_norms": norms, "images": args.images}))


if __name__ == "__main__":
    main()
