"""The Sample tab: several model families side by side from one seed.

`sample_models` takes plain values and returns, per model, a grid picture, its timing, a metric badge, the
classifier's labels and, if asked, the nearest training image of each sample. A model that cannot load reports its
error in its own result; the others still render. `sample_stream` yields the same results as they grow: after each
model, and every few rows while an autoregressive model fills its images in raster order.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Iterator

import numpy as np
import torch
from safetensors import safe_open

from .. import data, hub, registry
from ..models.autoregressive import sample_rows
from ..models.base import cpu_generator, one_intra_op_thread
from ..recipes.base import numbers_badge
from .common import as_bool, as_float, as_int, as_seed, image_grid, shown

log = logging.getLogger(__name__)

MAX_SAMPLES = 64
MAX_IMAGES = 256  # per call, models × samples: one call cannot hold a worker for long
MAX_IMAGES_NEAREST = 128  # the same with the nearest-training-image check (a search through the training set)
STREAM_EVERY_ROWS = 4
_train_images: torch.Tensor | None = None
_train_lock = threading.Lock()


# The Sample tab's first view: the registry's featured models (the others are a tick away).
DEFAULT_MODELS = [name for name in registry.names(samples=True) if registry.get(name).featured]


def sampleable_models() -> list[str]:
    return registry.names(samples=True)


def model_choices() -> list[tuple[str, str]]:
    """(title, name) of every model the Sample tab offers."""
    return [(registry.get(name).title, name) for name in sampleable_models()]


def badge(name: str) -> str:
    """The model's held-out score, as its recipe words it, from the checkpoint's metrics.json (`evaluate --card`)."""
    entry = registry.get(name)
    path = entry.local_dir / "metrics.json"
    if not path.is_file():
        return "no held-out metrics yet"
    try:
        metrics = json.loads(path.read_text())
    except ValueError:
        metrics = None
    if not isinstance(metrics, dict):
        return "held-out metrics unreadable"
    try:
        return entry.recipe.badge(metrics)
    except (KeyError, TypeError, ValueError) as exc:  # an older or hand-edited card: show what it holds
        log.warning("%s: metrics.json does not fit its recipe's badge (%r)", name, exc)
        return numbers_badge(metrics)


def training_images() -> torch.Tensor:
    """The MNIST train split as (n, 784) floats in [0, 1], loaded once (downloaded when missing and online)."""
    global _train_images
    with _train_lock:
        if _train_images is None:
            images, _ = data.load_mnist(None, "train")
            _train_images = data.to_unit(images).flatten(1)
        return _train_images


def nearest_training(samples: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For samples (n, 1, 28, 28): the closest training image of each (L2 in pixels), (n, 1, 28, 28), and distances."""
    train = training_images()
    flat = samples.flatten(1).cpu().to(train.dtype)
    # ‖x − t‖² = ‖x‖² − 2 x·t + ‖t‖², and ‖x‖² is the same for every t: one matrix product finds the nearest;
    # the distance is then computed exactly (an exact copy gives 0)
    idx = (train.pow(2).sum(1) - 2 * flat @ train.T).argmin(1)
    nearest = train[idx]
    return nearest.reshape(samples.shape), (flat - nearest).norm(dim=1)


def pair_grid(samples: torch.Tensor, nearest: torch.Tensor) -> np.ndarray:
    """Each cell: the sample, a thin line, then its nearest training image; wide gaps between cells."""
    pairs = torch.cat([samples.cpu(), torch.full_like(samples[..., :1], 0.5).cpu(), nearest], dim=-1)
    return image_grid(pairs, ncol=max(1, int(np.ceil(np.sqrt(len(pairs) / 2)))), pad=8)


def _labels(images: torch.Tensor) -> list[int] | None:
    try:
        classifier = hub.cached(registry.CLASSIFIER)
    except ValueError as exc:
        log.warning("no classifier for labels: %s", exc)
        return None
    with torch.no_grad():
        return classifier(images.to(classifier.device)).argmax(1).tolist()


def _draw(
    name: str, model: torch.nn.Module, n: int, seed: int, temperature: float, truncation: float, digit: int | None
) -> Iterator[tuple[int, torch.Tensor]]:
    """(rows done, images): an autoregressive model after every row, any other model once, when done."""
    recipe = registry.get(name).recipe
    g = cpu_generator(seed)
    if recipe.autoregressive:
        condition = None
        if recipe.conditional:
            # "any": draw the digit first, uniformly — ancestral sampling from the mixture Σ_y p(y) p(x | y) that the
            # NLL badge scores (the "no class" token is a weaker density; it serves completions of unknown digits)
            condition = (
                torch.full((n,), digit) if digit is not None else torch.randint(model.num_classes, (n,), generator=g)
            )
        yield from enumerate(sample_rows(model, n, g, temperature, condition), 1)
        return
    kwargs = {"truncation": truncation or None} if recipe.truncation else {}
    yield model.image_shape[1], model.sample(n, g, temperature=temperature, **kwargs)


def sample_one(
    name: str, n: int, seed: int, temperature: float, truncation: float, nearest: bool, digit: int | None = None
) -> Iterator[dict]:
    """One model's result, first partial ones (with "rows_done") while it draws; errors go in the result."""
    entry = registry.get(name)
    result = {"model": name, "title": entry.title, "family": entry.family}
    low, high = entry.recipe.temperatures
    if not low <= temperature <= high:  # outside what the family draws sensibly at: its nearest sensible value
        result["temperature_used"] = temperature = min(max(temperature, low), high)
    if entry.recipe.temperature_scale != 1.0:
        result["temperature_drawn"] = temperature = round(temperature * entry.recipe.temperature_scale, 4)
    try:
        start = time.perf_counter()
        model = hub.cached(name)
        result["load_s"] = round(time.perf_counter() - start, 3)
        height, work, steps = model.image_shape[1], 0.0, _draw(name, model, n, seed, temperature, truncation, digit)
        while True:
            start = time.perf_counter()
            with one_intra_op_thread():  # one core per sampling call: the other stays free for everyone else
                rows, images = next(steps, (None, None))
            work += time.perf_counter() - start  # the time the consumer spends with partial results is not counted
            if rows is None:
                break
            if rows < height and rows % STREAM_EVERY_ROWS == 0:
                yield {**result, "grid": image_grid(images.cpu()), "rows_done": rows, "rows": height}
            final = images
        result["sample_s"] = round(work, 4)
    except ValueError as exc:
        result["error"] = str(exc)
        yield result
        return
    images = final.cpu()
    result["grid"] = image_grid(images)
    result["badge"] = badge(name)
    result["labels"] = _labels(images)
    if nearest:
        try:
            with one_intra_op_thread():
                neighbours, dist = nearest_training(images)
            result["nearest_grid"] = pair_grid(images, neighbours)
            result["nearest_l2_mean"] = round(dist.mean().item(), 3)
        except ValueError as exc:
            result["nearest_error"] = str(exc)
    yield result


def sample_stream(
    models: list[str] | str,
    n: object = 16,
    seed: object = 0,
    temperature: object = 1.0,
    truncation: object = 0.0,
    nearest: bool = False,
    digit: object = None,
) -> Iterator[list[dict]]:
    """Sample `n` images from each chosen model with the same seed, yielding the results so far as they grow.

    Args:
        models: registry names (see `sampleable_models`).
        n: images per model, 1..MAX_SAMPLES.
        seed: 0..common.MAX_SEED; the same seed gives the same images.
        temperature: [0.05, 2]; 1 is the trained model. Latent models scale their prior's standard deviation;
            autoregressive models divide their logits by it. Each family keeps it within its recipe's
            `temperatures`; a model that used another value says so in `temperature_used`. Flows draw at
            0.7 × temperature (`temperature_drawn`), the reduced temperature of the Glow paper at the default 1.
        truncation: for GANs, resample each latent coordinate into [-t, t]; 0 turns it off.
        nearest: also find each sample's closest training image (a memorisation check).
        digit: 0..9 asks class-conditional models (Gated PixelCNN) for that digit; None, "any" or −1: any digit.

    Yields:
        One dict per model started so far: model, title, family, and either error, or grid (uint8 HxWx3) with
        rows_done/rows while the model is still drawing, or, when done, grid, sample_s, load_s, badge, labels and
        with `nearest` nearest_grid + nearest_l2_mean (or nearest_error).

    Raises:
        ValueError: for input a user can fix (no model chosen, unknown model, values out of range).
    """
    if isinstance(models, str):
        models = [models]
    if not isinstance(models, (list, tuple)) or not models:
        raise ValueError("Choose at least one model (a list of model names).")
    names = list(dict.fromkeys(str(m) if not isinstance(m, str) else m for m in models))
    for name in names:
        if name not in sampleable_models():
            raise ValueError(f"Unknown model {shown(name)}. Choose from: {', '.join(sampleable_models())}.")
    n = as_int(n, "Number of samples", 1, MAX_SAMPLES)
    seed = as_seed(seed)
    temperature = as_float(temperature, "Temperature", 0.05, 2.0)
    truncation = as_float(truncation, "Truncation", 0.0, 4.0)
    nearest = as_bool(nearest, "Nearest training image")
    digit = None if digit in (None, "", "any", -1, "-1") else as_int(digit, "Digit", 0, 9)
    images, most = n * len(names), MAX_IMAGES_NEAREST if nearest else MAX_IMAGES
    if images > most:
        check = " with the nearest-image check" if nearest else ""
        raise ValueError(
            f"That is {len(names)} models × {n} samples = {images} images; one call draws at most {most}{check}. "
            "Choose fewer models or samples."
        )
    done: list[dict] = []
    for name in names:
        for result in sample_one(name, n, seed, temperature, truncation, nearest, digit):
            yield [*done, result]
        done.append(result)


def sample_models(*args, **kwargs) -> list[dict]:
    """The final results of `sample_stream` (same arguments): one dict per model."""
    results: list[dict] = []
    for results in sample_stream(*args, **kwargs):  # noqa: B007 (the last value is the answer)
        pass
    return results


@functools.lru_cache(maxsize=8)
def _settled(*args) -> tuple[dict, ...]:
    return tuple(sample_models(list(args[0]), *args[1:]))


def first_view(models: list[str] | str, *rest: object) -> list[dict]:
    """What the Sample tab shows as a page opens: `sample_models` for the page's controls (the arguments of
    `sample_stream`). Each distinct view is computed once per process and shared (most pages open on the defaults;
    a shared link reproduces its own)."""
    args = (tuple(models) if isinstance(models, (list, tuple)) else (models,), *rest)
    try:
        hash(args)
    except TypeError:  # a list or dict where a number goes: no cache, and the validation says what is wrong
        return sample_models(list(args[0]), *rest)
    return list(_settled(*args))


def temperature_notes() -> list[tuple[str, str]]:
    """(the models, what temperature does to them) for each family that samples, from the family's recipe."""
    notes: dict[str, list[str]] = {}
    for name in sampleable_models():
        entry = registry.get(name)
        notes.setdefault(entry.recipe.temperature, []).append(entry.title)
    return [(", ".join(titles), note) for note, titles in notes.items()]


def summary(results: list[dict]) -> dict:
    """The JSON-able part of `sample_models`' results (no pictures): what the API returns beside the images."""
    return {r["model"]: {k: v for k, v in r.items() if not k.endswith("grid")} for r in results}


COMPARISON_COLUMNS = [
    "model",
    "family",
    "likelihood (test)",
    "FD ↓",
    "precision ↑",
    "recall ↑",
    "≥ 90 % sure ↑",
    "64 samples",
    "parameters",
    "checkpoint",
]


def _card(name: str) -> dict:
    path = registry.get(name).local_dir / "metrics.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def likelihood_text(metrics: dict) -> str:
    """The card's likelihood in one cell: exact (bits/dim for the flows, nats for the autoregressive models) or an
    upper bound on the NLL (≤), from whichever figure the family measures."""
    if "bits_per_dim" in metrics:
        return f"{metrics['bits_per_dim']:.2f} bits/dim (exact)"
    if "nll_nats" in metrics:
        return f"{metrics['nll_nats']:.1f} nats (exact)"
    if "iwae_nats" in metrics:
        return f"≤ {metrics['iwae_nats']:.1f} nats (IWAE bound)"
    if "nll_bound_nats" in metrics:
        return f"≤ {metrics['nll_bound_nats']:.1f} nats (bound)"
    return "none (implicit model)"


def _weights(name: str) -> tuple[int, float] | None:
    """Parameter count and checkpoint size in MB, from the safetensors header (nothing is loaded)."""
    path = registry.get(name).local_dir / "model.safetensors"
    if not path.is_file():
        return None
    with safe_open(str(path), "pt") as f:
        count = sum(int(np.prod(f.get_slice(k).get_shape())) for k in f.keys())
    return count, path.stat().st_size / 2**20


def _cell(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def _quality_cells(m: dict) -> list[str]:
    return [
        _cell(m.get("fd"), ".1f"),
        _cell(m.get("precision"), ".2f"),
        _cell(m.get("recall"), ".2f"),
        _cell(m.get("confident_samples"), ".0%"),
    ]


def comparison() -> dict:
    """One row per model that samples, read from its model card (what `evaluate` measured) and its checkpoint file,
    then the same figures for 1,000 real training images: what a perfect sampler would score. Returns headers, rows
    (lists of display strings) and records (the numbers, for the API)."""
    rows, records, reference = [], [], None
    for name in sampleable_models():
        entry, metrics = registry.get(name), _card(name)
        record = {k: metrics.get(k) for k in ("fd", "precision", "recall", "confident_samples", "sample_64_seconds")}
        record |= {"model": name, "likelihood": likelihood_text(metrics), "parameters": None, "checkpoint_mb": None}
        weights = _weights(name)
        if weights:
            record |= {"parameters": weights[0], "checkpoint_mb": round(weights[1], 2)}
        records.append(record)
        reference = reference or metrics.get("real_reference")
        seconds = record["sample_64_seconds"]
        rows.append(
            [
                entry.title,
                entry.family,
                record["likelihood"],
                *_quality_cells(record),
                _cell(None if seconds is None else seconds * 1000, ".0f") + (" ms" if seconds else ""),
                _cell(None if not weights else weights[0] / 1e6, ".2f") + (" M" if weights else ""),
                _cell(None if not weights else weights[1], ".1f") + (" MB" if weights else ""),
            ]
        )
    if reference:
        rows.append(["real training images (reference)", "data", "", *_quality_cells(reference), "", "", ""])
    return {"headers": COMPARISON_COLUMNS, "rows": rows, "records": records, "real_reference": reference}
