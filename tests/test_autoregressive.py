"""The autoregressive contract, on every AR model in the registry (tiny configs): causality, the blind spot, and
the cached sampler equal to the naive one for the same random numbers."""

from __future__ import annotations

import pytest
import torch

from genmodels import registry
from genmodels.models.autoregressive import AutoregressiveModel, naive_sample, receptive_field, sample_rows
from genmodels.models.gated_pixelcnn import GatedPixelCNN
from genmodels.models.pixelcnn import PixelCNN
from genmodels.models.vqvae import VQVAE


def ar_models() -> list[tuple[str, AutoregressiveModel]]:
    """Every autoregressive network the registry ships, tiny and in float64: the AR models and the VQ-VAE's prior."""
    out = []
    for entry in registry.REGISTRY.values():
        torch.manual_seed(0)
        model = entry.cls(**entry.tiny_config)
        if isinstance(model, VQVAE):
            model = model.prior
        if isinstance(model, AutoregressiveModel):
            out.append((entry.name, model.double().eval()))
    return out


AR = ar_models()
IDS = [name for name, _ in AR]


def test_every_autoregressive_family_is_covered():
    assert {type(m).__name__ for _, m in AR} == {"PixelCNN", "GatedPixelCNN", "PixelRNN"}
    assert any(m.categories > 1 for _, m in AR), "the VQ-VAE prior (categorical) is served by the same sampler"


def random_input(model: AutoregressiveModel, n: int, seed: int) -> torch.Tensor:
    C, H, W = model.image_shape
    u = torch.rand((n, C, H, W), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return (u * max(model.categories, 2)).floor()


@pytest.mark.parametrize("name, model", AR, ids=IDS)
def test_cached_sampler_equals_naive(name, model):
    C, H, W = model.image_shape
    n = 3
    u = torch.rand((n, H, W), generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    condition = torch.tensor([2, -1, 7]) if model.num_classes else None
    *_, cached = sample_rows(model, n, uniforms=u, condition=condition)
    naive = naive_sample(model, n, u, condition=condition)
    assert torch.equal(cached, naive)
    assert cached.min() >= 0 and cached.max() <= max(model.categories - 1, 1)
    assert len(cached.unique()) > 1


def hole(H: int, W: int, where: str) -> torch.Tensor:
    mask = torch.zeros((1, 1, H, W))
    if where == "mid-row":  # the sampler's cache is primed on the rows down to the first hidden pixel only
        mask[..., H // 2, W // 3 :] = 1
        mask[..., H // 2 + 1 :, : W // 2] = 1
    elif where == "last pixel":
        mask[..., -1, -1] = 1
    else:  # "first row"
        mask[..., 0, 1] = 1
    return mask


@pytest.mark.parametrize("where", ["mid-row", "last pixel", "first row"])
@pytest.mark.parametrize("name, model", AR, ids=IDS)
def test_masked_completion_keeps_known_pixels_and_equals_naive(name, model, where):
    C, H, W = model.image_shape
    known = random_input(model, 2, 3)
    mask = hole(H, W, where)
    u = torch.rand((2, H, W), generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    *_, cached = sample_rows(model, 2, uniforms=u, mask=mask, known=known)
    naive = naive_sample(model, 2, u, mask=mask, known=known)
    assert torch.equal(cached, naive)
    # one known image for both answers: the cache is primed on one image and copied
    *_, shared = sample_rows(model, 2, uniforms=u, mask=mask, known=known[:1])
    assert torch.equal(shared, naive_sample(model, 2, u, mask=mask, known=known[:1]))
    keep = ~mask.bool().expand_as(known)
    assert torch.equal(cached[keep], known[keep])
    # an empty mask changes nothing
    *_, same = sample_rows(model, 2, uniforms=u, mask=torch.zeros((1, 1, H, W)), known=known)
    assert torch.equal(same, known)


@pytest.mark.parametrize("name, model", AR, ids=IDS)
def test_rows_stream_in_order(name, model):
    C, H, W = model.image_shape
    frames = list(sample_rows(model, 2, torch.Generator().manual_seed(0)))
    assert len(frames) == H


@pytest.mark.parametrize("name, model", AR, ids=IDS)
def test_no_pixel_depends_on_itself_or_later_pixels(name, model):
    model = model.float() if model.categories == 1 else model
    C, H, W = model.image_shape
    for i, j in [(0, 0), (H // 2, W // 2), (H - 1, W - 1), (1, W - 1)]:
        if model.categories > 1:
            # codes are embedded (no gradient to an index): change each later code and see the logits stay put
            x = random_input(model, 1, 0)
            base = model(x)[0, :, i, j]
            for p in range(i * W + j, H * W):
                y = x.clone()
                y[0, 0, p // W, p % W] = (y[0, 0, p // W, p % W] + 1) % model.categories
                assert torch.equal(model(y)[0, :, i, j], base)
            continue
        grad = receptive_field(model, i, j).flatten()
        assert (grad[i * W + j :] == 0).all(), f"pixel ({i}, {j}) sees itself or a later pixel"
        if i * W + j > 0:
            assert grad[: i * W + j].sum() > 0
    model.double()


def test_pixelcnn_has_the_blind_spot_and_gated_does_not():
    torch.manual_seed(0)
    pixelcnn = PixelCNN(channels=8, layers=4).eval()
    gated = GatedPixelCNN(channels=8, layers=4, kernel=3, num_classes=0).eval()
    i, j = 14, 14
    blind = receptive_field(pixelcnn, i, j)
    # 7×7 type A then four 3×3 type B: the pixel at (i − 2, j + 5) is within reach by extent, yet unseen —
    # the cone of masked kernels grows one column right per row up, never reaching above right.
    assert blind[i - 1, j + 3] > 0 and blind[i - 2, j + 5] == 0 and blind[i - 4, j + 7] == 0
    assert blind[i - 3, j + 3] > 0 and blind[i - 5, j - 5] > 0
    full = receptive_field(gated, i, j)
    # four gated layers with 3-wide kernels: every earlier pixel within 4 rows up, 4 columns either side, is seen
    for r in range(i - 4, i):
        for c in range(j - 4, j + 5):
            assert full[r, c] > 0, (r, c)
    assert (full[i, j - 4 : j] > 0).all()


@pytest.mark.parametrize("name, model", AR, ids=IDS)
def test_log_prob_is_the_sum_of_the_conditionals(name, model):
    x = random_input(model, 2, 5)
    logits = model(x)
    log_p = model.log_prob(x)
    if model.categories == 1:
        manual = x * torch.nn.functional.logsigmoid(logits) + (1 - x) * torch.nn.functional.logsigmoid(-logits)
    else:
        manual = logits.log_softmax(1).gather(1, x.long())
    assert torch.allclose(log_p, manual.flatten(1).sum(1))
    assert (log_p < 0).all()


def test_temperature_must_be_positive():
    _, model = AR[0]
    with pytest.raises(ValueError, match="Temperature"):
        model.sample(1, temperature=0)


def test_class_condition_changes_the_samples():
    torch.manual_seed(0)
    model = GatedPixelCNN(channels=8, layers=2, kernel=3).eval()
    for layer in model.layers:
        torch.nn.init.normal_(layer.cond.weight, std=3.0)
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    a = model.sample(2, g(), condition=torch.tensor([1, 1]))
    b = model.sample(2, g(), condition=torch.tensor([8, 8]))
    c = model.sample(2, g(), condition=torch.tensor([1, 1]))
    assert torch.equal(a, c) and not torch.equal(a, b)


def test_vqvae_straight_through_and_codes():
    torch.manual_seed(0)
    model = VQVAE(codes=8, code_dim=4, width=4, prior_channels=8, prior_layers=2)
    x = (torch.rand(3, 1, 28, 28) < 0.3).float()
    logits, idx, codebook_loss, commitment_loss = model(x)
    assert logits.shape == x.shape and idx.shape == (3, 7, 7) and idx.max() < 8
    (logits.sum() + codebook_loss + commitment_loss).backward()
    assert model.encoder[0].weight.grad.abs().sum() > 0, "gradients pass the quantiser straight through"
    assert model.quantizer.codebook.weight.grad.abs().sum() > 0
    codes = model.encode(x)
    z_e = model.encoder(x).permute(0, 2, 3, 1)
    d = (z_e.unsqueeze(-2) - model.quantizer.codebook.weight).pow(2).sum(-1)
    assert torch.equal(codes[:, 0], d.argmin(-1)), "each vector goes to its nearest code"
    bound = model.log_prob(x)
    assert torch.allclose(bound, -model.recon_bce(x) + model.prior.log_prob(codes.float()))


def test_ctrl_c_ends_autoregressive_training_and_keeps_the_best_epoch():
    from genmodels.models.base import cpu_generator, init_parameters

    entry = registry.get("pixelcnn-mnist")
    model = init_parameters(entry.cls(**entry.tiny_config), cpu_generator(0))
    score, calls = model.log_prob, []

    def interrupted_in_epoch_two(x, condition=None):
        calls.append(len(x))
        if len(calls) == 7:  # epoch 1: four full batches and the held-out score; epoch 2: Ctrl-C in its second batch
            raise KeyboardInterrupt
        return score(x, condition=condition)

    model.log_prob = interrupted_in_epoch_two
    x = torch.rand(160, 1, 28, 28, generator=cpu_generator(0))  # 10 held out, 150 in batches of 32
    stats = entry.recipe.train(model, x, torch.zeros(160, dtype=torch.long), 4, 0)
    assert calls[:5] == [32, 32, 32, 32, 10]
    assert stats["stopped_early_after_epochs"] == 1 and stats["best_epoch"] == 1


@pytest.mark.parametrize("name", ["pixelcnn-mnist", "gated-pixelcnn-mnist"])
def test_a_grown_net_starts_where_it_was_and_its_cached_sampler_still_holds(name):
    entry = registry.get(name)
    small = entry.cls(**entry.tiny_config).double().eval()
    depth = len(getattr(small, "blocks", getattr(small, "layers", None)))
    grown = small.deeper(depth + 2, torch.Generator().manual_seed(3)).double().eval()
    x = random_input(small, 4, seed=2)
    for condition in [None, torch.tensor([2, -1, 7, 0])] if small.num_classes else [None]:
        with torch.no_grad():
            assert torch.allclose(grown.log_prob(x, condition=condition), small.log_prob(x, condition=condition))
    with torch.no_grad():  # as training moves the new layers off the identity
        for p in grown.parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(4), dtype=p.dtype) * 0.05)
    u = torch.rand((2, 28, 28), generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    condition = torch.tensor([5, -1]) if grown.num_classes else None
    *_, cached = sample_rows(grown, 2, uniforms=u, condition=condition)
    assert torch.equal(cached, naive_sample(grown, 2, u, condition=condition))
