"""Every trainer runs end to end on a few images and writes a checkpoint the loader accepts."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

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


@pytest.mark.slow
def test_a_pixelcnn_resumed_deeper_starts_at_its_likelihood_and_goes_on(tmp_path):
    write_mnist(tmp_path / "data", n_train=256)
    config = registry.get("pixelcnn-mnist").tiny_config  # 2 blocks
    first = train.train("pixelcnn-mnist", tmp_path / "data", tmp_path / "a", 1, config=config, limit=128)
    grown = first.deeper(5, torch.Generator())
    x = (torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(0)) < 0.2).float()
    with torch.no_grad():
        assert torch.allclose(grown.log_prob(x), first.log_prob(x), atol=1e-5)  # new blocks: the identity
    second = train.train("pixelcnn-mnist", tmp_path / "data", tmp_path / "b", 1, limit=128, resume=tmp_path / "a",
                         deeper=5)  # fmt: skip
    assert len(second.blocks) == 5 and json.loads((tmp_path / "b" / "config.json").read_text())["layers"] == 5
    assert second.blocks[4].weight.abs().sum() > 0  # the new blocks learned
    info = json.loads((tmp_path / "b" / "training.json").read_text())
    assert info["deepened_to_layers"] == 5 and info["epochs"] == 2
    with pytest.raises(ValueError, match="more than the 5 blocks"):
        second.deeper(5, torch.Generator())


@pytest.mark.slow
def test_a_run_stopped_with_ctrl_c_records_the_epochs_that_ran(tmp_path, monkeypatch):
    from genmodels.models.pixelcnn import PixelCNN

    write_mnist(tmp_path / "data", n_train=256)
    config = registry.get("pixelcnn-mnist").tiny_config
    train.train("pixelcnn-mnist", tmp_path / "data", tmp_path / "a", 1, config=config, limit=128)
    score, calls = PixelCNN.log_prob, []

    def interrupted_in_epoch_two(self, x, condition=None):
        calls.append(len(x))
        if len(calls) == 7:  # 150 images train in 4 batches of 32, then 10 are scored; Ctrl-C in epoch 2's 2nd batch
            raise KeyboardInterrupt
        return score(self, x, condition=condition)

    monkeypatch.setattr(PixelCNN, "log_prob", interrupted_in_epoch_two)
    train.train("pixelcnn-mnist", tmp_path / "data", tmp_path / "b", 4, limit=160, resume=tmp_path / "a")
    info = json.loads((tmp_path / "b" / "training.json").read_text())
    assert info["stopped_early_after_epochs"] == 1 and info["epochs"] == 1 + 1, "1 before, 1 of the 4 asked for"


@pytest.mark.slow
def test_an_autoregressive_run_in_bf16_steps_under_autocast_and_keeps_fp32_weights(tmp_path, monkeypatch):
    from genmodels.models.gated_pixelcnn import GatedPixelCNN

    write_mnist(tmp_path / "data", n_train=256)
    score, seen = GatedPixelCNN.log_prob, []

    def recorded(self, x, condition=None):
        seen.append((self.training, torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu")))
        return score(self, x, condition=condition)

    monkeypatch.setattr(GatedPixelCNN, "log_prob", recorded)
    config = registry.get("gated-pixelcnn-mnist").tiny_config
    model = train.train("gated-pixelcnn-mnist", tmp_path / "data", tmp_path / "a", 1, config=config, limit=160,
                        options={"bf16": "true"})  # fmt: skip
    assert {s for s in seen if s[0]} == {(True, torch.bfloat16)}, "every training step in bf16"
    assert {s for s in seen if not s[0]} == {(False, False)}, "the held-out NLL in fp32"
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert json.loads((tmp_path / "a" / "training.json").read_text())["options"] == {"bf16": True}


@pytest.mark.parametrize(
    "name, resume, message",
    [
        ("pixelcnn-mnist", None, "--deeper grows a trained net: give the checkpoint to grow with --resume."),
        ("vae-mnist", "checkpoints/vae-mnist", "vae-mnist cannot grow deeper (the PixelCNNs can); drop --deeper."),
    ],
)
def test_deeper_only_from_a_checkpoint_of_a_net_that_grows(name, resume, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        train.deeper_option(name, 8, resume)


@pytest.mark.slow
def test_a_vqvae_resumed_at_its_prior_stage_keeps_its_codes(tmp_path):
    write_mnist(tmp_path / "data", n_train=256)
    config = registry.get("vqvae-mnist").tiny_config
    first = train.train("vqvae-mnist", tmp_path / "data", tmp_path / "a", epochs=1, config=config, limit=128)
    options = {"stage": "prior", "lr": "3e-4"}  # as the CLI passes them: strings, typed by the trainer's defaults
    second = train.train("vqvae-mnist", tmp_path / "data", tmp_path / "b", 1, limit=128, resume=tmp_path / "a",
                         options=options)  # fmt: skip
    before, after = first.state_dict(), second.state_dict()
    moved = {k for k in before if not torch.equal(before[k], after[k])}
    assert moved and all(k.startswith("prior.") for k in moved)
    info = json.loads((tmp_path / "b" / "training.json").read_text())
    assert info["options"] == {"stage": "prior", "lr": 3e-4} and "prior_best_validation_nll_nats" in info


@pytest.mark.slow
def test_a_wider_vqvae_prior_is_fitted_to_a_saved_autoencoders_codes(tmp_path):
    write_mnist(tmp_path / "data", n_train=256)
    config = registry.get("vqvae-mnist").tiny_config
    first = train.train("vqvae-mnist", tmp_path / "data", tmp_path / "a", epochs=1, config=config, limit=128)
    wider = config | {"prior_channels": 12, "prior_layers": 4}
    options = {"stage": "prior", "autoencoder": str(tmp_path / "a")}
    second = train.train("vqvae-mnist", tmp_path / "data", tmp_path / "b", 1, config=wider, limit=128, options=options)
    before, after = first.state_dict(), second.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in before.items() if not k.startswith("prior."))
    assert after["prior.head.1.weight"].shape != before["prior.head.1.weight"].shape
    info = json.loads((tmp_path / "b" / "training.json").read_text())
    assert info["epochs"] == 1 and info["autoencoder_from"]["epochs"] == 1 and info["options"] == options
    other = wider | {"codes": 16}  # another codebook: the saved autoencoder does not fit
    message = "holds no VQ-VAE checkpoint with this model's codes, code size and width."
    with pytest.raises(ValueError, match=re.escape(message)):
        train.train("vqvae-mnist", tmp_path / "data", tmp_path / "c", 1, config=other, limit=128, options=options)
    done = subprocess.run(
        [sys.executable, "-m", "genmodels.train", "vqvae-mnist", "--data-root", tmp_path / "data", "--out",
         tmp_path / "d", "--tiny", "--limit", "64", "--set", "stage=prior", "--set", f"autoencoder={tmp_path}/none"],
        cwd=REPO, env=subprocess_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "none holds no VQ-VAE checkpoint" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "options, message",
    [
        ({"momentum": "0.9"}, "no option momentum; its options: stage='both', lr=0.001, autoencoder=''"),
        ({"lr": "fast"}, "The option lr takes a number, not 'fast'."),
    ],
)
def test_a_trainer_option_it_does_not_take_is_named_in_our_words(options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        train.trainer_options(registry.get("vqvae-mnist").recipe.train, options)


def test_trainer_options_are_numbers_strings_and_flags_only():
    gan = registry.get("wgan-gp-mnist").recipe.train  # its losses and Adam betas are bound by the recipe, not options
    assert train.trainer_options(gan, {"critic_steps": "3", "lr": "5e-5"}) == {"critic_steps": 3, "lr": 5e-5}
    for bound in ("betas", "critic_loss"):
        with pytest.raises(ValueError, match=f"no option {bound}; its options: norm='layer', critic_steps=5"):
            train.trainer_options(gan, {bound: "x"})
    with pytest.raises(ValueError, match="The option critic_steps takes a whole number, not '2.5'"):
        train.trainer_options(gan, {"critic_steps": "2.5"})

    def flagged(model, x, y, epochs, seed, verbose=False):
        return {}

    assert train.trainer_options(flagged, {"verbose": "True"}) == {"verbose": True}
    assert train.trainer_options(flagged, {"verbose": "0"}) == {"verbose": False}
    with pytest.raises(ValueError, match="The option verbose takes true or false, not 'maybe'."):
        train.trainer_options(flagged, {"verbose": "maybe"})


@pytest.mark.parametrize(
    "setting, message",
    [("lr", "--set takes KEY=VALUE"), ("lr=x", "The option lr takes a number, not 'x'.")],
)
def test_cli_set_says_what_is_wrong_in_one_line(setting, message):
    done = subprocess.run(
        [sys.executable, "-m", "genmodels.train", "pixelcnn-mnist", "--data-root", ".", "--out", "x", "--set", setting],
        cwd=REPO,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


# --- data-parallel training (torchrun, DistributedDataParallel on gloo) -----------------------------------------------


def _torchrun(name: str, data: Path, out: Path, processes: int, epochs: int = 2, limit: int = 512) -> dict:
    """Train `name` (tiny) under torchrun with `processes` CPU processes; returns its training.json."""
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
        + ["-m", "genmodels.train", name, "--data-root", str(data), "--out", str(out), "--tiny"]
        + ["--epochs", str(epochs), "--limit", str(limit), "--threads", "1"],
        cwd=REPO,
        env=subprocess_env(OMP_NUM_THREADS="1"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return json.loads((out / "training.json").read_text())


@pytest.mark.slow
def test_two_processes_train_the_same_model_as_one_with_the_same_global_batch(tmp_path):
    """The autoencoder (no noise, no batch norm: the loop is deterministic) for 16 steps of the global batch of 128:
    2 processes of 64 each must land where 1 process of 128 lands. The only difference is float32 rounding (two
    half-batch mean gradients averaged, instead of one mean), about 1e-7 relative per step; Adam's step is bounded by
    the learning rate, so after 16 steps the weights may differ by a few 1e-6 and the loss by far less than 1e-4."""
    write_mnist(tmp_path / "data", n_train=1100, seed=3)
    one = _torchrun("ae2d-mnist", tmp_path / "data", tmp_path / "one", 1, limit=1088)
    two = _torchrun("ae2d-mnist", tmp_path / "data", tmp_path / "two", 2, limit=1088)
    assert (one["processes"], two["processes"]) == (1, 2)
    assert two["best_validation_loss"] == pytest.approx(one["best_validation_loss"], rel=1e-4)
    cls = registry.get("ae2d-mnist").cls
    a, b = cls.from_pretrained(tmp_path / "one"), cls.from_pretrained(tmp_path / "two")
    first = {k: v.clone() for k, v in a.state_dict().items()}
    untrained = cls(**registry.get("ae2d-mnist").recipe.tiny_config).state_dict()
    for key, value in b.state_dict().items():
        assert torch.allclose(value, first[key], atol=1e-5), key
        assert not torch.allclose(value, untrained[key], atol=1e-3), f"{key} did not train"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dcgan-mnist", "wgan-gp-mnist", "vqvae-mnist", "glow-mnist", "stargan-mnist"])
def test_families_train_on_two_processes_and_stay_in_step(name, tmp_path):
    """Batch norm, noise cut per process, a gradient penalty, dead-code resets, ActNorm's data-dependent start, a
    domain classifier: each trains on 2 processes, and the CLI refuses to save unless both hold the same weights."""
    write_mnist(tmp_path / "data", n_train=300)
    info = _torchrun(name, tmp_path / "data", tmp_path / name, 2, epochs=1, limit=256)
    assert info["processes"] == 2 and info["train_images"] == 256
    registry.get(name).cls.from_pretrained(tmp_path / name, strict=True)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, stat", [("mnist-classifier", "final_train_loss"), ("vqvae-mnist", "vq_final_recon_bce_nats")]
)
def test_training_statistics_count_every_process_share(name, stat, tmp_path):
    """A loop's per-example statistic sums the shares of all processes: 2 processes report what 1 does, not half.
    Their random draws are cut differently (augmentation, binarisation), so the two agree to a few percent only."""
    write_mnist(tmp_path / "data", n_train=300)
    one = _torchrun(name, tmp_path / "data", tmp_path / "one", 1, epochs=1, limit=256)
    two = _torchrun(name, tmp_path / "data", tmp_path / "two", 2, epochs=1, limit=256)
    assert two[stat] == pytest.approx(one[stat], rel=0.15)


def _drifting(rank: int, store: str, result: str) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2)
    try:
        train.check_in_step(_linear(rank))
    except RuntimeError as error:
        Path(result, str(rank)).write_text(str(error))
    finally:
        dist.destroy_process_group()


def _linear(rank: int) -> torch.nn.Module:
    layer = torch.nn.Linear(3, 2)
    with torch.no_grad():
        layer.weight.fill_(rank)
        layer.bias.zero_()
    return layer


def test_processes_that_drifted_apart_are_caught(tmp_path):
    """The check the CLI makes before saving fails when one process's weights differ from the other's."""
    import torch.multiprocessing as mp

    mp.spawn(_drifting, args=(str(tmp_path / "store"), str(tmp_path)), nprocs=2)
    assert "different weights (largest gap 1)" in (tmp_path / "0").read_text()
    assert (tmp_path / "1").exists()


def test_each_process_takes_its_own_share_of_every_global_batch(monkeypatch):
    """With 2 processes, rank 0 and rank 1 take disjoint halves that together make exactly one process's batch; a
    noise draw for the global batch is cut the same way."""
    from genmodels.recipes import common

    def shares(rank: int, size: int) -> list[torch.Tensor]:
        monkeypatch.setattr(common, "processes", lambda: (rank, size))
        return list(common.batches(100, 32, torch.Generator().manual_seed(5)))

    whole, first, second = shares(0, 1), shares(0, 2), shares(1, 2)
    assert len(whole) == len(first) == len(second) == 3
    for w, a, b in zip(whole, first, second, strict=True):
        assert len(a) == len(b) == 16 and torch.equal(torch.cat([a, b]), w)
    noise = torch.arange(32)
    monkeypatch.setattr(common, "processes", lambda: (1, 2))
    assert torch.equal(common.shard(noise), noise[16:])
    monkeypatch.setattr(common, "processes", lambda: (0, 3))
    with pytest.raises(ValueError, match="does not split evenly over 3 processes"):
        next(common.batches(100, 32, torch.Generator()))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dcgan-mnist", "wgan-gp-mnist"])
def test_a_gan_stopped_and_started_again_from_its_state_ends_where_an_unbroken_run_does(name, tmp_path, monkeypatch):
    """Stopped (as by Ctrl-C) once epoch 1 is saved, then started again: the same weights as a run never stopped, the
    WGAN-GP's learning-rate decay (the last third of the steps) included."""
    from genmodels.recipes import common

    write_mnist(tmp_path / "data", n_train=256)
    config, state = registry.get(name).tiny_config, tmp_path / "run.state"
    run = dict(config=config, limit=192)
    unbroken = train.train(name, tmp_path / "data", tmp_path / "a", 3, **run)
    save = common.LoopState.save

    def save_then_stop(self, **counters):
        save(self, **counters)
        if counters["epoch"] == 1:
            raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(common.LoopState, "save", save_then_stop)
        with pytest.raises(KeyboardInterrupt):
            train.train(name, tmp_path / "data", tmp_path / "b", 3, **run, state=state)
    again = train.train(name, tmp_path / "data", tmp_path / "c", 3, **run, state=state)
    for a, b in zip(unbroken.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    info = json.loads((tmp_path / "c" / "training.json").read_text())
    assert info["epochs"] == 3 and info["continued_from_epoch"] == 1
    assert info["generator_steps"] == json.loads((tmp_path / "a" / "training.json").read_text())["generator_steps"]
    saved = torch.load(state, weights_only=True)
    assert saved["counters"]["epoch"] == 3
    last_rate = saved["parts"]["opt_g"]["param_groups"][0]["lr"]  # set before the last of 9 critic steps (3 an epoch)
    if name == "wgan-gp-mnist":
        assert last_rate == pytest.approx(1e-4 * common.linear_decay(8 / 9, 2 / 3)) and last_rate < 1e-4 / 2
        assert info["learning_rate"] == "0.0001, falling linearly to 0 after 67% of the steps"
    else:
        assert last_rate == 2e-4 and info["learning_rate"] == "0.0002"


def test_a_learning_rate_decay_holds_then_falls_linearly_to_zero():
    from genmodels.recipes.common import linear_decay

    assert [linear_decay(p, 0.5) for p in (0, 0.5, 0.75, 1)] == [1, 1, 0.5, 0]
    assert linear_decay(0.9, 1.0) == 1 and linear_decay(0.8, 0.6) == pytest.approx(0.5)


@pytest.mark.slow
def test_a_state_file_from_another_run_is_refused_in_our_words(tmp_path):
    write_mnist(tmp_path / "data", n_train=256)
    config, state = registry.get("dcgan-mnist").tiny_config, tmp_path / "run.state"
    train.train("dcgan-mnist", tmp_path / "data", tmp_path / "a", 2, config=config, limit=128, state=state)
    with pytest.raises(ValueError, match="already at epoch 2, past the 1 asked for"):
        train.train("dcgan-mnist", tmp_path / "data", tmp_path / "b", 1, config=config, limit=128, state=state)
    with pytest.raises(ValueError, match="holds a run with seed 0; this one has seed 1"):
        train.train("dcgan-mnist", tmp_path / "data", tmp_path / "b", 3, seed=1, config=config, limit=128, state=state)
    with pytest.raises(ValueError, match="is not a saved state of this model and loop"):  # a WGAN's layer-norm critic
        train.train("wgan-gp-mnist", tmp_path / "data", tmp_path / "b", 3, config=config, limit=128, state=state)


@pytest.mark.parametrize(
    "name, resume, message",
    [
        ("vae-mnist", None, "vae-mnist's loop keeps no state file; --resume continues from its saved weights."),
        ("dcgan-mnist", "checkpoints/dcgan-mnist", "--state and --resume both say where to go on from: give one."),
    ],
)
def test_state_only_where_the_loop_keeps_one(name, resume, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        train.state_option(name, "run.state", resume)
