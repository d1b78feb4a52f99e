"""The MNIST reader on files the test writes, the download path against a local server, and binarisation."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest
import torch

from genmodels import data

from .conftest import DATA_ROOT, idx_bytes, write_mnist


def test_reads_torchvision_layout(tmp_path):
    arrays = write_mnist(tmp_path)
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images, labels = data.load_mnist(tmp_path, split, download=False)
        assert images.dtype == torch.uint8 and labels.dtype == torch.int64
        assert np.array_equal(images.numpy(), arrays[f"{prefix}-images-idx3-ubyte"])
        assert np.array_equal(labels.numpy(), arrays[f"{prefix}-labels-idx1-ubyte"])


def test_missing_files_say_where_to_put_them(tmp_path):
    with pytest.raises(ValueError, match=f"{tmp_path / 'MNIST' / 'raw'}/ are missing and downloading was off"):
        data.load_mnist(tmp_path, "train", download=False)


def _mirrors(monkeypatch, *urls: str, checksums: dict[str, str] | None = None) -> None:
    """Point torchvision's MNIST download at `urls` (and at the files' own md5 sums)."""
    from torchvision.datasets import MNIST

    monkeypatch.setattr(MNIST, "mirrors", list(urls))
    if checksums:
        monkeypatch.setattr(MNIST, "resources", [(stem + ".gz", md5) for stem, md5 in checksums.items()])


def test_offline_download_fails_with_instructions(tmp_path, monkeypatch):
    # Port 9 on 127.0.0.1 refuses connections: what a machine without internet sees, but immediate.
    _mirrors(monkeypatch, "http://127.0.0.1:9/")
    with pytest.raises(ValueError, match="are missing and could not be downloaded: put train-images-idx3-ubyte"):
        data.load_mnist(tmp_path, "train")


def test_truncated_file_is_rejected(tmp_path):
    write_mnist(tmp_path)
    path = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(ValueError, match="are damaged"):
        data.load_mnist(tmp_path, "train", download=False)


def test_not_an_idx_file_is_rejected(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").write_bytes(b"<html>not found</html>")
    with pytest.raises(ValueError, match="are damaged"):
        data.load_mnist(tmp_path, "test", download=False)


def test_bad_split():
    with pytest.raises(ValueError, match="split"):
        data.load_mnist(DATA_ROOT, "validation")


def test_download_from_server_checks_md5(tmp_path, file_server, monkeypatch):
    served, url = file_server
    source = write_mnist(tmp_path / "source")
    checksums = {}
    for stem, array in source.items():
        blob = gzip.compress(idx_bytes(array))
        (served / (stem + ".gz")).write_bytes(blob)
        checksums[stem] = hashlib.md5(blob).hexdigest()
    # The first mirror is down; the second serves the files.
    _mirrors(monkeypatch, "http://127.0.0.1:9/", url + "/", checksums=checksums)
    images, labels = data.load_mnist(tmp_path / "root", "test")
    assert np.array_equal(images.numpy(), source["t10k-images-idx3-ubyte"])
    assert np.array_equal(labels.numpy(), source["t10k-labels-idx1-ubyte"])

    _mirrors(monkeypatch, url + "/", checksums=dict(checksums, **{"train-images-idx3-ubyte": "0" * 32}))
    with pytest.raises(ValueError, match="could not be downloaded"):
        data.load_mnist(tmp_path / "other", "test")
    assert not (tmp_path / "other" / "MNIST" / "raw" / "train-images-idx3-ubyte").exists(), "never unpacked"


def test_downloads_the_official_files():
    """torchvision's list is the official one: the four files and their published md5 sums."""
    from torchvision.datasets import MNIST

    assert dict(MNIST.resources) == {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }


def test_binarize_is_bernoulli_and_seeded():
    x = torch.full((20000,), 0.3)
    b = data.binarize(x, torch.Generator().manual_seed(1))
    assert set(b.unique().tolist()) <= {0.0, 1.0}
    assert abs(b.mean().item() - 0.3) < 0.02
    assert torch.equal(data.fixed_binarization(x), data.fixed_binarization(x))
    assert torch.equal(data.binarize(torch.zeros(5)), torch.zeros(5))


@pytest.mark.skipif(not (DATA_ROOT / "MNIST" / "raw").is_dir(), reason="../shared/data not beside the checkout")
def test_shared_data_shapes():
    images, labels = data.load_mnist(DATA_ROOT, "test", download=False)
    assert images.shape == (1000, 28, 28) and labels.max() == 9


class Elsewhere(torch.Tensor):
    """A tensor on a pretend device: mixing it with an ordinary (CPU) tensor in one op fails, as CPU and CUDA do.

    `.cpu()` and `.to(...)` bring it back to the CPU. Results of ops on Elsewhere tensors stay Elsewhere.
    """

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in (torch.Tensor.cpu, torch.Tensor.to):
            with torch._C.DisableTorchFunctionSubclass():
                return func(*args, **kwargs).as_subclass(torch.Tensor)
        tensors = [a for a in (*args, *kwargs.values()) if isinstance(a, torch.Tensor)]
        if any(type(t) is torch.Tensor for t in tensors) and any(isinstance(t, cls) for t in tensors):
            raise RuntimeError(f"{func.__name__}: tensors on two devices")
        return super().__torch_function__(func, types, args, kwargs)


def test_stroke_domains_stay_on_the_labels_device():
    g = torch.Generator().manual_seed(0)
    x, labels = torch.rand(90, 1, 28, 28, generator=g), torch.arange(90) % 10
    expected = data.stroke_domains(x, labels)
    assert torch.bincount(expected).tolist() == [30, 30, 30]
    with pytest.raises(RuntimeError, match="two devices"):  # the stand-in device does catch a mix
        torch.zeros(3)[torch.arange(3).as_subclass(Elsewhere)] = torch.ones(3)
    domain = data.stroke_domains(x.as_subclass(Elsewhere), labels.as_subclass(Elsewhere))
    assert isinstance(domain, Elsewhere), "the domains should be where the labels are"
    assert torch.equal(domain.as_subclass(torch.Tensor), expected)
