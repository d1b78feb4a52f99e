"""Every trainer runs end to end on a few images and writes a checkpoint the loader accepts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from genmodels import losses, registry, train

from .conftest import REPO, subprocess_env, write_mnist


@pytest.mark.slow
@pytest.mark.parametrize("name", registry.trainable_names())
def test_trainer_writes_a_loadable_checkpoint(name, tmp_path):
    write_mnist(tmp_path / "data", n_train=256)
    entry = registry.get(name)
    out = tmp_path / name
    model = train.train(name, tmp_path / "data", out, epochs=1, config=entry.tiny_config, limit=192)
    info = json.loads((out / "training.json").read_text())
    assert info["epochs"] == 1 and info["train_images"] == 192 and info["wall_time_s"] >= 0
    loaded = entry.cls.from_pretrained(out, strict=True)
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values(), strict=True):
        assert torch.equal(a.cpu(), b)


def test_every_catalogued_model_has_a_trainer():
    assert set(registry.trainable_names()) == {name for name, entry in registry.REGISTRY.items() if not entry.hub_file}


@pytest.mark.parametrize("slope, penalty", [(1.0, 0.0), (3.0, 4.0), (0.0, 1.0)])
def test_gradient_penalty_of_a_linear_critic(slope, penalty):
    # D(x) = w·x has ‖∇D‖ = ‖w‖ everywhere, so the penalty is (‖w‖ − 1)².
    w = torch.randn(784, generator=torch.Generator().manual_seed(0))
    w = slope * w / w.norm()
    real, fake = torch.rand(4, 1, 28, 28), torch.rand(4, 1, 28, 28)
    gp = losses.gradient_penalty(lambda x: x.flatten(1) @ w, real, fake, torch.Generator().manual_seed(0))
    assert gp.item() == pytest.approx(penalty, abs=1e-5)


def test_cli_rejects_unknown_names():
    done = subprocess.run(
        [sys.executable, "-m", "genmodels.train", "nope", "--data-root", ".", "--out", "x"],
        cwd=REPO,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "invalid choice" in done.stderr


@pytest.mark.slow
def test_resume_continues_from_a_checkpoint(tmp_path):
    write_mnist(tmp_path / "data", n_train=256)
    entry = registry.get("vae-mnist")
    first = train.train("vae-mnist", tmp_path / "data", tmp_path / "a", epochs=1, config=entry.tiny_config, limit=128)
    second = train.train("vae-mnist", tmp_path / "data", tmp_path / "b", epochs=2, limit=128, resume=tmp_path / "a")
    info = json.loads((tmp_path / "b" / "training.json").read_text())
    assert info["epochs"] == 3 and info["resumed_from"]["epochs"] == 1
    assert second._hub_mixin_config == first._hub_mixin_config
    assert not torch.equal(second.decoder[0].weight, first.decoder[0].weight)
