"""The Latent tab's work: walks, arithmetic, encoding your own digit, directions from data, and the 2D autoencoders.

A model takes part when its recipe has a `latent` (`recipes/base.py`, `LatentSpace`): how to draw z for a seed,
decode z, and encode an image (None for a GAN, whose z for an image is found by optimisation, `latent.invert`).
Operands of walks, arithmetic and directions are "seed" (z drawn from the seed), "your digit" (the picture, encoded)
or "mean of c" (the mean latent of digit c over the training set, `genmodels.latent`). Every frame is read by the
project's classifier. Everything a user can send gets a ValueError in our words.
"""

from __future__ import annotations

import functools
import hashlib
import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .. import data, hub, latent, registry
from ..models.base import cpu_generator, one_intra_op_thread
from ..playground.figures import PALETTE, figure
from ..recipes.autoencoder import corrupt
from .common import (
    as_choice,
    as_float,
    as_int,
    as_models,
    as_seed,
    file_path,
    image_grid,
    open_image,
    shown,
    write_once,
)
from .translate import digit_tensor

SOURCES = ("seed", "your digit", *(f"mean of {c}" for c in range(10)))
DIRECTIONS = ("thickness", "slant", *(f"towards {c}" for c in range(10)))
MAX_FRAMES = 24
MAX_INVERSION_STEPS = 500
INVERSION_STARTS = 8  # random starts of the optimisation, run as one batch; the best is kept
AMOUNT = 3.0  # how far a direction slider goes either way (1 = from the thinnest quarter of a class to its thickest)
MAP_GRID = 15  # the decoded manifold: MAP_GRID × MAP_GRID points


def latent_models() -> list[str]:
    """Registry names of the models with a latent space to walk, in catalogue order."""
    return [name for name, entry in registry.REGISTRY.items() if entry.recipe.latent is not None]


def map_models() -> list[str]:
    """The models with an encoder into a 2D latent space: their maps can be seen whole."""
    return [n for n, e in registry.REGISTRY.items() if e.recipe.encodes and e.recipe.config.get("latent_dim") == 2]


def denoiser() -> str:
    """The model that cleans noisy digits (the first one declared)."""
    return next(n for n, e in registry.REGISTRY.items() if e.recipe.denoises)


def model_choices(names: list[str] | None = None) -> list[tuple[str, str]]:
    return [(registry.get(name).title, name) for name in names or latent_models()]


def about(name: object) -> str:
    """What z is for this model, in one line (no weights are loaded)."""
    entry = _entry(name)
    return f"**{entry.title}**: {entry.recipe.latent.about}"


def _entry(name: object, names: list[str] | None = None) -> registry.ModelEntry:
    if not isinstance(name, str):
        raise ValueError(f"Model must be one model's name, got {shown(name)}.")
    (name,) = as_models(name, names or latent_models(), "has no latent space here")
    return registry.get(name)


def _model(name: object, names: list[str] | None = None):
    """The entry and the loaded model (a ValueError in our words when its weights are missing)."""
    return _entry(name, names), hub.cached(name)


def your_digit(image: object) -> torch.Tensor:
    """The picture (a file) as an MNIST digit (1, 1, 28, 28) in [0, 1]."""
    path = file_path(image, "Your digit")
    if path is None:
        raise ValueError('Give your digit first (draw or upload one), or choose "seed" or a class mean.')
    return digit_tensor(open_image(path))


def readings(images: torch.Tensor) -> list[tuple[int, float]]:
    """The classifier's digit and confidence for each image."""
    classifier = hub.cached(registry.CLASSIFIER)
    with torch.no_grad():
        probs = classifier(images.to(classifier.device)).softmax(1).cpu()
    confidence, digit = probs.max(1)
    return list(zip(digit.tolist(), [round(c, 3) for c in confidence.tolist()], strict=True))


def caption(reading: tuple[int, float]) -> str:
    """The classifier's reading, short enough to sit under a frame: "7 · 98%"."""
    return f"{reading[0]} · {reading[1]:.0%}"


def _decode(entry, model, z: torch.Tensor) -> torch.Tensor:
    """Images (n, 1, 28, 28) in [0, 1] on the CPU from flat latents (n, d)."""
    with torch.no_grad(), one_intra_op_thread():
        z = z.reshape(len(z), *_shape(entry, model)).to(model.device)
        x = entry.recipe.latent.decode(model, z).float().cpu()
    return torch.nan_to_num(x, nan=0.0).clamp(0.0, 1.0)  # a flow's inverse can overflow far from the data


def _shape(entry, model) -> tuple[int, ...]:
    """One image's latent shape (the VQ-VAE's pre-quantisation grid is (D, 7, 7)), from the cheaper of an encoding
    and a draw."""
    space = entry.recipe.latent
    with torch.no_grad():
        if space.encode is not None:
            return tuple(space.encode(model, torch.zeros((1, 1, 28, 28), device=model.device)).shape[1:])
        return tuple(space.draw(model, 1, cpu_generator(0)).shape[1:])


def latent_of(name: str, source: object, seed: object = 0, image: object = None) -> torch.Tensor:
    """One flat latent (d,) for an operand: a seed's draw, your digit encoded (a GAN: by optimisation), or the mean
    latent of a digit class."""
    entry, model = _model(name)
    source = as_choice(source, "Each operand", SOURCES)
    space = entry.recipe.latent
    with torch.no_grad(), one_intra_op_thread():
        if source == "seed":
            z = space.draw(model, 1, cpu_generator(as_seed(seed)))
        elif source == "your digit":
            x = your_digit(image).to(model.device)
            if space.encode is not None:
                z = space.encode(model, x)
            else:
                z = _inverted(name, file_path(image, "Your digit"), as_seed(seed))
        else:
            z = latent.load(name)["class_means"][int(source.split()[-1])]
    z = z.reshape(-1).cpu()
    return z if z.dtype == torch.float64 else z.float()  # a flow's z stays float64: its decoder needs every digit


@functools.lru_cache(maxsize=32)
def _inverted(name: str, path: str, seed: int) -> torch.Tensor:
    """A GAN's z for an uploaded digit (200 steps), kept: a slider moving from your digit does not optimise again."""
    entry, model = _model(name)
    *_, last = invert_one(entry, model, your_digit(path).to(model.device), 200, seed)
    return last["z"]


def invert_one(entry, model, x: torch.Tensor, steps: int, seed: int) -> Iterator[dict]:
    """GAN inversion of x: yields {"step", "steps", "mse", "z"} as it goes (z: the best start's, flat)."""
    starts = entry.recipe.latent.draw(model, INVERSION_STARTS, cpu_generator(seed)).flatten(1)
    shape = _shape(entry, model)

    def decode(z: torch.Tensor) -> torch.Tensor:
        return entry.recipe.latent.decode(model, z.reshape(len(z), *shape))

    for step, z, error in latent.invert(decode, x, starts.to(model.device), steps, every=max(steps // 20, 1)):
        best = int(error.argmin())
        yield {"step": step, "steps": steps, "mse": round(error[best].item(), 5), "z": z[best].cpu()}


def _tiles(images: torch.Tensor, scale: int = 4) -> list[np.ndarray]:
    return [image_grid(x[None], pad=0, scale=scale) for x in images]


def walk(
    name: object,
    a_source: object = "seed",
    a_seed: object = 0,
    b_source: object = "seed",
    b_seed: object = 1,
    frames: object = 8,
    image: object = None,
) -> dict:
    """Linear and spherical interpolation between operands A and B, `frames` frames each (both ends included).

    Returns: lerp and slerp, each a list of (frame, caption with the classifier's reading); gif (a file: each frame
    shows the lerp above the slerp); seconds_per_frame (decoding alone); about (what z is for this model)."""
    entry, model = _model(name)
    frames = as_int(frames, "Frames", 2, MAX_FRAMES)
    a, b = latent_of(name, a_source, a_seed, image), latent_of(name, b_source, b_seed, image)
    t = torch.linspace(0, 1, frames)
    paths = {"lerp": latent.lerp(a, b, t), "slerp": latent.slerp(a, b, t)}
    start = time.perf_counter()
    images = {kind: _decode(entry, model, path) for kind, path in paths.items()}
    per_frame = (time.perf_counter() - start) / (2 * frames)
    out = {
        kind: [(tile, caption(r)) for tile, r in zip(_tiles(x), readings(x), strict=True)] for kind, x in images.items()
    }
    out.update(
        gif=walk_gif(images["lerp"], images["slerp"]),
        seconds_per_frame=round(per_frame, 5),
        about=entry.recipe.latent.about,
        norms={kind: [round(v, 3) for v in path.norm(dim=1).tolist()] for kind, path in paths.items()},
    )
    return out


def walk_gif(lerp: torch.Tensor, slerp: torch.Tensor, scale: int = 4) -> str:
    """A GIF file: one frame per step, the lerp's image above the slerp's; written once per distinct walk."""
    pictures = [image_grid(torch.stack([a, b]), ncol=1, pad=2, scale=scale) for a, b in zip(lerp, slerp, strict=True)]
    frames = [Image.fromarray(p) for p in pictures]
    digest = hashlib.sha256(np.stack(pictures).tobytes()).hexdigest()[:32]

    def write(f) -> None:
        frames[0].save(f, "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)

    return write_once(Path(tempfile.gettempdir()) / "genmodels-walks", f"walk-{digest}.gif", write)


def arithmetic(
    name: object,
    a_source: object = "mean of 9",
    a_seed: object = 0,
    b_source: object = "mean of 4",
    b_seed: object = 0,
    c_source: object = "mean of 1",
    c_seed: object = 0,
    image: object = None,
) -> dict:
    """A − B + C in the model's latent space. Returns images: [(picture, caption)] for A, B, C and the result."""
    entry, model = _model(name)
    a, b, c = (
        latent_of(name, s, seed, image) for s, seed in ((a_source, a_seed), (b_source, b_seed), (c_source, c_seed))
    )
    result = a - b + c
    images = _decode(entry, model, torch.stack([a, b, c, result]))
    labels = ("A", "B", "C", "A − B + C")
    tiles = _tiles(images)
    return {
        "images": [
            (tile, f"{label}: {caption(r)}") for tile, label, r in zip(tiles, labels, readings(images), strict=True)
        ],
        "about": entry.recipe.latent.about,
    }


def encode_stream(models: object, image: object, steps: object = 200, seed: object = 0) -> Iterator[list[dict]]:
    """Your digit encoded by each model and decoded again, streamed.

    Yields one dict per model started so far: model, title, method, and when done reconstruction (a picture),
    mse (mean squared error per pixel against your digit), seconds, reading; a GAN's dict has step/steps and mse
    while its optimisation runs. A model whose weights are missing gets an error (a sentence) instead."""
    names = as_models(models, latent_models(), "has no latent space here")
    x = your_digit(image)
    steps = as_int(steps, "Optimisation steps", 10, MAX_INVERSION_STEPS)
    seed = as_seed(seed)
    done: list[dict] = []
    for name in names:
        entry = registry.get(name)
        space = entry.recipe.latent
        result = {"model": name, "title": entry.title}
        if space.encode is not None:
            exact = entry.recipe.likelihood == "exact"  # a flow: its encoder is the exact inverse of its decoder
            result["method"] = "encoder: one forward pass" + (" (exact inverse)" if exact else "")
        else:
            result["method"] = f"optimisation of z: {INVERSION_STARTS} random starts × {steps} Adam steps, best kept"
        try:
            model = hub.cached(name)
        except ValueError as exc:
            done.append({**result, "error": str(exc)})
            yield list(done)
            continue
        xd = x.to(model.device)
        start = time.perf_counter()
        if space.encode is not None:
            with torch.no_grad(), one_intra_op_thread():
                z = space.encode(model, xd).flatten(1)[0].cpu()
        else:
            for progress in invert_one(entry, model, xd, steps, seed):
                z = progress["z"]
                if progress["step"] < steps:
                    yield [*done, {**result, **{k: v for k, v in progress.items() if k != "z"}}]
        seconds = time.perf_counter() - start
        if space.encode is None:
            result["steps"] = steps
        recon = _decode(entry, model, z[None])
        result.update(
            reconstruction=_tiles(recon)[0],
            mse=round((recon - x).pow(2).mean().item(), 5),
            seconds=round(seconds, 3),
            reading=readings(recon)[0],
        )
        done.append(result)
        yield list(done)


def direction(
    name: object,
    source: object = "seed",
    seed: object = 0,
    which: object = "thickness",
    amount: object = 0.0,
    image: object = None,
) -> dict:
    """The operand moved `amount` along a direction found from data (see `genmodels.latent`): thickness, slant, or
    towards a digit class (its class mean minus the mean of all class means). Returns picture, caption, ink, slant."""
    entry, model = _model(name)
    which = as_choice(which, "Direction", DIRECTIONS)
    amount = as_float(amount, "Amount", -AMOUNT, AMOUNT)
    z = latent_of(name, source, seed, image)
    stats = latent.load(name)
    if which == "thickness":
        d = stats["ink"]
    elif which == "slant":
        d = stats["slant"]
    else:
        means = stats["class_means"]
        d = means[int(which.split()[-1])] - means.mean(0)
    x = _decode(entry, model, (z + amount * d.reshape(-1))[None])
    return {
        "picture": _tiles(x, scale=8)[0],
        "caption": caption(readings(x)[0]),
        "ink": round(latent.ink(x).item(), 4),
        "slant": round(latent.slant(x).item(), 4),
    }


@functools.lru_cache(maxsize=1)
def test_set() -> tuple[torch.Tensor, torch.Tensor]:
    """The MNIST test images (n, 1, 28, 28) in [0, 1] and labels, loaded once (downloaded when missing and online)."""
    images, labels = data.load_mnist(None, "test")
    return data.to_unit(images), labels


def latent_map(name: object) -> dict:
    """A 2D latent space seen whole: the test images' latents (points, labels) and the decoded manifold over the
    box they fill (a VAE's over the prior's central 90 %, as in Kingma & Welling's Fig. 4).

    Returns figure (the points coloured by class), manifold (a picture, z1 left to right, z2 bottom to top), extent
    [z1 min, z1 max, z2 min, z2 max], and note (for the linear autoencoder, its angle to PCA's subspace)."""
    entry, model = _model(name, map_models())
    x, y = test_set()
    with torch.no_grad(), one_intra_op_thread():
        z = torch.cat([model.encode(c.to(model.device)).cpu() for c in x.split(500)])
    if entry.recipe.latent is not None:  # a prior N(0, I): its central 90 %
        lo, hi = [-1.645] * 2, [1.645] * 2
    else:
        lo, hi = torch.quantile(z, 0.01, dim=0).tolist(), torch.quantile(z, 0.99, dim=0).tolist()
    z1, z2 = torch.linspace(lo[0], hi[0], MAP_GRID), torch.linspace(hi[1], lo[1], MAP_GRID)
    grid = torch.stack(torch.meshgrid(z2, z1, indexing="ij")[::-1], -1).reshape(-1, 2)
    with torch.no_grad():
        manifold = model.decode(grid.to(model.device)).clamp(0, 1).cpu()
    traces = [
        dict(
            type="scattergl",
            mode="markers",
            name=str(c),
            x=z[y == c, 0].numpy(),
            y=z[y == c, 1].numpy(),
            marker=dict(size=4, color=PALETTE[c], opacity=0.8),
        )
        for c in range(10)
    ]
    title = f"{entry.title}: test digits by class"
    return {
        "figure": figure(traces, title, square=False, height=420, xtitle="z1", ytitle="z2"),
        "manifold": image_grid(manifold, ncol=MAP_GRID, pad=0, scale=1),
        "extent": [round(v, 4) for v in (lo[0], hi[0], lo[1], hi[1])],
        "note": map_note(entry),
    }


def map_note(entry) -> str:
    training = entry.local_dir / "training.json"
    if training.is_file():
        angle = json.loads(training.read_text()).get("angle_to_pca_degrees")
        if angle is not None:
            return (
                f"The linear autoencoder's 2D subspace is {angle:.2f}° from PCA's top-2 subspace of the training "
                "images (the largest principal angle): with a linear map and squared error, an autoencoder learns "
                "PCA's subspace (Baldi & Hornik 1989), though not PCA's axes."
            )
    return ""


def manifold_point(extent: list[float], x: int, y: int) -> tuple[float, float]:
    """The (z1, z2) of the manifold tile under pixel (x, y) of the picture `latent_map` drew over `extent`."""
    lo1, hi1, lo2, hi2 = extent
    column, row = min(int(x) // 28, MAP_GRID - 1), min(int(y) // 28, MAP_GRID - 1)
    z1 = lo1 + (hi1 - lo1) * column / (MAP_GRID - 1)
    z2 = hi2 - (hi2 - lo2) * row / (MAP_GRID - 1)  # the top row is the highest z2
    return round(z1, 4), round(z2, 4)


def latent_point(name: object, z1: object, z2: object) -> dict:
    """The image a 2D model decodes at (z1, z2): picture and caption."""
    entry, model = _model(name, map_models())
    z = torch.tensor([[as_float(z1, "z1", -1e4, 1e4), as_float(z2, "z2", -1e4, 1e4)]])
    with torch.no_grad():
        x = model.decode(z.to(model.device)).clamp(0, 1).cpu()
    return {"picture": _tiles(x, scale=8)[0], "caption": caption(readings(x)[0])}


def denoise(image: object, noise: object = 0.3, seed: object = 0) -> dict:
    """Your digit with Gaussian noise of std `noise` added (clipped to [0, 1]), and the denoising autoencoder's answer.
    Returns noisy, cleaned (pictures), noisy_error and cleaned_error (mean squared error per pixel)."""
    noise = as_float(noise, "Noise", 0.0, 1.0)
    x = your_digit(image)
    _, model = _model(denoiser(), [denoiser()])
    noisy = corrupt(x, noise, cpu_generator(as_seed(seed)))
    with torch.no_grad():
        cleaned = model.reconstruct(noisy.to(model.device)).cpu()
    return {
        "noisy": _tiles(noisy, scale=8)[0],
        "cleaned": _tiles(cleaned, scale=8)[0],
        "noisy_error": round((noisy - x).pow(2).mean().item(), 5),
        "cleaned_error": round((cleaned - x).pow(2).mean().item(), 5),
    }
