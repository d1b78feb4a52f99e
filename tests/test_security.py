"""No pickle is ever executed: weights are safetensors, or a plain state dict read with `weights_only=True`."""

from __future__ import annotations

import pickle

import pytest
import torch

from genmodels import hub, registry


class Payload:
    """Unpickling this runs `touch <marker>`: what a malicious checkpoint would do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("wrap", [lambda p: p, lambda p: {"G_B.model.1.weight": p}], ids=["bare", "inside-a-dict"])
def test_a_malicious_pickle_checkpoint_is_refused_and_never_run(tmp_path, wrap):
    marker = tmp_path / "pwned"
    path = tmp_path / "pytorch_model.bin"
    with open(path, "wb") as f:
        pickle.dump(wrap(Payload(marker)), f)
    torch.save(wrap(Payload(marker)), tmp_path / "torch_saved.bin")
    entry = registry.get("cyclegan-horse2zebra")
    for file in (path, tmp_path / "torch_saved.bin"):
        with pytest.raises(ValueError, match="is not a checkpoint this model reads"):
            hub.load_foreign(entry, file)
    assert not marker.exists(), "the pickle's code ran"


def test_a_pickle_posing_as_safetensors_is_a_broken_checkpoint(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    entry = registry.get("vae-mnist")
    folder = tmp_path / entry.name
    entry.cls(**entry.tiny_config).save_pretrained(folder)
    with open(folder / "model.safetensors", "wb") as f:
        pickle.dump(Payload(marker), f)
    monkeypatch.setenv("GENMODELS_CHECKPOINTS", str(tmp_path))
    with pytest.raises(ValueError, match="is broken"):
        hub.load("vae-mnist")
    assert not marker.exists(), "the pickle's code ran"
