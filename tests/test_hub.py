"""Loading: local checkpoints, broken ones, and the Hub through a fake server on 127.0.0.1 or none at all.

huggingface_hub reads HF_ENDPOINT and HF_HUB_OFFLINE when it is imported, so Hub cases run in a subprocess.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest
import torch

from genmodels import hub, registry

from .conftest import REPO, subprocess_env

PROBE = """
import json, time
from genmodels import hub
start = time.perf_counter()
try:
    model = hub.load("dcgan-mnist", device="cpu")
    out = {"ok": True, "params": sum(p.numel() for p in model.parameters())}
except ValueError as exc:
    out = {"ok": False, "error": str(exc)}
out["seconds"] = time.perf_counter() - start
print(json.dumps(out))
"""


def probe(tmp_path, **env) -> dict:
    empty = tmp_path / "no-checkpoints"
    empty.mkdir(exist_ok=True)
    env = subprocess_env(GENMODELS_CHECKPOINTS=str(empty), HF_HOME=str(tmp_path / "hf"), **env)
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def tiny_checkpoint(folder):
    entry = registry.get("dcgan-mnist")
    torch.manual_seed(0)
    model = entry.cls(**entry.tiny_config)
    model.save_pretrained(folder)
    return sum(p.numel() for p in model.parameters())


def test_local_checkpoint_loads(tmp_path, monkeypatch):
    params = tiny_checkpoint(tmp_path / "dcgan-mnist")
    monkeypatch.setenv("GENMODELS_CHECKPOINTS", str(tmp_path))
    model = hub.load("dcgan-mnist", device="cpu")
    assert sum(p.numel() for p in model.parameters()) == params and not model.training


def test_broken_checkpoints_are_clear_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMODELS_CHECKPOINTS", str(tmp_path))
    folder = tmp_path / "dcgan-mnist"
    tiny_checkpoint(folder)
    (folder / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="dcgan-mnist: its checkpoint is broken") as info:
        hub.load("dcgan-mnist")
    assert str(tmp_path) not in str(info.value), "no server path in a message a user may see"
    # Weights that do not fit the config must fail too (strict=True), not load half a model.
    tiny_checkpoint(folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps(dict(config, width=8)))
    with pytest.raises(ValueError, match="is broken"):
        hub.load("dcgan-mnist")
    # A truncated file, and weights of the wrong shape, fail that model only (see test_tasks for the slots).
    tiny_checkpoint(folder)
    body = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(body[: len(body) // 2])
    with pytest.raises(ValueError, match="is broken"):
        hub.load("dcgan-mnist")


def test_downloads_from_hub_then_works_offline(tmp_path, file_server):
    served, url = file_server
    params = tiny_checkpoint(served / registry.get("dcgan-mnist").hub_repo)
    first = probe(tmp_path, HF_ENDPOINT=url)
    assert first == {"ok": True, "params": params, "seconds": first["seconds"]}
    # Now from the Hub cache alone, with the Hub switched off.
    second = probe(tmp_path, HF_ENDPOINT="http://127.0.0.1:9", HF_HUB_OFFLINE="1")
    assert second["ok"] and second["params"] == params


def test_missing_repo_is_a_clear_error(tmp_path, file_server):
    _, url = file_server
    out = probe(tmp_path, HF_ENDPOINT=url)
    assert not out["ok"] and "could not be fetched" in out["error"] and "genmodels.train" in out["error"]


def test_offline_mode_fails_fast(tmp_path):
    out = probe(tmp_path, HF_HUB_OFFLINE="1")
    assert not out["ok"] and "HF_HUB_OFFLINE" in out["error"] and out["seconds"] < 1


def test_refused_connection_fails_fast(tmp_path):
    out = probe(tmp_path, HF_ENDPOINT="http://127.0.0.1:9")
    assert not out["ok"] and out["seconds"] < hub.HUB_TIMEOUT_S + 1


def test_silent_hub_times_out_within_5_s(tmp_path):
    # A server that accepts connections and never answers: the case that otherwise hangs for minutes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        out = probe(tmp_path, HF_ENDPOINT=f"http://127.0.0.1:{silent.getsockname()[1]}")
    assert not out["ok"] and "did not answer within 5 s" in out["error"]
    assert out["seconds"] < hub.HUB_TIMEOUT_S + 1


FOREIGN_PROBE = """
import json, time
from genmodels import hub
start = time.perf_counter()
try:
    model = hub.load("cyclegan-horse2zebra", device="cpu")
    out = {"ok": True, "ngf": model.g_ab.model[1].out_channels, "domains": list(model.domains)}
except ValueError as exc:
    out = {"ok": False, "error": str(exc)}
out["seconds"] = time.perf_counter() - start
print(json.dumps(out))
"""


def foreign_probe(tmp_path, **env) -> dict:
    env = subprocess_env(HF_HOME=str(tmp_path / "hf"), **env)
    done = subprocess.run(
        [sys.executable, "-c", FOREIGN_PROBE], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_foreign_checkpoint_downloads_then_works_offline(tmp_path, file_server):
    from genmodels.models.cyclegan import CycleGAN

    served, url = file_server
    entry = registry.get("cyclegan-horse2zebra")
    small = CycleGAN(("horse", "zebra"), ngf=8, n_blocks=2)
    state = {f"G_B.{k}": v for k, v in small.g_ab.state_dict().items()}
    state |= {f"G_A.{k}": v for k, v in small.g_ba.state_dict().items()}
    (served / entry.hub_repo).mkdir(parents=True)
    torch.save(state, served / entry.hub_repo / entry.hub_file)
    # ahead of time, with the download CLI, into the Hub cache ...
    env = subprocess_env(HF_HOME=str(tmp_path / "hf"), HF_ENDPOINT=url)
    cli = [sys.executable, "-m", "genmodels.download", "cyclegan-horse2zebra"]
    done = subprocess.run(cli, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "cyclegan-horse2zebra" in done.stdout, done.stderr
    # ... then the app's loader finds it with the Hub switched off
    offline = foreign_probe(tmp_path, HF_ENDPOINT="http://127.0.0.1:9", HF_HUB_OFFLINE="1")
    assert offline == {"ok": True, "ngf": 8, "domains": ["horse", "zebra"], "seconds": offline["seconds"]}


def test_foreign_checkpoint_unreachable_says_what_to_do(tmp_path):
    out = foreign_probe(tmp_path, HF_ENDPOINT="http://127.0.0.1:9")
    assert not out["ok"] and out["seconds"] < hub.HUB_TIMEOUT_S + 1
    assert "Choose a bundled model" in out["error"] and "genmodels.download cyclegan-horse2zebra" in out["error"]


def test_the_app_sentence_says_what_to_do_for_each_kind_of_missing_weights():
    """Hub-only weights: choose a bundled model; a bundled model's missing checkpoint: choose another one. Neither
    tells an app user about environment variables or commands (those stay in the terminal's message)."""
    hub_only = hub.WeightsUnavailable("HF_HUB_OFFLINE ...", registry.get("cyclegan-horse2zebra")).in_app
    bundled = hub.WeightsUnavailable("HF_HUB_OFFLINE ...", registry.get("cyclegan-mnist")).in_app
    assert hub_only.endswith("Choose one of the bundled models.") and bundled.endswith("Choose another model.")
    assert not any(word in hub_only + bundled for word in ("HF_HUB_OFFLINE", "python -m"))
