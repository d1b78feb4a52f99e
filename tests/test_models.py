"""Contracts every catalogued model keeps, parametrised over the registry with tiny configs."""

from __future__ import annotations

import inspect

import pytest
import torch

from genmodels import registry
from genmodels.models.autoregressive import AutoregressiveModel
from genmodels.models.base import LatentModel, LikelihoodModel, cpu_generator, standard_normal

ENTRIES = list(registry.REGISTRY.values())
GENERATIVE = [e for e in ENTRIES if e.recipe.samples]


def tiny(entry: registry.ModelEntry) -> torch.nn.Module:
    torch.manual_seed(0)
    return entry.cls(**entry.tiny_config).eval()


def test_registry_names_match_dataset_suffix():
    for name, entry in registry.REGISTRY.items():
        assert entry.name == name
        assert entry.hub_repo.endswith("/" + name) or entry.hub_file  # a foreign checkpoint keeps its own repo
        assert name.endswith(entry.dataset) or name.startswith(entry.dataset)


def test_unknown_name_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown model 'nope'.*dcgan-mnist"):
        registry.get("nope")


@pytest.mark.parametrize("entry", GENERATIVE, ids=lambda e: e.name)
def test_sample_shape_range_and_seed(entry):
    model = tiny(entry)
    a = model.sample(5, cpu_generator(3))
    b = model.sample(5, cpu_generator(3))
    c = model.sample(5, cpu_generator(4))
    assert a.shape == (5, *model.image_shape)
    assert a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, b), "same seed must give identical images"
    assert not torch.equal(a, c), "different seeds should differ"


@pytest.mark.parametrize("entry", [e for e in GENERATIVE if issubclass(e.cls, LatentModel)], ids=lambda e: e.name)
def test_latent_contract(entry):
    model = tiny(entry)
    assert isinstance(model, LatentModel)
    z = model.prior_sample(3, cpu_generator(0))
    assert z.shape == (3, *model.latent_shape)
    x = model.decode(z)
    assert x.shape == (3, *model.image_shape)
    assert torch.allclose(model.sample(3, cpu_generator(0)), x.clamp(0, 1))


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_save_load_round_trip(entry, tmp_path):
    model = tiny(entry)
    model.save_pretrained(tmp_path)
    loaded = entry.cls.from_pretrained(tmp_path, strict=True).eval()
    x = torch.rand(2, 1, 28, 28)
    if entry.recipe.samples:
        assert torch.equal(model.sample(2, cpu_generator(1)), loaded.sample(2, cpu_generator(1)))
    elif entry.recipe.translates:
        a, b = model.domains[0], model.domains[-1]
        x = torch.rand(2, model.channels, 28, 28)
        assert torch.equal(model.translate(x, a, b), loaded.translate(x, a, b))
    else:
        assert torch.equal(model(x), loaded(x))
    # the constructor kwargs are the config: they come back from config.json
    assert {k: loaded._hub_mixin_config[k] for k in entry.tiny_config} == entry.tiny_config


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_declared_capabilities_match_the_model(entry):
    """What a recipe declares is what the model does: the app reads the declaration and never probes the model."""
    recipe, model = entry.recipe, tiny(entry)
    assert entry.family == recipe.family and not hasattr(type(model), "family"), "the family is stated once"
    assert recipe.samples == hasattr(model, "sample")
    assert bool(recipe.likelihood) == isinstance(model, LikelihoodModel)
    assert recipe.likelihood in ("", "exact", "bound")
    assert recipe.autoregressive == isinstance(model, AutoregressiveModel)
    assert recipe.conditional == (recipe.autoregressive and model.num_classes > 0)
    assert recipe.encodes == (hasattr(model, "encode") and type(model).encode is not LatentModel.encode)
    assert recipe.translates == (hasattr(model, "translate") and bool(entry.domains))
    if recipe.truncation:
        assert "truncation" in inspect.signature(model.sample).parameters


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.recipe.likelihood], ids=lambda e: e.name)
def test_likelihood_contract(entry):
    """One signature for every model: log_prob(x, *, condition=None) -> (n,) nats."""
    model = tiny(entry)
    x = (torch.rand(4, 1, 28, 28) > 0.5).float()
    condition = torch.tensor([0, 3, -1, 9]) if entry.recipe.conditional else None
    log_p = model.log_prob(x, condition=condition)
    assert log_p.shape == (4,) and torch.isfinite(log_p).all()
    assert (log_p <= 0).all(), "binary data: a log-likelihood bound is at most 0"
    assert inspect.signature(model.log_prob).parameters["condition"].kind is inspect.Parameter.KEYWORD_ONLY


def test_iwae_bound_is_tighter_than_elbo():
    entry = registry.get("vae-mnist")
    model = tiny(entry)
    x = (torch.rand(8, 1, 28, 28) > 0.5).float()
    with torch.no_grad():
        elbo = torch.stack([model.log_prob(x, generator=cpu_generator(s)) for s in range(20)]).mean(0)
        iwae = model.iwae_bound(x, 50, cpu_generator(0))
    assert (iwae > elbo).float().mean() >= 0.75


def test_truncation_bounds_latents_and_keeps_stream_length():
    z = standard_normal((2000,), cpu_generator(0), truncation=0.5)
    assert z.abs().max() <= 0.5
    assert z.std() < 0.35  # much narrower than N(0, 1)
    g = cpu_generator(0)
    standard_normal((7,), g, truncation=1.0)
    tail = torch.rand(1, generator=g)
    g2 = cpu_generator(0)
    torch.rand(7, generator=g2, dtype=torch.float64)
    assert torch.equal(tail, torch.rand(1, generator=g2))


def test_temperature_scales_latents():
    base = standard_normal((100,), cpu_generator(0))
    assert torch.allclose(standard_normal((100,), cpu_generator(0), temperature=0.5), 0.5 * base)


def test_classifier_features_and_logits():
    entry = registry.get("mnist-classifier")
    model = tiny(entry)
    x = torch.rand(3, 1, 28, 28)
    assert model.features(x).shape == (3, entry.tiny_config["feature_dim"])
    assert model(x).shape == (3, 10)
