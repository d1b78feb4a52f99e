"""MNIST through torchvision, and binarisation.

`torchvision.datasets.MNIST` reads `<root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte` and, when they are
missing, downloads the official files (md5-checked, from its mirrors) and unpacks them there. torchvision takes ~3 s to
import, so it is imported here only when MNIST is read, never with the app's first page.

Binarised MNIST, the same everywhere in the project: each pixel is drawn as Bernoulli(intensity / 255). Training
draws afresh every time (`binarize(x, generator)`); evaluation uses one fixed draw with seed 0 (`fixed_binarization`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import torch

log = logging.getLogger(__name__)

SPLITS = {"train": "train", "test": "t10k"}
EVAL_BINARIZATION_SEED = 0


def default_data_root() -> Path:
    """$GENMODELS_DATA, else ../shared/data beside the checkout when present, else ~/.cache/genmodels."""
    if os.environ.get("GENMODELS_DATA"):
        return Path(os.environ["GENMODELS_DATA"])
    shared = Path(__file__).resolve().parents[2] / "shared" / "data"
    if (shared / "MNIST" / "raw").is_dir():
        return shared
    return Path.home() / ".cache" / "genmodels"


def raw_dir(root: str | os.PathLike) -> Path:
    return Path(root) / "MNIST" / "raw"


def load_mnist(
    root: str | os.PathLike | None = None, split: str = "train", download: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST images (n, 28, 28) uint8 and labels (n,) int64 from `<root>/MNIST/raw/`, read by torchvision.

    Downloads the official files when they are missing and `download` is true.

    Raises:
        ValueError: unknown split; files missing, not downloadable or damaged (with where to put them).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    root = default_data_root() if root is None else Path(root)
    from urllib.error import URLError

    from torchvision.datasets import MNIST  # only here: see the module's docstring

    files = [f"{prefix}-{kind}-ubyte" for prefix in SPLITS.values() for kind in ("images-idx3", "labels-idx1")]
    there = all((raw_dir(root) / name).is_file() for name in files)
    try:
        mnist = MNIST(root, train=split == "train", download=download)
    except (RuntimeError, URLError, OSError, ValueError, TypeError, IndexError, KeyError, AssertionError) as exc:
        if there:  # a file cut short, or not an idx file at all (torchvision asserts its magic number)
            problem = "are damaged"
        else:  # not there and not downloadable (offline, a bad checksum), or downloading was off
            problem = "are missing and " + ("could not be downloaded" if download else "downloading was off")
        raise ValueError(f"The MNIST files in {raw_dir(root)}/ {problem}: put {', '.join(files)} there.") from exc
    images, labels = mnist.data, mnist.targets
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"The MNIST {split} files in {raw_dir(root)}/ do not hold matching images and labels.")
    return images, labels.long()


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 (n, 28, 28) → float (n, 1, 28, 28) in [0, 1]."""
    return images.float().div(255.0).unsqueeze(1)


def binarize(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Each pixel ~ Bernoulli(x) for x in [0, 1]; uniforms drawn on the CPU so a seed means the same on any device."""
    u = torch.rand(x.shape, generator=generator).to(x.device)
    return (u < x).to(x.dtype)


def fixed_binarization(x: torch.Tensor) -> torch.Tensor:
    """The evaluation draw: `binarize` with a generator seeded EVAL_BINARIZATION_SEED."""
    return binarize(x, torch.Generator().manual_seed(EVAL_BINARIZATION_SEED))


STROKE_DOMAINS = ("thin", "medium", "thick")


def stroke_domains(x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Each image's stroke domain: 0 thin, 1 medium, 2 thick, by its ink (sum of intensities) within its own class.

    The split is per class so that every domain holds every digit in the same proportion: split over all digits,
    "thin" would mostly be 1s and a translator could change the digit to change the thickness. No pairs are formed.
    Computed on the labels' device (the images' too), and returned there.
    """
    ink = x.flatten(1).sum(1)
    domain = torch.empty_like(labels, dtype=torch.long)
    for c in labels.unique():
        idx = (labels == c).nonzero().squeeze(1)
        rank = ink[idx].argsort().argsort()  # 0 .. n_c − 1
        domain[idx] = rank * len(STROKE_DOMAINS) // len(idx)
    return domain
