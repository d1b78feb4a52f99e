"""The README cannot rot: its Python runs, its test command is what CI runs, and its metrics are the cards'."""

from __future__ import annotations

import json
import re

import pytest

from genmodels import registry

from .conftest import REPO

README = (REPO / "README.md").read_text()


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_python_examples_run():
    blocks = code_blocks("python")
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


def test_ci_runs_the_readme_test_command():
    commands = [line for block in code_blocks("bash") for line in block.splitlines() if "pytest" in line]
    assert commands == ["pip install -r requirements-dev.txt && python -m pytest"]
    assert commands[0] in (REPO / ".ci" / "run").read_text()
    assert "pip install -r requirements.txt && python app.py" in README


@pytest.mark.parametrize("name", [n for n, e in registry.REGISTRY.items() if not e.hub_file])
def test_model_table_matches_the_cards(name):
    metrics = json.loads((REPO / "checkpoints" / name / "metrics.json").read_text())
    (row,) = [line for line in README.splitlines() if line.startswith(f"| `{name}` |")]
    if "fd" in metrics and not registry.get(name).recipe.likelihood:  # an implicit model: FD is its headline
        assert f"FD {metrics['fd']:.2f}" in row and f"classes ≥ {min(metrics['class_histogram']):.1%}" in row
    if "elbo_nats" in metrics:
        assert f"−ELBO {metrics['elbo_nats']:.1f}" in row and f"IWAE {metrics['iwae_nats']:.1f}" in row
    if "accuracy" in metrics:
        assert f"accuracy {metrics['accuracy']:.1%}" in row
    if "class_kept_thin_to_thick" in metrics:
        kept = f"class kept {metrics['class_kept_thin_to_thick']:.1%} / {metrics['class_kept_thick_to_thin']:.1%}"
        cycle = f"cycle L1 {metrics['cycle_l1_thin_thick_thin']:.3f} / {metrics['cycle_l1_thick_thin_thick']:.3f}"
        assert kept in row and cycle in row
    if "nll_nats" in metrics:
        assert f"NLL {metrics['nll_nats']:.1f} nats" in row
    if "bits_per_dim" in metrics:
        assert f"{metrics['bits_per_dim']:.2f} bits/dim" in row
        assert f"{metrics['confident_samples']:.0%} of samples at t = {metrics['sample_temperature']:g}" in row
    if "reconstruction_mse" in metrics:
        assert f"MSE {metrics['reconstruction_mse']:.4f}" in row and f"digit kept {metrics['class_kept']:.1%}" in row
    if "encoder_class_kept" in metrics:
        assert f"G(E(x)) keeps the digit {metrics['encoder_class_kept']:.1%}" in row
    if "denoised_mse" in metrics:
        assert f"{metrics['noisy_mse']:.4f} → {metrics['denoised_mse']:.4f}" in row
    if "nll_bound_nats" in metrics:
        parts = f"recon {metrics['recon_bce_nats']:.1f} + prior {metrics['prior_nll_nats']:.1f}"
        assert f"NLL ≤ {metrics['nll_bound_nats']:.1f} nats ({parts})" in row
        assert f"{metrics['confident_samples']:.1%} of samples" in row


def test_space_front_matter():
    """The README's YAML header makes the repository a Gradio Space: the SDK, its version, the app file, Python."""
    header = README.split("---\n")[1]
    fields = dict(line.split(": ", 1) for line in header.strip().splitlines())
    assert fields["sdk"] == "gradio" and (REPO / fields["app_file"]).is_file()
    import gradio

    assert fields["sdk_version"] == gradio.__version__, "the Space should run the Gradio the tests ran"
    assert fields["python_version"].strip('"') in ("3.10", "3.11", "3.12")


def test_comparison_table_is_the_apps():
    """The README's comparison table is the Sample tab's, row for row (both read the model cards)."""
    from genmodels.tasks.sample import comparison

    table = comparison()
    for row in [table["headers"], *table["rows"]]:
        line = "| " + " | ".join(row) + " |"
        assert line in README, line
