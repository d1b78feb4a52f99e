"""Shared fixtures: where ../shared/data is, tiny idx files, and a fake Hugging Face Hub on 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from genmodels import hub

REPO = Path(__file__).resolve().parents[1]
DATA_ROOT = REPO.parent / "shared" / "data"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: trains, evaluates shipped checkpoints, or drives a browser")


@pytest.fixture(autouse=True)
def fresh_model_cache():
    """Each test sees the checkpoints folder it sets, not models another test loaded."""
    hub._cache.clear()
    yield
    hub._cache.clear()


def idx_bytes(array: np.ndarray) -> bytes:
    """An unsigned-byte idx file holding `array`."""
    return (
        bytes([0, 0, 0x08, array.ndim])
        + struct.pack(f">{array.ndim}I", *array.shape)
        + array.astype(np.uint8).tobytes()
    )


def write_mnist(root: Path, n_train: int = 40, n_test: int = 20, gz: bool = False, seed: int = 0) -> dict:
    """Random MNIST-shaped idx files under <root>/MNIST/raw; returns the arrays written."""
    rng = np.random.default_rng(seed)
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        arrays[f"{prefix}-images-idx3-ubyte"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        arrays[f"{prefix}-labels-idx1-ubyte"] = rng.integers(0, 10, (n,), dtype=np.uint8)
    for stem, array in arrays.items():
        body = idx_bytes(array)
        if gz:
            (raw / (stem + ".gz")).write_bytes(gzip.compress(body))
        else:
            (raw / stem).write_bytes(body)
    return arrays


class _Files(BaseHTTPRequestHandler):
    """Serves <root>/<path> for GET and HEAD, with the headers hf_hub_download reads (commit, ETag)."""

    root = Path(".")
    commit = "c0ffee" * 6 + "c0ff"

    def log_message(self, *args) -> None:
        pass

    def _send(self, head: bool) -> None:
        path = self.path.split("?")[0].strip("/")
        # Hub layout: <org>/<repo>/resolve/<revision>/<file>; anything else is served as a plain file.
        parts = path.split("/")
        if len(parts) >= 5 and parts[2] == "resolve":
            path = "/".join(parts[:2] + parts[4:])
        file = self.root / path
        if not file.is_file():
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = file.read_bytes()
        self.send_response(200)
        self.send_header("X-Repo-Commit", self.commit)
        self.send_header("ETag", f'"{hashlib.sha256(body).hexdigest()}"')
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self._send(True)

    def do_GET(self) -> None:
        self._send(False)


@pytest.fixture
def file_server(tmp_path):
    """(root folder, base URL) of an HTTP server on 127.0.0.1 serving that folder, Hub-style or plain."""
    root = tmp_path / "served"
    root.mkdir()
    handler = type("Handler", (_Files,), {"root": root})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def subprocess_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "GENMODELS_"))}
    env.update(extra)
    return env
