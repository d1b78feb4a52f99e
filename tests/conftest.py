"""Shared fixtures: where ../shared/data is, tiny idx files, a fake Hugging Face Hub on 127.0.0.1, and the running app
(one per test session) with its API client and a headless Chromium page on it."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
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


def write_mnist(root: Path, n_train: int = 40, n_test: int = 20, seed: int = 0) -> dict:
    """Random MNIST-shaped idx files under <root>/MNIST/raw; returns the arrays written."""
    rng = np.random.default_rng(seed)
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        arrays[f"{prefix}-images-idx3-ubyte"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        arrays[f"{prefix}-labels-idx1-ubyte"] = rng.integers(0, 10, (n,), dtype=np.uint8)
    for stem, array in arrays.items():
        (raw / stem).write_bytes(idx_bytes(array))
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


# --- the running app ------------------------------------------------------------------------------------------

ARTIFACTS = REPO / "artifacts"
CHROMIUM = next(
    (p for p in ("/usr/lib/chromium/chromium", shutil.which("chromium") or "") if p and Path(p).exists()), None
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_url():
    port = free_port()
    env = subprocess_env(
        GRADIO_SERVER_NAME="127.0.0.1",
        GRADIO_SERVER_PORT=str(port),
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
        GENMODELS_DATA=str(DATA_ROOT),
    )
    log = open(REPO / ".pytest_cache" / "app.log", "w") if (REPO / ".pytest_cache").is_dir() else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(url + "gradio_api/info", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("the app did not start") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="session")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


@pytest.fixture
def browser_page(app_url):
    """A fresh page on the app in headless Chromium; fails the test on any page or console error."""
    if CHROMIUM is None:
        if os.environ.get("GENMODELS_REQUIRE_BROWSER") == "1":
            pytest.fail("GENMODELS_REQUIRE_BROWSER=1 but Debian's chromium is not installed")
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
            page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
            page.goto(app_url)
            yield page
        finally:
            browser.close()
    assert not errors, errors
