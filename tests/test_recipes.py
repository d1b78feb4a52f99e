"""Every catalogued model has a recipe that trains it, measures it and words its badge: parametrised over the
registry with tiny configs, so a new family is covered by adding its entry."""

from __future__ import annotations

import pytest
import torch

from genmodels import registry
from genmodels.models.base import cpu_generator, init_parameters
from genmodels.recipes import HeldOut, Recipe
from genmodels.recipes.gan import ema

ENTRIES = list(registry.REGISTRY.values())
TRAINABLE = [e for e in ENTRIES if e.trainable]


def tiny(entry: registry.ModelEntry, seed: int = 0) -> torch.nn.Module:
    return init_parameters(entry.cls(**entry.tiny_config), cpu_generator(seed))


def few_digits(n: int = 48, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Stroke-like random images in [0, 1] and labels covering every class."""
    g = cpu_generator(seed)
    x = (torch.rand(n, 1, 28, 28, generator=g) < torch.rand(n, 1, 1, 1, generator=g) * 0.4).float()
    return x, torch.arange(n) % 10


def held_out(n: int = 60) -> HeldOut:
    x, y = few_digits(n, seed=1)
    return HeldOut(x, y, lambda: tiny(registry.get(registry.CLASSIFIER)).eval(), samples=12)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_every_entry_points_to_a_recipe(entry):
    recipe = entry.recipe
    assert isinstance(recipe, Recipe) and recipe.family
    assert entry.trainable == (recipe.train is not None and not entry.hub_file)
    if entry.trainable:
        assert recipe.evaluate is not None and recipe.epochs > 0
    # the full config and the tiny one both build the class
    entry.cls(**recipe.config)
    entry.cls(**recipe.tiny_config)


@pytest.mark.parametrize("entry", TRAINABLE, ids=lambda e: e.name)
def test_recipe_trains_a_step_and_changes_the_weights(entry):
    model = tiny(entry)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = few_digits(160)  # a batch or more for every loop (the classifier takes 128 at a time)
    stats = entry.recipe.train(model, x, y, 1, 0)
    assert isinstance(stats, dict)
    changed = [k for k, v in model.state_dict().items() if v.is_floating_point() and not torch.equal(v, before[k])]
    assert changed, "one epoch of the recipe should move some weights"
    assert all(torch.isfinite(v).all() for v in model.state_dict().values() if v.is_floating_point())


@pytest.mark.parametrize("entry", TRAINABLE, ids=lambda e: e.name)
def test_recipe_evaluates_a_few_images_and_words_a_badge(entry):
    model = tiny(entry).eval()
    metrics = entry.recipe.evaluate(model, held_out())
    assert metrics and all(isinstance(k, str) for k in metrics)
    numbers = [v for v in metrics.values() if isinstance(v, float)]
    assert numbers and all(v == v and abs(v) != float("inf") for v in numbers), metrics  # no NaN or ∞ in JSON
    text = entry.recipe.badge(metrics)
    assert isinstance(text, str) and any(ch.isdigit() for ch in text), text


def test_evaluation_loads_the_classifier_only_when_needed():
    loads = []
    test = held_out()
    test.load_classifier = lambda: loads.append(1) or tiny(registry.get(registry.CLASSIFIER)).eval()
    registry.get("pixelcnn-mnist").recipe.evaluate(tiny(registry.get("pixelcnn-mnist")).eval(), test)
    assert loads == []
    registry.get("dcgan-mnist").recipe.evaluate(tiny(registry.get("dcgan-mnist")).eval(), test)
    assert loads == [1], "loaded once, reused for samples and test images"


def test_initial_weights_come_from_the_generator_not_the_global_state():
    entry = registry.get("vqvae-mnist")
    torch.manual_seed(1)
    a = tiny(entry, seed=5)
    torch.manual_seed(2)
    b = tiny(entry, seed=5)
    c = tiny(entry, seed=6)
    for (name, va), vb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(va, vb), name
    assert not torch.equal(a.quantizer.codebook.weight, c.quantizer.codebook.weight)
    bound = 1 / a.quantizer.codebook.num_embeddings  # the codebook keeps its own scheme
    assert a.quantizer.codebook.weight.abs().max() <= bound


def test_capability_queries_follow_the_recipes():
    assert registry.names(autoregressive=True) == ["pixelcnn-mnist", "gated-pixelcnn-mnist", "pixelrnn-mnist"]
    assert registry.names(conditional=True) == ["gated-pixelcnn-mnist"]
    assert set(registry.names(translates=True)) == {"cyclegan-mnist", "stargan-mnist", "cyclegan-horse2zebra"}
    assert registry.CLASSIFIER not in registry.names(samples=True)


def test_gan_generator_ends_as_the_moving_average_of_its_weights():
    average = ema(0.999)
    old, new = torch.zeros(3), torch.ones(3)
    assert torch.allclose(average(old, new, torch.tensor(0)), torch.full((3,), 0.9))  # at first 1/10 of the old kept
    assert torch.allclose(average(old, new, torch.tensor(10**6)), torch.full((3,), 0.001))  # the decay, once warm
    entry = registry.get("dcgan-mnist")
    model = tiny(entry)
    x, y = few_digits(160)
    stats = entry.recipe.train(model, x, y, 1, 0)
    assert stats["generator_weights"] == "moving average, decay 0.999"
    norm = model.project[2]  # batch-norm statistics measured afresh for the averaged weights, not left at 0 and 1
    assert not torch.equal(norm.running_mean, torch.zeros_like(norm.running_mean))
    assert not torch.equal(norm.running_var, torch.ones_like(norm.running_var))
