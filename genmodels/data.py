"""MNIST without torchvision: idx files in torchvision's folder layout, download, binarisation.

Layout: `<root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte`, each optionally gzipped (`.gz`), exactly
where `torchvision.datasets.MNIST(root)` keeps them, so a folder made by either works for both.

Binarised MNIST, the same everywhere in the project: each pixel is drawn as Bernoulli(intensity / 255). Training
draws afresh every time (`binarize(x, generator)`); evaluation uses one fixed draw with seed 0 (`fixed_binarization`).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import shutil
import struct
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import torch

log = logging.getLogger(__name__)

SPLITS = {"train": "train", "test": "t10k"}
# The official files and their md5 sums (the same list torchvision checks).
MNIST_FILES = {
    "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
EVAL_BINARIZATION_SEED = 0
IDX_DTYPES = {0x08: np.uint8}


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


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an idx file (gzipped or not) into a numpy array of its stored shape."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_DTYPES:
        raise ValueError(f"{path} is not an unsigned-byte idx file")
    ndim = data[3]
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise ValueError(f"{path} holds {body.size} values but its header says {shape}")
    return body.reshape(shape)


def _find(root: str | os.PathLike, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (raw_dir(root) / name).is_file():
            return raw_dir(root) / name
    return None


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def download_mnist(
    root: str | os.PathLike,
    mirrors: tuple[str, ...] = MIRRORS,
    checksums: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> Path:
    """Fetch the four official gzipped files into `<root>/MNIST/raw/`, trying each mirror and checking md5 sums.

    Raises:
        ValueError: when no mirror could deliver a file, with where to put the files by hand.
    """
    checksums = MNIST_FILES if checksums is None else checksums
    target = raw_dir(root)
    target.mkdir(parents=True, exist_ok=True)
    for stem, md5 in checksums.items():
        if _find(root, stem):
            continue
        errors = []
        for mirror in mirrors:
            url = mirror + stem + ".gz"
            try:
                with (
                    urllib.request.urlopen(url, timeout=timeout) as response,
                    tempfile.NamedTemporaryFile(dir=target, delete=False) as tmp,
                ):
                    shutil.copyfileobj(response, tmp)
                tmp_path = Path(tmp.name)
                if _md5(tmp_path) != md5:
                    tmp_path.unlink()
                    errors.append(f"{url}: checksum mismatch")
                    continue
                tmp_path.rename(target / (stem + ".gz"))
                log.info("downloaded %s", url)
                break
            except (urllib.error.URLError, OSError, TimeoutError) as exc:
                errors.append(f"{url}: {exc}")
        else:
            raise ValueError(
                f"Could not download {stem}.gz ({'; '.join(errors)}). Without internet, copy the MNIST idx files "
                f"(gzipped or not) into {target}/ by hand."
            )
    return target


def load_mnist(
    root: str | os.PathLike | None = None, split: str = "train", download: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST images (n, 28, 28) uint8 and labels (n,) int64 from `<root>/MNIST/raw/`.

    Downloads the official files when they are missing and `download` is true.

    Raises:
        ValueError: unknown split, files missing (with where to put them) or malformed.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    root = default_data_root() if root is None else Path(root)
    prefix = SPLITS[split]
    stems = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
    if download and not all(_find(root, s) for s in stems):
        download_mnist(root, checksums={s: MNIST_FILES[s] for s in stems})
    paths = [_find(root, s) for s in stems]
    if not all(paths):
        raise ValueError(f"MNIST {split} files not found in {raw_dir(root)}/: put {stems[0]} and {stems[1]} there.")
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"{paths[0]} and {paths[1]} do not hold matching images and labels")
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


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
