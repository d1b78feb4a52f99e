"""Loading weights: `checkpoints/<name>/` first, then the Hugging Face Hub; safetensors only, `strict=True`.

An unreachable or offline Hub gives a ValueError within `HUB_TIMEOUT_S` seconds, never a hang: in a worker thread
with that deadline the Hub cache is tried first (`local_files_only=True`), then the small config.json is fetched;
only when the Hub has answered in time are the weights downloaded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import nn

from . import registry
from .models.base import default_device

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


def hub_folder(entry: registry.ModelEntry, timeout: float = HUB_TIMEOUT_S) -> Path:
    """The folder holding the entry's config.json + model.safetensors from the Hub cache, downloading if needed.

    Raises:
        ValueError: offline, unreachable within `timeout`, or not on the Hub; the message says what to do.
    """
    from huggingface_hub import constants, hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    def fetch(filename: str, local_only: bool) -> str:
        return hf_hub_download(entry.hub_repo, filename, revision=entry.revision, local_files_only=local_only)

    advice = (
        f"Train it here with `python -m genmodels.train {entry.name} --data-root DIR --out {entry.local_dir}`, "
        f"or run `python -m genmodels.download {entry.name}` where there is internet."
    )

    def cached_or_config() -> Path | None:
        """The cached folder, or None once config.json has come from the Hub (proof that it answers)."""
        try:
            return Path([fetch(f, True) for f in FILES][0]).parent
        except LocalEntryNotFoundError:
            if constants.HF_HUB_OFFLINE:
                raise ValueError(
                    f"{entry.name}: no checkpoint in {entry.local_dir} and the Hub is off (HF_HUB_OFFLINE). {advice}"
                ) from None
        fetch(FILES[0], False)
        return None

    try:
        folder = _with_deadline(cached_or_config, timeout)
    except ValueError:
        raise
    except TimeoutError:
        raise ValueError(
            f"{entry.name}: no checkpoint in {entry.local_dir} and the Hub ({constants.ENDPOINT}) did not answer "
            f"within {timeout:g} s. {advice}"
        ) from None
    except Exception as exc:
        raise ValueError(
            f"{entry.name}: no checkpoint in {entry.local_dir} and {entry.hub_repo}@{entry.revision} could not be "
            f"fetched from {constants.ENDPOINT} ({type(exc).__name__}). {advice}"
        ) from exc
    # The Hub answered in time: the weights may take longer, bounded by huggingface_hub's own read timeouts.
    return folder or Path(fetch(FILES[1], False)).parent


def load(name: str, device: str | None = None, timeout: float = HUB_TIMEOUT_S) -> nn.Module:
    """The model `name` in eval mode on `device` (CUDA when present by default).

    Raises:
        ValueError: unknown name, a broken checkpoint, or weights that cannot be had (see `hub_folder`).
    """
    entry = registry.get(name)
    folder = entry.local_dir
    if not all((folder / f).is_file() for f in FILES):
        folder = hub_folder(entry, timeout)
    try:
        model = entry.cls.from_pretrained(folder, strict=True)
    except Exception as exc:
        raise ValueError(f"{name}: the checkpoint in {folder} is broken ({type(exc).__name__}: {exc})") from exc
    return model.to(device or default_device()).eval()


_cache: dict[str, nn.Module] = {}
_lock = threading.Lock()


def cached(name: str) -> nn.Module:
    """`load(name)` once per process; failures are not cached, so a fixed checkpoint is picked up on retry."""
    with _lock:
        if name not in _cache:
            _cache[name] = load(name)
        return _cache[name]
