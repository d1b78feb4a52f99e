"""The Translate tab: any picture in, translated picture, A→B→A reconstruction and a difference heatmap out.

A photo model (e.g. horse ↔ zebra) works at a chosen size: the shorter side is resized to it, the picture is padded
by reflection to a multiple of 4 (two stride-2 steps in the generator) and cropped back, so the aspect ratio is kept.
A digit model (native size 28) gets what MNIST looks like: grey, white ink on black (inverted when the picture is dark
on light), the ink's bounding box fitted into 20×20 and its centre of mass put on the centre of 28×28.

Anything a user can send gets a ValueError with a readable message: not an image, too many pixels, a strip too long
and thin, an unknown model or direction.
"""

from __future__ import annotations

import logging
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .. import hub, registry
from ..fast import FastPath
from .common import as_int, file_path, open_image, shown

MAX_ASPECT = 8.0  # longer side at most 8× the shorter one
WORKING_SIZES = (64, 512)
DEFAULT_WORKING_SIZE = 256

log = logging.getLogger(__name__)


def models() -> list[str]:
    return registry.names(translates=True)


def model_choices() -> list[tuple[str, str]]:
    """(title, name) of every translation model; the title says whether it takes photos or digits."""
    return [(f"{registry.get(n).title} — takes {'a photo' if takes_photos(n) else 'a digit'}", n) for n in models()]


def directions(name: str) -> list[str]:
    """The directions a model offers, as "source → target"."""
    domains = registry.get(name).domains
    return [f"{a} → {b}" for a in domains for b in domains if a != b]


def photo_tensor(image: Image.Image, size: int) -> torch.Tensor:
    """(1, 3, H, W) in [0, 1]: the shorter side resized to `size`, the aspect ratio kept."""
    width, height = image.size
    if max(width, height) / min(width, height) > MAX_ASPECT:
        raise ValueError(
            f"The picture is {width}×{height}: too long and thin (at most {MAX_ASPECT:g}:1). Crop it first."
        )
    scale = size / min(width, height)
    resized = image.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.LANCZOS)
    return torch.from_numpy(np.asarray(resized, dtype=np.float32) / 255).permute(2, 0, 1).unsqueeze(0)


def digit_tensor(image: Image.Image, size: int = 28) -> torch.Tensor:
    """(1, 1, 28, 28) in [0, 1] the way MNIST digits look: white ink on black, fitted into 20×20, centred by mass."""
    grey = np.asarray(image.convert("L"), dtype=np.float32) / 255
    if np.median(grey) > 0.5:
        grey = 1 - grey  # dark ink on light paper → MNIST's white on black
    ink = grey > 0.2
    if not ink.any():
        raise ValueError("No digit found: the picture is blank (draw or upload a digit).")
    rows, cols = np.where(ink.any(1))[0], np.where(ink.any(0))[0]
    crop = Image.fromarray((grey[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] * 255).astype(np.uint8))
    box = round(size * 20 / 28)
    scale = box / max(crop.size)
    fitted = (max(1, round(crop.width * scale)), max(1, round(crop.height * scale)))
    crop = crop.resize(fitted, Image.Resampling.LANCZOS)
    # centred by mass, as MNIST was made (LeCun et al.): the ink's centre of mass on the middle of the 28 × 28 field
    weights = np.asarray(crop, dtype=np.float64)
    rows_mass, cols_mass = weights.sum(1), weights.sum(0)
    centre_row = (rows_mass * np.arange(crop.height)).sum() / rows_mass.sum()
    centre_col = (cols_mass * np.arange(crop.width)).sum() / cols_mass.sum()
    top = int(np.clip(round(size / 2 - 0.5 - centre_row), 0, size - crop.height))
    left = int(np.clip(round(size / 2 - 0.5 - centre_col), 0, size - crop.width))
    canvas = Image.new("L", (size, size))
    canvas.paste(crop, (left, top))
    return torch.from_numpy(np.asarray(canvas, dtype=np.float32) / 255)[None, None]


def run_padded(fn, x: torch.Tensor, multiple: int = 4) -> torch.Tensor:
    """fn(x) for a network that needs H, W divisible by `multiple`: reflection-pad, run, crop back."""
    h, w = x.shape[-2:]
    ph, pw = -h % multiple, -w % multiple
    if ph or pw:
        mode = "reflect" if ph < h and pw < w else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    return fn(x)[..., :h, :w]


def difference_heatmap(a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    """|a − b| averaged over channels as a black → red → yellow → white uint8 image (H, W, 3)."""
    d = (a - b).abs().mean(1)[0].clamp(0, 1).numpy()
    return (np.stack([np.clip(3 * d, 0, 1), np.clip(3 * d - 1, 0, 1), np.clip(3 * d - 2, 0, 1)], -1) * 255).astype(
        np.uint8
    )


def _picture(x: torch.Tensor, upscale: int = 1) -> np.ndarray:
    """(1, C, H, W) in [0, 1] → uint8 (H, W, 3), nearest-neighbour upscaled."""
    image = (x[0].clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return image.repeat(upscale, 0).repeat(upscale, 1) if upscale > 1 else image


_fast: dict[tuple[int, str, str], FastPath] = {}


def _network(model, source: str, target: str, example: torch.Tensor):
    """The function to run, [0, 1] → [0, 1], and the FastPath behind it (photo CycleGANs only; digits are small).

    The first photo in a direction starts `torch.compile` in the background (unless GENMODELS_COMPILE=0); until it
    is ready, that direction runs eagerly. bf16 is used only where the CPU or GPU computes it natively.
    """
    if model.native_size or not hasattr(model, "generator"):
        return (lambda t: model.translate(t, source, target)), None
    key = (id(model), source, target)
    if key not in _fast:
        compile_ = os.environ.get("GENMODELS_COMPILE", "1") != "0"
        _fast[key] = FastPath(model.generator(source, target), example * 2 - 1, compile=compile_)
    fast = _fast[key]
    return (lambda t: (fast(t * 2 - 1) + 1) / 2), fast


@torch.no_grad()
def translate(
    image: object, name: str, direction: str, working_size: object = DEFAULT_WORKING_SIZE
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict, np.ndarray]:
    """Translate `image` with model `name` in `direction` ("source → target").

    Returns:
        output, A→B→A reconstruction, difference heatmap (output vs input), a JSON-able summary, and the input as
        the network sees it (for digit models the MNIST-like 28×28 digit, upscaled like the outputs).
    """
    image = image if isinstance(image, (Image.Image, np.ndarray)) else file_path(image, "The picture")
    if image is None:
        raise ValueError("Upload, paste or take a picture first.")
    if not isinstance(name, str) or name not in models():
        raise ValueError(f"Unknown translation model {shown(name)}. Choose from: {', '.join(models())}.")
    if not isinstance(direction, str) or direction not in directions(name):
        raise ValueError(f"Direction must be one of {', '.join(directions(name))}, got {shown(direction)}.")
    source, target = direction.split(" → ")
    size = as_int(working_size, "Working size", *WORKING_SIZES)
    picture = open_image(image)
    try:
        model = hub.cached(name)
    except hub.WeightsUnavailable as exc:  # the terminal's story (HF_HUB_OFFLINE, a CLI command) goes to the log
        log.warning("%s", exc)
        raise ValueError(exc.in_app) from None
    if model.native_size:
        x, upscale = digit_tensor(picture, model.native_size), 8
    else:
        x, upscale = photo_tensor(picture, size), 1
    x = x.to(model.device)
    forward, fast = _network(model, source, target, x)
    start = time.perf_counter()
    y = run_padded(forward, x).cpu()
    seconds = time.perf_counter() - start
    backward, _ = _network(model, target, source, y)
    back = run_padded(backward, y.to(model.device)).cpu()
    x = x.cpu()
    info = {
        "model": name,
        "direction": direction,
        "input_size": list(picture.size),
        "working_size": [x.shape[-1], x.shape[-2]],
        "translate_s": round(seconds, 3),
        "cycle_l1": round((back - x).abs().mean().item(), 4),
        "change_l1": round((y - x).abs().mean().item(), 4),
    }
    if fast is not None:
        info["fast_path"] = fast.status()
    heat = difference_heatmap(y, x).repeat(upscale, 0).repeat(upscale, 1)
    return _picture(y, upscale), _picture(back, upscale), heat, info, _picture(x, upscale)


def takes_photos(name: str) -> bool:
    """Whether a translation model works on photos at a chosen size (True) or on 28×28 digits (False)."""
    return registry.get(name).recipe.config.get("native_size") is None


def status_line(info: dict) -> str:
    """One line for the UI: how long it took and which route ran (compiled, eager while compiling, eager)."""
    line = f"Translated in {info['translate_s']:.2f} s at {info['working_size'][0]}×{info['working_size'][1]}"
    fast = info.get("fast_path")
    if fast is None:
        return line + (
            ": a digit model, so your picture became a 28×28 digit the way MNIST was made (the first picture)."
            " Photos go to horse ↔ zebra."
        )
    if fast["compiled"]:
        route = "compiled (torch.compile)"
    elif fast["compiling"]:
        route = "eager; torch.compile is warming up in the background — later runs in this direction are faster"
    elif "compile_error" in fast:
        route = "eager (compilation failed here, so it stays eager)"
    else:
        route = "eager (compilation switched off)"
    return f"{line} · {route}" + (" · bf16" if fast["bf16"] else " · fp32") + "."
