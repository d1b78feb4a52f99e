"""Loading weights: `checkpoints/<name>/` first, then the Hugging Face Hub; `strict=True` always.

Our own models are safetensors. A foreign checkpoint (an entry with `hub_file`, e.g. the horse2zebra CycleGAN) is one
file of a plain state dict, read with `torch.load(weights_only=True)` and mapped by the entry's adapter.

An unreachable or offline Hub gives a ValueError within `HUB_TIMEOUT_S` seconds, never a hang: in a worker thread
with that deadline the Hub cache is tried first (`local_files_only=True`), then one HEAD request is made; only when
the Hub has answered in time are the weights downloaded.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from huggingface_hub import constants, get_hf_file_metadata, hf_hub_download, hf_hub_url
from huggingface_hub.errors import LocalEntryNotFoundError
from torch import nn

from . import registry
from .models.base import default_device

log = logging.getLogger(__name__)

HUB_TIMEOUT_S = 5.0
FILES = ("config.json", "model.safetensors")


def _with_deadline(fn: Callable[[], Any], seconds: float) -> Any:
    """Run fn() in a daemon thread; its result, its exception, or TimeoutError after `seconds`."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeoutError(f"no answer within {seconds:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def hub_paths(entry: registry.ModelEntry, filenames: tuple[str, ...], timeout: float = HUB_TIMEOUT_S) -> list[Path]:
    """Local paths of the entry's `filenames` from the Hub cache, downloading them if needed.

    Within `timeout`, in a worker thread: the cache (`local_files_only`), else one HEAD request, which proves that
    the Hub answers. Only then the downloads, bounded by huggingface_hub's own read timeouts and shown by its tqdm
    bars (the app turns those into a progress bar).

    Raises:
        ValueError: offline, unreachable within `timeout`, or not on the Hub; the message says what to do.
    """

    def fetch(filename: str, local_only: bool) -> str:
        return hf_hub_download(entry.hub_repo, filename, revision=entry.revision, local_files_only=local_only)

    if entry.hub_file:
        advice = f"Choose a bundled model, or run `python -m genmodels.download {entry.name}` where there is internet."
        where = "it is not in the Hub cache"
    else:
        advice = (
            f"Train it here with `python -m genmodels.train {entry.name} --data-root DIR "
            f"--out checkpoints/{entry.name}`, "
            f"or run `python -m genmodels.download {entry.name}` where there is internet."
        )
        where = f"no checkpoint in checkpoints/{entry.name}"

    def cached_or_probe() -> list[Path] | None:
        """The cached files, or None once the Hub has answered a HEAD request for the first file."""
        try:
            return [Path(fetch(f, True)) for f in filenames]
        except LocalEntryNotFoundError:
            if constants.HF_HUB_OFFLINE:
                message = f"{entry.name}: {where} and the Hub is off (HF_HUB_OFFLINE). {advice}"
                raise WeightsUnavailable(message, entry) from None
        get_hf_file_metadata(hf_hub_url(entry.hub_repo, filenames[0], revision=entry.revision))
        return None

    try:
        paths = _with_deadline(cached_or_probe, timeout)
    except ValueError:
        raise
    except TimeoutError:
        message = (
            f"{entry.name}: {where} and the Hub ({constants.ENDPOINT}) did not answer within {timeout:g} s. {advice}"
        )
        raise WeightsUnavailable(message, entry) from None
    except Exception as exc:
        message = (
            f"{entry.name}: {where} and {entry.hub_repo}@{entry.revision} could not be fetched from "
            f"{constants.ENDPOINT} ({type(exc).__name__}). {advice}"
        )
        raise WeightsUnavailable(message, entry) from exc
    return paths or [Path(fetch(f, False)) for f in filenames]


class WeightsUnavailable(ValueError):
    """The weights are neither here nor to be had from the Hub. `str()` is the full story for a terminal (the cause,
    the command to run); `in_app` is what a person in the app can do about it."""

    def __init__(self, message: str, entry: registry.ModelEntry):
        super().__init__(message)
        self.in_app = (
            f"{entry.title}: its weights come from the Hugging Face Hub, which this server cannot reach now. "
            "Choose one of the bundled models."
            if entry.hub_file
            else f"{entry.title}: its checkpoint is missing here and the Hugging Face Hub cannot be reached now. "
            "Choose another model."
        )


def hub_folder(entry: registry.ModelEntry, timeout: float = HUB_TIMEOUT_S) -> Path:
    """The folder holding the entry's config.json + model.safetensors from the Hub cache (see `hub_paths`)."""
    return hub_paths(entry, FILES, timeout)[0].parent


def load_foreign(entry: registry.ModelEntry, path: Path) -> nn.Module:
    """A model from one file in someone else's layout: a plain state dict, never unpickled code."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        return entry.adapter(state)
    except Exception as exc:
        log.warning("%s: %s is not readable: %r", entry.name, path, exc)
        raise ValueError(f"{entry.name}: the downloaded file is not a checkpoint this model reads.") from exc


def load(name: str, device: str | None = None, timeout: float = HUB_TIMEOUT_S) -> nn.Module:
    """The model `name` in eval mode on `device` (CUDA when present by default).

    Raises:
        ValueError: unknown name, a broken checkpoint, or weights that cannot be had (see `hub_folder`).
    """
    entry = registry.get(name)
    if entry.hub_file:
        model = load_foreign(entry, hub_paths(entry, (entry.hub_file,), timeout)[0])
        return model.to(device or default_device()).eval()
    folder = entry.local_dir
    if not all((folder / f).is_file() for f in FILES):
        folder = hub_folder(entry, timeout)
    try:
        model = entry.cls.from_pretrained(folder, strict=True)
    except Exception as exc:
        log.warning("%s: the checkpoint in %s does not load: %r", name, folder, exc)
        raise ValueError(f"{name}: its checkpoint is broken (it does not load); train or download it again.") from exc
    return model.to(device or default_device()).eval()


_cache: dict[str, nn.Module] = {}
_lock = threading.Lock()


def is_loaded(name: str) -> bool:
    """Whether `cached(name)` already holds the model (nothing is loaded or downloaded to find out)."""
    return name in _cache


def cached(name: str) -> nn.Module:
    """`load(name)` once per process; failures are not cached, so a fixed checkpoint is picked up on retry."""
    with _lock:
        if name not in _cache:
            _cache[name] = load(name)
        return _cache[name]
