"""The Complete tab's work: hide part of a digit and let every model that can fill it do so, several answers each,
ranked by the model's likelihood, with two maps of where the models are unsure.

A model fills holes when its recipe has a `complete` function (`recipes/base.py`, `Completer`); the recipe also says
in one sentence how, and how far that is the true conditional p(hidden | observed). Everything a user can send gets
a ValueError in our words: not an image, a mask that hides nothing or everything, a wrong-sized mask, bad numbers.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterator

import numpy as np
import torch
from PIL import Image

from .. import hub, registry
from ..models.base import cpu_generator, one_intra_op_thread
from .common import as_choice, as_float, as_int, as_models, as_seed, file_path, image_grid, open_image
from .translate import digit_tensor

SIZE = 28
MASKS = ("bottom half", "top half", "left half", "right half", "centre square", "random pixels", "random blobs")
MAX_COMPLETIONS = 16
MAX_IMAGES = 64  # models × completions per call: every model's default 8


def completing_models() -> list[str]:
    """Registry names of the models that fill holes, in catalogue order."""
    return [name for name, entry in registry.REGISTRY.items() if entry.recipe.complete is not None]


def model_choices() -> list[tuple[str, str]]:
    """(title, name) of every model that fills holes."""
    return [(registry.get(name).title, name) for name in completing_models()]


def preset_mask(name: str, rate: float = 0.5, seed: int = 0) -> torch.Tensor:
    """(1, 1, 28, 28) bool, True where the models are to fill: one of MASKS. `rate` is the share of pixels hidden by
    "random pixels" and roughly by "random blobs"; `seed` places them."""
    name = as_choice(name, "Mask", MASKS)
    mask = torch.zeros(SIZE, SIZE, dtype=torch.bool)
    half = SIZE // 2
    if name == "bottom half":
        mask[half:] = True
    elif name == "top half":
        mask[:half] = True
    elif name == "left half":
        mask[:, :half] = True
    elif name == "right half":
        mask[:, half:] = True
    elif name == "centre square":
        mask[7:21, 7:21] = True
    elif name == "random pixels":
        mask = torch.rand(SIZE, SIZE, generator=cpu_generator(seed)) < rate
    else:  # blobs: discs of radius 2–5 at random centres until about `rate` of the image is hidden
        g = cpu_generator(seed)
        rows, cols = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing="ij")
        while mask.float().mean() < rate:
            r, c = torch.randint(SIZE, (2,), generator=g).tolist()
            radius = 2 + 3 * torch.rand(1, generator=g).item()
            mask |= (rows - r) ** 2 + (cols - c) ** 2 <= radius**2
    return mask[None, None]


def drawn_mask(source: object) -> torch.Tensor:
    """(1, 1, 28, 28) bool from a square picture of the strokes that hide pixels (any size): paint is every pixel that
    is not white once transparency is laid on white (a drawing layer's strokes, or dark marks on white), and a pixel of
    the 28 × 28 grid is hidden when any paint falls in it."""
    picture = open_image(source)
    if max(picture.size) > 1.05 * min(picture.size):
        raise ValueError(
            f"The mask picture is {picture.width}×{picture.height}; it must be square like the digit it covers."
        )
    painted = Image.fromarray((np.asarray(picture.convert("L")) < 240).astype(np.uint8) * 255)
    small = np.asarray(painted.resize((SIZE, SIZE), Image.Resampling.BOX)) > 0
    return torch.from_numpy(small)[None, None]


def check_mask(mask: torch.Tensor) -> torch.Tensor:
    if mask.shape != (1, 1, SIZE, SIZE):
        raise ValueError(f"The mask must be {SIZE}×{SIZE} pixels, one per pixel of the digit.")
    if not mask.any():
        raise ValueError("The mask hides nothing: choose a preset or paint over part of the digit.")
    if mask.all():
        raise ValueError("The mask hides the whole digit: leave some pixels for the models to go on from.")
    return mask


def predictive_entropy(model: torch.nn.Module, images: torch.Tensor, condition: torch.Tensor | None) -> torch.Tensor:
    """Bits (H, W): the entropy of the autoregressive model's prediction for each pixel given the pixels before it,
    averaged over the completions (one forward pass)."""
    with torch.no_grad():
        p = torch.sigmoid(model(images.to(model.device), condition)[:, 0]).clamp(1e-6, 1 - 1e-6).cpu()
    return (-(p * p.log2() + (1 - p) * (1 - p).log2())).mean(0)


def score(model: torch.nn.Module, images: torch.Tensor, condition: torch.Tensor | None, seed: int) -> torch.Tensor:
    """log p of each completion under the model (or its bound), nats (n,); a bound's draws come from `seed`."""
    kwargs = {"condition": condition}
    if "generator" in inspect.signature(model.log_prob).parameters:
        kwargs["generator"] = cpu_generator(seed)
    with torch.no_grad():
        return model.log_prob(images.to(model.device), **kwargs).cpu()


def heat(values: torch.Tensor, top: float) -> np.ndarray:
    """(H, W) values in [0, top] as a black → red → yellow picture, 8× nearest-neighbour, uint8 (8H, 8W, 3)."""
    d = (values / top).clamp(0, 1).numpy()
    rgb = np.stack([np.clip(2 * d, 0, 1), np.clip(2 * d - 1, 0, 1), np.zeros_like(d)], -1)
    return np.kron((rgb * 255).round().astype(np.uint8), np.ones((8, 8, 1), dtype=np.uint8))


def complete_one(
    name: str, known: torch.Tensor, mask: torch.Tensor, n: int, seed: int, temperature: float, digit: int | None
) -> Iterator[dict]:
    """One model's answer, first partial ones (with "steps_done") while it works; errors go in the result."""
    entry = registry.get(name)
    recipe = entry.recipe
    result = {"model": name, "title": entry.title, "completion": recipe.completion}
    low, high = recipe.temperatures
    if not low <= temperature <= high:
        result["temperature_used"] = temperature = min(max(temperature, low), high)
    if recipe.temperature_scale != 1.0:  # as on the Sample tab: flows draw at 0.7 × t
        result["temperature_drawn"] = temperature = round(temperature * recipe.temperature_scale, 4)
    try:
        model = hub.cached(name)
    except ValueError as exc:
        yield {**result, "error": str(exc)}
        return
    condition = None
    if recipe.conditional:
        condition = torch.full((n,), -1 if digit is None else digit)
    work, images = 0.0, None
    steps = recipe.complete(model, known, mask, n, cpu_generator(seed), temperature, condition)
    while True:
        start = time.perf_counter()
        with one_intra_op_thread():
            done, total, step_images = next(steps, (None, None, None))
        work += time.perf_counter() - start
        if done is None:
            break
        images = step_images.cpu()
        if done < total:
            yield {**result, "grid": image_grid(images), "steps_done": done, "steps": total}
    log_p = score(model, images, condition, seed)
    order = log_p.argsort(descending=True)
    images, log_p = images[order], log_p[order]
    hidden = mask[0, 0]
    variance = images[:, 0].var(0, unbiased=False) * hidden
    result.update(
        seconds=round(work, 3),
        grid=image_grid(images),
        log_p_nats=[round(v, 2) for v in log_p.tolist()],
        variance_map=heat(variance, 0.25),
        mean_variance=round(variance[hidden].mean().item(), 4),
    )
    if recipe.autoregressive:
        entropy = predictive_entropy(model, images, condition) * hidden
        result.update(entropy_map=heat(entropy, 1.0), mean_entropy_bits=round(entropy[hidden].mean().item(), 4))
    yield result


def has_ink(source: object) -> bool:
    """Whether a picture holds a digit at all (what `digit_tensor` would find), without a message when it does not."""
    try:
        digit_tensor(open_image(source))
    except ValueError:
        return False
    return True


def digit_view(image: object) -> np.ndarray:
    """The digit in MNIST's format, 8× enlarged, uint8 (224, 224, 3): what a mask is painted over."""
    path = file_path(image, "The digit")
    if path is None:
        raise ValueError("Give a digit first: draw one, upload a picture or pick an example.")
    grey = (digit_tensor(open_image(path))[0, 0] * 255).round().byte().numpy()
    return np.kron(np.stack([grey, grey, grey], -1), np.ones((8, 8, 1), dtype=np.uint8))


def masked_view(
    image: object, mask: object = "bottom half", drawn: object = None, rate: object = 0.5, seed: object = 0
):
    """What the models are given: the digit in MNIST's format, the hidden pixels red, 8× enlarged, uint8 (224, 224, 3).
    Same arguments and checks as `complete_stream`."""
    known, hidden = _inputs(image, mask, drawn, rate, seed)
    grey = (known[0, 0] * 255).round().byte().numpy()
    rgb = np.stack([grey, grey, grey], -1)
    rgb[hidden[0, 0].numpy()] = (200, 30, 30)
    return np.kron(rgb, np.ones((8, 8, 1), dtype=np.uint8))


def _inputs(
    image: object, mask: object, drawn: object, rate: object, seed: object
) -> tuple[torch.Tensor, torch.Tensor]:
    """The digit (1, 1, 28, 28) in [0, 1] and the checked mask (1, 1, 28, 28) bool, from what a user sent."""
    path = file_path(image, "The digit")
    if path is None:
        raise ValueError("Give a digit first: draw one, upload a picture or pick an example.")
    known = digit_tensor(open_image(path))
    rate = as_float(rate, "Share hidden", 0.05, 0.95)
    drawn_path = file_path(drawn, "The drawn mask")
    return known, check_mask(drawn_mask(drawn_path) if drawn_path else preset_mask(mask, rate, as_seed(seed)))


def complete_stream(
    models: list[str] | str,
    image: object,
    mask: object = "bottom half",
    drawn: object = None,
    n: object = 8,
    seed: object = 0,
    temperature: object = 1.0,
    digit: object = None,
    rate: object = 0.5,
) -> Iterator[list[dict]]:
    """Fill the hidden part of `image` with each chosen model, `n` answers each, yielding the results as they grow.

    Args:
        models: registry names (see `completing_models`).
        image: the digit: a picture file (path or upload), put into MNIST's format (grey, white on black, fitted into
            20 × 20 and centred).
        mask: one of MASKS, used when `drawn` is empty.
        drawn: a picture of strokes over the digit (any size): the pixels under paint are hidden.
        n: completions per model, 1..MAX_COMPLETIONS; seed: the same seed gives the same completions.
        temperature: as on the Sample tab; each family keeps it within its recipe's range.
        digit: 0..9 asks a class-conditional model for that digit; None or "any": no class.
        rate: the share hidden by the random masks, 0.05..0.95.

    Yields:
        One dict per model started so far: model, title, completion (how the model fills holes), and either error,
        or grid with steps_done/steps while it works, or, when done, grid (completions, likeliest first),
        log_p_nats, seconds, variance_map + mean_variance, and for autoregressive models entropy_map +
        mean_entropy_bits (maps are zero on observed pixels).
    """
    names = as_models(models, completing_models(), "does not fill holes")
    known, hidden = _inputs(image, mask, drawn, rate, seed)
    n = as_int(n, "Completions per model", 1, MAX_COMPLETIONS)
    seed = as_seed(seed)
    temperature = as_float(temperature, "Temperature", 0.05, 2.0)
    digit = None if digit in (None, "", "any", -1, "-1") else as_int(digit, "Digit", 0, 9)
    if n * len(names) > MAX_IMAGES:
        raise ValueError(f"That is {len(names)} models × {n} completions; one call makes at most {MAX_IMAGES}.")
    done: list[dict] = []
    for name in names:
        for result in complete_one(name, known, hidden, n, seed, temperature, digit):
            yield [*done, result]
        done.append(result)


def summary(results: list[dict]) -> dict:
    """The JSON-able part of the results (no pictures): what the API returns beside them."""
    return {r["model"]: {k: v for k, v in r.items() if not k.endswith(("grid", "map"))} for r in results}
