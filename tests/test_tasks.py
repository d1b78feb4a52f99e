"""The Sample tab's task functions, on tiny checkpoints the test writes (fast, and independent of training)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from genmodels import registry, tasks
from genmodels.tasks import sample as sample_task
from genmodels.tasks.common import as_float, as_int, image_grid

from .conftest import DATA_ROOT


@pytest.fixture
def tiny_checkpoints(tmp_path, monkeypatch):
    """Every catalogued model, tiny and randomly initialised, under a fresh checkpoints folder."""
    for entry in registry.REGISTRY.values():
        torch.manual_seed(0)
        entry.cls(**entry.tiny_config).save_pretrained(tmp_path / entry.name)
    monkeypatch.setenv("GENMODELS_CHECKPOINTS", str(tmp_path))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    return tmp_path


def test_every_model_side_by_side(tiny_checkpoints):
    results = tasks.sample_models(tasks.sampleable_models(), n=9, seed=5)
    assert [r["model"] for r in results] == tasks.sampleable_models()
    for r in results:
        assert "error" not in r, r
        assert r["grid"].dtype == np.uint8 and r["grid"].shape == (2 * (3 * 30 + 2), 2 * (3 * 30 + 2), 3)
        assert len(r["labels"]) == 9 and all(0 <= c <= 9 for c in r["labels"])
        assert r["sample_s"] >= 0 and r["badge"] == "no held-out metrics yet"


def test_same_seed_same_images(tiny_checkpoints):
    a, b, c = (tasks.sample_models(["vae-mnist", "dcgan-mnist"], 4, s) for s in (1, 1, 2))
    for x, y, z in zip(a, b, c, strict=True):
        assert np.array_equal(x["grid"], y["grid"]) and not np.array_equal(x["grid"], z["grid"])


def test_any_digit_draws_the_digit_first(tiny_checkpoints):
    """ "any" samples the class-conditional model from its mixture: y ~ uniform, then x ~ p(x | y), one seed."""
    from genmodels import hub
    from genmodels.models.autoregressive import sample_rows
    from genmodels.models.base import cpu_generator

    model = hub.load("gated-pixelcnn-mnist")
    *_, (_, images) = sample_task._draw("gated-pixelcnn-mnist", model, 6, 3, 1.0, 0.0, None)
    g = cpu_generator(3)
    digits = torch.randint(10, (6,), generator=g)
    assert len(digits.unique()) > 1
    *_, expected = sample_rows(model, 6, g, 1.0, digits)
    assert torch.equal(images, expected)
    *_, (_, sevens) = sample_task._draw("gated-pixelcnn-mnist", model, 6, 3, 1.0, 0.0, 7)
    *_, expected = sample_rows(model, 6, cpu_generator(3), 1.0, torch.full((6,), 7))
    assert torch.equal(sevens, expected)


def test_missing_and_broken_checkpoints_stay_in_their_slot(tiny_checkpoints):
    (tiny_checkpoints / "dcgan-mnist" / "model.safetensors").write_bytes(b"\0" * 64)
    for f in (tiny_checkpoints / "wgan-gp-mnist").iterdir():
        f.unlink()
    by_name = {r["model"]: r for r in tasks.sample_models(tasks.sampleable_models(), 4, 0)}
    assert "is broken" in by_name["dcgan-mnist"]["error"]
    assert (
        "no checkpoint" in by_name["wgan-gp-mnist"]["error"] and "genmodels.train" in by_name["wgan-gp-mnist"]["error"]
    )
    assert "grid" in by_name["vae-mnist"] and "error" not in by_name["vae-mnist"]


def test_a_card_that_does_not_fit_its_badge_shows_its_numbers(tiny_checkpoints):
    (tiny_checkpoints / "vae-mnist" / "metrics.json").write_text('{"elbo_nats": 97.5}')  # no iwae_nats
    (tiny_checkpoints / "dcgan-mnist" / "metrics.json").write_text("not json")
    by_name = {r["model"]: r for r in tasks.sample_models(["vae-mnist", "dcgan-mnist"], 2, 0)}
    assert by_name["vae-mnist"]["badge"] == "elbo_nats 97.5"
    assert by_name["dcgan-mnist"]["badge"] == "held-out metrics unreadable"
    (tiny_checkpoints / "vae-mnist" / "metrics.json").write_text('{"elbo_nats": 97.5, "iwae_nats": 92.0}')
    (result,) = tasks.sample_models(["vae-mnist"], 2, 0)
    assert result["badge"] == "NLL ≤ 92.0 nats (IWAE, test) · −ELBO 97.5"


def test_labels_are_optional(tiny_checkpoints):
    (tiny_checkpoints / "mnist-classifier" / "config.json").unlink()
    (result,) = tasks.sample_models(["vae-mnist"], 2, 0)
    assert result["labels"] is None and "grid" in result


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(models=[]), "Choose at least one model"),
        (dict(models=["nope"]), "Unknown model 'nope'"),
        (dict(models=5), "Choose at least one model"),
        (dict(models=[{"a": 1}]), "Unknown model"),
        (dict(models=["mnist-classifier"]), "Unknown model"),
        (dict(n=-1), "Number of samples must be from 1 to 64"),
        (dict(n=10**6), "Number of samples must be from 1 to 64"),
        (dict(n=2.5), "whole number"),
        (dict(seed="abc"), "Seed must be a whole number"),
        (dict(seed=None), "Seed must be a whole number"),
        (dict(temperature=float("nan")), "Temperature must be a number"),
        (dict(temperature=0), "Temperature must be from"),
        (dict(truncation=-1), "Truncation must be from"),
        (
            dict(models=["vae-mnist", "dcgan-mnist", "pixelcnn-mnist", "pixelrnn-mnist", "vqvae-mnist"], n=64),
            "at most 256",
        ),
        (dict(models=["vae-mnist", "dcgan-mnist", "vqvae-mnist"], n=64, nearest=True), "at most 128 with the nearest"),
        (dict(nearest="maybe"), "Nearest training image must be true or false"),
        (dict(seed=10**400), r"Seed must be from 0 to 2147483647, got 10{38}…\.$"),  # not 400 digits
    ],
)
def test_bad_input_is_a_clear_value_error(tiny_checkpoints, kwargs, message):
    args = dict(models=["vae-mnist"], n=2, seed=0) | kwargs
    with pytest.raises(ValueError, match=message):
        tasks.sample_models(**args)


def test_numbers_from_text_fields_are_accepted():
    assert as_int("12", "n", 1, 64) == 12 and as_int(3.0, "n", 1, 64) == 3
    assert as_float("0.5", "t", 0, 1) == 0.5
    with pytest.raises(ValueError):
        as_int(True, "n", 0, 5)
    with pytest.raises(ValueError):
        as_float(math.inf, "t", 0, 1)


def test_truncation_changes_gan_samples_only(tiny_checkpoints):
    plain = {r["model"]: r["grid"] for r in tasks.sample_models(["dcgan-mnist", "vae-mnist"], 4, 0)}
    trunc = {r["model"]: r["grid"] for r in tasks.sample_models(["dcgan-mnist", "vae-mnist"], 4, 0, truncation=0.5)}
    assert not np.array_equal(plain["dcgan-mnist"], trunc["dcgan-mnist"])
    assert np.array_equal(plain["vae-mnist"], trunc["vae-mnist"])


@pytest.mark.skipif(not (DATA_ROOT / "MNIST" / "raw").is_dir(), reason="../shared/data not beside the checkout")
def test_nearest_training_image_finds_an_exact_copy(tiny_checkpoints, monkeypatch):
    monkeypatch.setenv("GENMODELS_DATA", str(DATA_ROOT))
    monkeypatch.setattr(sample_task, "_train_images", None)
    train = sample_task.training_images()
    copies = train[[7, 42]].reshape(2, 1, 28, 28)
    neighbours, dist = sample_task.nearest_training(copies)
    assert torch.equal(neighbours, copies) and dist.max() < 1e-3
    (result,) = tasks.sample_models(["vae-mnist"], 3, 0, nearest=True)
    assert result["nearest_grid"].shape[1] > result["nearest_grid"].shape[0] / 2 and result["nearest_l2_mean"] > 0


def test_nearest_without_data_is_reported_in_the_slot(tiny_checkpoints, monkeypatch, tmp_path):
    monkeypatch.setenv("GENMODELS_DATA", str(tmp_path / "nothing"))
    monkeypatch.setattr(sample_task, "_train_images", None)
    monkeypatch.setattr("torchvision.datasets.MNIST.mirrors", ["http://127.0.0.1:9/"])
    (result,) = tasks.sample_models(["vae-mnist"], 2, 0, nearest=True)
    assert "grid" in result and "MNIST" in result["nearest_error"]


def test_image_grid_layout():
    grid = image_grid(torch.ones(5, 1, 28, 28), ncol=3, pad=2, scale=1)
    assert grid.shape == (2 * 30 + 2, 3 * 30 + 2, 3)
    assert grid[2, 2, 0] == 255 and grid[0, 0, 0] == 128


def test_self_check_reports_every_model_and_isolates_a_broken_one(tiny_checkpoints, monkeypatch):
    from genmodels import registry
    from genmodels.tasks import status

    (tiny_checkpoints / "wgan-gp-mnist" / "model.safetensors").write_bytes(b"\0" * 64)
    monkeypatch.setattr(status, "_rows", None)
    rows = {r["model"]: r for r in status.check_models()}
    assert set(rows) == set(registry.REGISTRY)
    assert rows["wgan-gp-mnist"]["ok"] is False and "is broken" in rows["wgan-gp-mnist"]["status"]
    assert rows["cyclegan-horse2zebra"]["ok"] is None  # from the Hub on first use: not downloaded by a check
    assert all(r["ok"] for name, r in rows.items() if name not in ("wgan-gp-mnist", "cyclegan-horse2zebra"))
    table = status.status_table()
    assert table.startswith(f"{len(rows) - 2} of {len(rows)} models loaded") and "✗" in table


def test_each_family_keeps_temperature_where_it_draws_well():
    """Pixel-by-pixel models draw blank tiles below t = 0.8: they sample at 0.8 and say so; a GAN takes 0.3 as is."""
    pixel, gan = tasks.sample_models(["pixelcnn-mnist", "dcgan-mnist"], n=1, temperature=0.3)
    assert pixel["temperature_used"] == 0.8 and "error" not in pixel
    assert "temperature_used" not in gan and "error" not in gan
    notes = dict((note, models) for models, note in tasks.sample.temperature_notes())
    assert any("0.8" in note and "PixelCNN" in models for note, models in notes.items())


def test_translation_models_say_what_they_take():
    choices = dict((name, title) for title, name in tasks.translate.model_choices())
    assert choices["cyclegan-horse2zebra"].endswith("takes a photo") and tasks.translate.takes_photos(
        "cyclegan-horse2zebra"
    )
    assert choices["cyclegan-mnist"].endswith("takes a digit") and not tasks.translate.takes_photos("stargan-mnist")


def test_comparison_table_reads_every_samplers_card():
    """One row per model that samples, its numbers from its card, then the real training images' reference row."""
    import json

    from .conftest import REPO

    table = sample_task.comparison()
    names = sample_task.sampleable_models()
    assert len(table["rows"]) == len(names) + 1 and table["rows"][-1][0] == "real training images (reference)"
    assert all(len(row) == len(table["headers"]) for row in table["rows"])
    for name, record in zip(names, table["records"], strict=True):
        card = json.loads((REPO / "checkpoints" / name / "metrics.json").read_text())
        assert record["model"] == name and record["parameters"] > 0 and 0 < record["checkpoint_mb"] < 10
        for key in ("fd", "precision", "recall", "confident_samples", "sample_64_seconds"):
            assert record[key] == card[key], (name, key)
    assert table["real_reference"]["precision"] > 0.8, "real images look real to the measure"


def test_likelihood_cell_says_exact_or_bound():
    assert sample_task.likelihood_text({"bits_per_dim": 1.4812}) == "1.48 bits/dim (exact)"
    assert sample_task.likelihood_text({"nll_nats": 90.44}) == "90.4 nats (exact)"
    assert sample_task.likelihood_text({"iwae_nats": 91.4, "elbo_nats": 96.3}).startswith("≤ 91.4 nats")
    assert sample_task.likelihood_text({"fd": 3.0}) == "none (implicit model)"
