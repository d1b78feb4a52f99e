"""The one validation layer for values from outside, and pictures in and out.

Every task checks what a user (or an API client) sent with these helpers before any library sees it, and answers
with one sentence of ours: numbers (huge ones included, never echoed in full), booleans, choices, uploaded files and
pictures (size checked from the header before decoding). Then tensors become pictures.
"""

from __future__ import annotations

import math
import os
import tempfile
import warnings
from collections.abc import Callable, Sequence
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_SEED = 2**31 - 1  # seeds a user can type: what every browser and client can send as a whole number
MAX_INPUT_PIXELS = 40_000_000  # a 40-megapixel photo; larger is refused before it is decoded


def write_once(folder: Path, name: str, write: Callable) -> str:
    """The path of `folder/name`, written by `write(binary_file)` only if it is not there yet, and atomically: a file
    named by its content's hash is never rewritten, and a reader never sees half of it."""
    path = Path(folder) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=path.suffix, delete=False) as tmp:
            write(tmp)
        os.replace(tmp.name, path)
    return str(path)


def readable(value: object, digits: int = 4) -> object:
    """Numbers as a person reads them: every float in `value` (nested dicts and lists too) rounded to `digits`
    significant digits (0.6918360050285717 -> 0.6918, 1.234e-07 stays 1.234e-07); everything else unchanged."""
    if isinstance(value, dict):
        return {k: readable(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [readable(v, digits) for v in value]
    if isinstance(value, float) and math.isfinite(value) and value != 0:
        return round(value, digits - 1 - math.floor(math.log10(abs(value))))
    return value


def shown(value: object, limit: int = 40) -> str:
    """How a message quotes what a user sent: its repr, cut to `limit` characters (a 400-digit number is not echoed)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value: object) -> int | float | None:
    """An int or float from a number or a short numeric string; None for anything else (bools included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 64:
            return None
        for parse in (int, float):
            try:
                return parse(text)
            except ValueError:
                pass
        return None
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    return None


def as_int(value: object, what: str, lo: int, hi: int) -> int:
    """`value` as an int in [lo, hi]; accepts ints, integral floats and digit strings, else a ValueError."""
    number = _number(value)
    if isinstance(number, float):
        number = int(number) if math.isfinite(number) and number == int(number) else None
    if number is None:
        raise ValueError(f"{what} must be a whole number from {lo} to {hi}, got {shown(value)}.")
    if not lo <= number <= hi:
        raise ValueError(f"{what} must be from {lo} to {hi}, got {shown(number)}.")
    return number


def as_seed(value: object) -> int:
    """`value` as a seed, 0..MAX_SEED (see `as_int`)."""
    return as_int(value, "Seed", 0, MAX_SEED)


def as_float(value: object, what: str, lo: float, hi: float) -> float:
    """`value` as a finite float in [lo, hi], else a ValueError."""
    number = _number(value)
    try:
        number = None if number is None else float(number)
    except OverflowError:  # an int past float's range
        number = math.inf
    if number is None or not math.isfinite(number):
        raise ValueError(f"{what} must be a number from {lo:g} to {hi:g}, got {shown(value)}.")
    if not lo <= number <= hi:
        raise ValueError(f"{what} must be from {lo:g} to {hi:g}, got {number:g}.")
    return number


def as_bool(value: object, what: str) -> bool:
    """`value` as a bool: True/False, 1/0 or "true"/"false" (any case); anything else is a ValueError.

    (`bool("false")` is True: a form or client that sends text must not flip a setting on.)
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, Integral) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"{what} must be true or false, got {shown(value)}.")


def as_choice(value: object, what: str, choices: Sequence[str]) -> str:
    """`value` if it is one of `choices`, else a ValueError listing them."""
    if isinstance(value, str) and value in choices:
        return value
    raise ValueError(f"{what} must be one of {', '.join(choices)}, got {shown(value)}.")


def as_models(value: object, allowed: Sequence[str], refusal: str) -> list[str]:
    """Model names from one name or a list, each one of `allowed`, duplicates dropped. A name not allowed gets
    "Model 'x' <refusal>. Choose from: ..."."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError("Choose at least one model (a list of model names).")
    names = list(dict.fromkeys(str(m) for m in value))
    for name in names:
        if name not in allowed:
            raise ValueError(f"Model {shown(name)} {refusal}. Choose from: {', '.join(allowed)}.")
    return names


def file_path(value: object, what: str) -> str | None:
    """The server-side path of an uploaded file: a path string, or Gradio's file payload {"path": ...}; None if empty.

    Raises:
        ValueError: for anything else (a list, a number, a payload without a path).
    """
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        value = value.get("path")
    if isinstance(value, (str, Path)) and str(value):
        return str(value)
    raise ValueError(f"{what} must be an uploaded file.")


def open_image(source: str | Path | Image.Image | np.ndarray, max_pixels: int = MAX_INPUT_PIXELS) -> Image.Image:
    """An upright RGB picture from a path, a PIL image or an array; every mode Pillow reads is converted.

    The size is checked from the header before any pixel is decoded. EXIF orientation is applied; 16-bit and float
    greys are scaled to 8 bits; transparency is laid on white; CMYK, palette, YCbCr, LAB and 1-bit become RGB; an
    animated picture gives its first frame.
    """
    limit = f"the limit is {max_pixels / 1e6:g} megapixels. Make it smaller first."
    if isinstance(source, np.ndarray):
        array = source
        if array.dtype != np.uint8:
            array = _to_uint8(array.astype(np.float64))
        image = Image.fromarray(array)
    elif isinstance(source, Image.Image):
        image = source
    else:
        try:
            image = Image.open(source)
        except Image.DecompressionBombError:  # Pillow's own limit, far above ours
            raise ValueError(f"The picture is too large; {limit}") from None
        except (UnidentifiedImageError, OSError, ValueError):
            raise ValueError("That file is not a picture this app can read (PNG, JPEG, WebP, TIFF, BMP …).") from None
    width, height = image.size
    if width * height > max_pixels:
        raise ValueError(f"The picture is {width}×{height} ({width * height / 1e6:.0f} megapixels); {limit}")
    if width * height == 0:
        raise ValueError("The picture is empty (0 pixels).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValueError("The picture could not be decoded: is the file complete?") from None
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        image = Image.fromarray(_to_uint8(np.asarray(image, dtype=np.float64)))
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return image.convert("RGB")


def _to_uint8(array: np.ndarray) -> np.ndarray:
    """Scale a grey or colour array of any range to uint8: 16-bit by 65535 (or its maximum), floats by min..max."""
    if array.size == 0 or not np.isfinite(array).all():
        raise ValueError("The picture holds no finite pixel values.")
    lo, hi = float(array.min()), float(array.max())
    if lo >= 0 and hi <= 1:
        scaled = array
    elif lo >= 0 and hi <= 255 and array.dtype.kind != "f":
        scaled = array / 255
    elif lo >= 0 and hi <= 65535:
        scaled = array / (65535 if hi > 255 else 255)
    else:
        scaled = (array - lo) / max(hi - lo, 1e-12)
    return (np.clip(scaled, 0, 1) * 255).round().astype(np.uint8)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(n, C, H, W) in [0, 1] → uint8 (n, H, W, 3)."""
    x = (images.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).cpu()
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    return x.permute(0, 2, 3, 1).numpy()


def warm_torchvision() -> None:
    """Import torchvision now (~3 s): the app does it in the background once its models are loaded."""
    import torchvision.utils  # noqa: F401


def image_grid(images: torch.Tensor, ncol: int | None = None, pad: int = 2, scale: int = 2) -> np.ndarray:
    """Tile (n, C, H, W) images in [0, 1] into one uint8 (rows, cols, 3) picture (torchvision's `make_grid`),
    upscaled by `scale` (nearest). Tiles sit on a mid-grey background so white-on-black digits keep their edges.

    torchvision is imported on the first call (~3 s once); the app does that in the background after start-up.
    """
    from torchvision.utils import make_grid

    x = images.detach().float().clamp(0, 1).cpu()
    grid = make_grid(x, nrow=ncol or math.ceil(math.sqrt(len(x))), padding=pad, pad_value=128 / 255)
    return to_uint8(grid[None])[0].repeat(scale, axis=0).repeat(scale, axis=1)
