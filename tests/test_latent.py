"""The Latent tab's maths and work: slerp and lerp, arithmetic, GAN inversion, directions from data, the BiGAN's
encoder, the autoencoders (the linear one against PCA), and every bad input answered in our words."""

from __future__ import annotations

import math
import re

import pytest
import torch
from PIL import Image

from genmodels import data, hub, latent, registry
from genmodels.models.base import cpu_generator
from genmodels.recipes.autoencoder import angle_to_pca, principal_subspace, subspace_angle_degrees
from genmodels.recipes.common import classify
from genmodels.tasks import latent as tasks

from .conftest import DATA_ROOT, REPO

DIGIT = str(REPO / "assets" / "examples" / "vae-digit-3.png")


def test_slerp_follows_the_formula_and_keeps_equal_norms():
    g = cpu_generator(0)
    a, b = torch.randn(64, generator=g, dtype=torch.float64), torch.randn(64, generator=g, dtype=torch.float64)
    b = b * a.norm() / b.norm()
    t = torch.linspace(0, 1, 9, dtype=torch.float64)
    path = latent.slerp(a, b, t)
    omega = math.acos(torch.dot(a, b).item() / (a.norm() * b.norm()).item())
    for ti, p in zip(t.tolist(), path, strict=True):
        expected = (math.sin((1 - ti) * omega) * a + math.sin(ti * omega) * b) / math.sin(omega)
        torch.testing.assert_close(p, expected)
    torch.testing.assert_close(path.norm(dim=1), torch.full((9,), a.norm().item(), dtype=torch.float64))
    assert torch.allclose(path[0], a) and torch.allclose(path[-1], b)
    # the lerp passes inside the sphere: its middle is shorter than either end
    assert latent.lerp(a, b, t)[4].norm() < 0.9 * a.norm()
    # parallel endpoints have no one great circle: the lerp
    torch.testing.assert_close(latent.slerp(a, 2 * a, t), latent.lerp(a, 2 * a, t))


def test_ink_and_slant_measure_what_they_say():
    blank = torch.zeros(1, 1, 28, 28)
    thin, thick, leaning = blank.clone(), blank.clone(), blank.clone()
    thin[..., 4:24, 13:15] = 1
    thick[..., 4:24, 11:17] = 1
    for row in range(4, 24):  # a stroke whose top is to the right: leaning right, like italics
        col = 20 - (row - 4) // 2
        leaning[..., row, col : col + 2] = 1
    assert latent.ink(thick) > latent.ink(thin)
    assert abs(latent.slant(thin).item()) < 1e-6 and latent.slant(leaning).item() == pytest.approx(0.5, abs=0.05)


def test_statistics_find_the_direction_that_moves_the_attribute():
    """Synthetic latents whose first coordinate sets the ink: the ink direction points along it."""
    g = cpu_generator(1)
    n = 4000
    z = torch.randn(n, 5, generator=g)
    y = torch.arange(n) % 10
    x = torch.zeros(n, 1, 28, 28)
    x[:, 0, 10:18, 10:18] = torch.sigmoid(z[:, 0])[:, None, None]
    stats = latent.statistics(z, x, y)
    d = stats["ink"]
    assert d[0] > 1.5 and d[1:].abs().max() < 0.3
    assert stats["class_means"].shape == (10, 5)
    scaled = latent.statistics(z, x, y, typical_norm=True)["class_means"]
    assert scaled.norm(dim=1).min() > 1.5 > stats["class_means"].norm(dim=1).max()


def test_gan_inversion_lowers_the_reconstruction_error():
    steps = list(tasks.invert_one(*model_of("dcgan-mnist"), your_digit(), 60, seed=0))
    errors = [s["mse"] for s in steps]
    assert steps[0]["step"] == 0 and steps[-1]["step"] == 60
    assert errors[-1] < 0.5 * errors[0]


def test_inversion_touches_no_parameter_gradient():
    entry, model = model_of("dcgan-mnist")
    list(tasks.invert_one(entry, model, your_digit(), 3, seed=0))
    assert all(p.grad is None for p in model.parameters())


def model_of(name):
    return registry.get(name), hub.load(name)


def your_digit():
    return tasks.your_digit(DIGIT)


def test_a_minus_a_plus_c_is_c():
    for name in ("vae-mnist", "dcgan-mnist", "glow-mnist", "vqvae-mnist"):
        out = tasks.arithmetic(name, "seed", 3, "seed", 3, "mean of 7", 0)
        c, result = (out["images"][i][0] for i in (2, 3))
        assert (c == result).all(), name
    a = tasks.latent_of("vae-mnist", "seed", 5)
    c = tasks.latent_of("vae-mnist", "mean of 2")
    assert torch.equal(a - a + c, c)


def test_walk_frames_are_read_and_the_gif_has_one_frame_per_step():
    out = tasks.walk("vae-mnist", "mean of 1", 0, "your digit", 0, 6, DIGIT)
    assert len(out["lerp"]) == len(out["slerp"]) == 6
    assert all(re.fullmatch(r"\d · \d+%", text) for _, text in out["lerp"] + out["slerp"])
    with Image.open(out["gif"]) as gif:
        assert gif.n_frames == 6
    assert out["seconds_per_frame"] > 0 and "posterior mean" in out["about"]


def test_flow_encode_decode_is_exact_through_the_tab():
    *_, results = tasks.encode_stream(["glow-mnist", "realnvp-mnist", "nice-mnist"], DIGIT)
    for r in results:
        assert r["mse"] < 1e-8, r["model"]


def test_a_flow_walk_keeps_your_digit_in_float64_to_its_last_frame():
    """float32 rounding can miss a digit a flow squeezes hard (recipes/flow.py; test_flows checks all 1,000 test
    digits), so a flow's z stays float64 from the encoder to the walk's last frame, a float32 seed at the other end."""
    a, b = tasks.latent_of("glow-mnist", "seed", 0), tasks.latent_of("glow-mnist", "your digit", 0, DIGIT)
    assert b.dtype == torch.float64
    t = torch.linspace(0, 1, 3)
    for walk in (latent.lerp(a, b, t), latent.slerp(a, b, t)):
        assert walk.dtype == torch.float64 and torch.equal(walk[-1], b)


def test_encode_streams_the_gan_optimisation_and_keeps_every_model():
    stream = list(tasks.encode_stream(["dcgan-mnist", "bigan-mnist", "vae-mnist"], DIGIT, steps=40))
    assert any("step" in s[-1] for s in stream), "the optimisation's progress streams"
    final = {r["model"]: r for r in stream[-1]}
    assert set(final) == {"dcgan-mnist", "bigan-mnist", "vae-mnist"}
    assert "optimisation" in final["dcgan-mnist"]["method"] and "one forward pass" in final["bigan-mnist"]["method"]
    assert all(r["reconstruction"].shape == (112, 112, 3) for r in final.values())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vae-mnist", "dcgan-mnist"])
def test_thickness_direction_raises_the_ink_monotonically(name):
    for seed in range(3):
        inks = [tasks.direction(name, "seed", seed, "thickness", a)["ink"] for a in (-2, -1, 0, 1, 2)]
        assert inks == sorted(inks) and inks[-1] > 1.5 * inks[0], (seed, inks)


@pytest.mark.slow
def test_bigan_encoder_keeps_the_digit_and_beats_random_z():
    x, y = data.load_mnist(DATA_ROOT, "test")
    x = data.to_unit(x)
    model, classifier = hub.load("bigan-mnist"), hub.load(registry.CLASSIFIER)
    with torch.no_grad():
        recon = model.decode(model.encode(x))
        random = model.sample(len(x), cpu_generator(1))
    _, probs = classify(classifier, recon)
    kept = (probs.argmax(1) == y).float().mean().item()
    assert kept >= 0.7, kept
    assert (recon - x).pow(2).mean() < (random - x).pow(2).mean()


@pytest.mark.slow
def test_linear_autoencoder_spans_pca_subspace():
    x = data.to_unit(data.load_mnist(DATA_ROOT, "train")[0])
    model = hub.load("linear-ae-mnist")
    assert angle_to_pca(model, x) < 5.0


def test_subspace_angle():
    basis = torch.eye(6)[:, :2]
    assert subspace_angle_degrees(basis, basis @ torch.tensor([[2.0, 1.0], [0.0, 3.0]])) < 1e-6
    turned = torch.stack([torch.eye(6)[0], torch.eye(6)[2]], 1)
    assert subspace_angle_degrees(basis, turned) == pytest.approx(90.0)
    g = cpu_generator(0)
    spread = torch.tensor([5.0, 4.0] + [1.0] * 14).reshape(1, 1, 4, 4)
    points = torch.randn(5000, 1, 4, 4, generator=g) * spread + 7.0  # PCA centres the data first
    top = principal_subspace(points, 2)
    assert subspace_angle_degrees(top, torch.eye(16, dtype=torch.float64)[:, :2]) < 5


def test_latent_map_and_points():
    out = tasks.latent_map("vae2d-mnist")
    assert len(out["figure"].validated().data) == 10  # plotly's own validators accept it
    assert sum(len(trace["x"]) for trace in out["figure"].data) == 1000
    assert out["manifold"].shape == (28 * tasks.MAP_GRID, 28 * tasks.MAP_GRID, 3)
    assert "PCA" in tasks.latent_map("linear-ae-mnist")["note"]
    point = tasks.latent_point("ae2d-mnist", 0.5, -1.0)
    assert point["picture"].shape == (224, 224, 3) and re.fullmatch(r"\d · \d+%", point["caption"])


def test_a_click_on_the_manifold_picks_its_tile():
    extent = [-2.0, 2.0, -1.0, 3.0]
    assert tasks.manifold_point(extent, 0, 0) == (-2.0, 3.0)  # top left: lowest z1, highest z2
    last = 28 * tasks.MAP_GRID - 1
    assert tasks.manifold_point(extent, last, last) == (2.0, -1.0)
    assert tasks.manifold_point(extent, 28 * 7 + 3, 28 * 7 + 27) == (0.0, 1.0)  # the middle tile


def test_denoising_autoencoder_cleans_noise():
    out = tasks.denoise(DIGIT, 0.4, 0)
    assert out["cleaned_error"] < 0.5 * out["noisy_error"]


def test_a_missing_checkpoint_or_statistics_file_breaks_one_model_only(tmp_path, monkeypatch):
    monkeypatch.setenv("GENMODELS_CHECKPOINTS", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    for name in ("vae-mnist", registry.CLASSIFIER):
        (tmp_path / name).symlink_to(REPO / "checkpoints" / name)
    *_, results = tasks.encode_stream(["dcgan-mnist", "vae-mnist"], DIGIT, steps=10)
    by_name = {r["model"]: r for r in results}
    assert "no checkpoint" in by_name["dcgan-mnist"]["error"] and "error" not in by_name["vae-mnist"]
    with pytest.raises(ValueError, match="class means and directions are missing"):
        latent.load("glow-mnist")


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: tasks.walk("pixelcnn-mnist"), "has no latent space"),
        (lambda: tasks.walk("vae-mnist", "sideways"), "Each operand must be one of"),
        (lambda: tasks.walk("vae-mnist", frames=1000), "Frames must be from 2 to 24"),
        (lambda: tasks.walk("vae-mnist", "your digit"), "Give your digit first"),
        (lambda: tasks.walk("vae-mnist", "seed", -4), "Seed must be from 0"),
        (lambda: tasks.arithmetic("vae-mnist", "mean of 12"), "Each operand must be one of"),
        (lambda: tasks.direction("vae-mnist", which="up"), "Direction must be one of"),
        (lambda: tasks.direction("vae-mnist", amount=float("nan")), "Amount must be a number"),
        (lambda: tasks.direction("vae-mnist", amount=99), "Amount must be from -3 to 3"),
        (lambda: list(tasks.encode_stream([], DIGIT)), "Choose at least one model"),
        (lambda: list(tasks.encode_stream(["vae-mnist"], DIGIT, steps=10**9)), "Optimisation steps must be"),
        (lambda: list(tasks.encode_stream(["vae-mnist"], str(REPO / "README.md"))), "not a picture"),
        (lambda: tasks.latent_map("vae-mnist"), "has no latent space here. Choose from: vae2d-mnist"),
        (lambda: tasks.latent_point("ae2d-mnist", "left", 0), "z1 must be a number"),
        (lambda: tasks.denoise(DIGIT, noise=-1), "Noise must be from 0 to 1"),
        (lambda: tasks.about("nope"), "has no latent space"),
    ],
)
def test_bad_input_is_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()
