"""CycleGAN: the junyanz parameter layout, the two foreign checkpoint layouts, and which prefix translates which way."""

from __future__ import annotations

import pytest
import torch

from genmodels.models import cyclegan
from genmodels.models.cyclegan import CycleGAN, PatchDiscriminator, ResnetGenerator


def _random_generator(seed: int) -> ResnetGenerator:
    torch.manual_seed(seed)
    return ResnetGenerator().eval()


def test_generator_has_the_junyanz_parameter_names():
    state = ResnetGenerator().state_dict()
    # ReflectionPad, 7×7 conv, 2 downsamplings, 9 residual blocks (convs at conv_block.1 and .5), 2 transposed convs,
    # ReflectionPad, 7×7 conv: weight + bias each, and nothing else (instance norm has no parameters or statistics).
    expected = {"model.1": (64, 3, 7, 7), "model.4": (128, 64, 3, 3), "model.7": (256, 128, 3, 3)}
    expected |= {f"model.{i}.conv_block.{j}": (256, 256, 3, 3) for i in range(10, 19) for j in (1, 5)}
    expected |= {"model.19": (256, 128, 3, 3), "model.22": (128, 64, 3, 3), "model.26": (3, 64, 7, 7)}
    assert set(state) == {f"{k}.{p}" for k in expected for p in ("weight", "bias")}
    for key, shape in expected.items():
        assert tuple(state[f"{key}.weight"].shape) == shape, key
    disc = PatchDiscriminator().state_dict()
    assert {k for k in disc if k.endswith("weight")} == {f"model.{i}.weight" for i in (0, 2, 5, 8, 11)}


def test_tmabraham_layout_maps_prefixes_to_directions(tmp_path):
    g_a, g_b = _random_generator(1), _random_generator(2)
    state = {f"G_A.{k}": v for k, v in g_a.state_dict().items()} | {f"G_B.{k}": v for k, v in g_b.state_dict().items()}
    for prefix, seed in (("D_A.", 3), ("D_B.", 4)):
        torch.manual_seed(seed)
        state |= {prefix + k: v for k, v in PatchDiscriminator().state_dict().items()}
    path = tmp_path / "pytorch_model.bin"
    torch.save(state, path)  # a plain state dict, as on the Hub

    model = CycleGAN.from_tmabraham(torch.load(path, weights_only=True)).eval()
    x = torch.rand(1, 3, 32, 48)
    with torch.no_grad():
        # the one place the direction mapping is checked: G_B turns horses into zebras, G_A zebras into horses
        assert cyclegan.TMABRAHAM_PREFIXES == {("horse", "zebra"): "G_B.", ("zebra", "horse"): "G_A."}
        assert torch.equal(model.translate(x, "horse", "zebra"), (g_b(x * 2 - 1) + 1) / 2)
        assert torch.equal(model.translate(x, "zebra", "horse"), (g_a(x * 2 - 1) + 1) / 2)
    with pytest.raises(ValueError, match="horse ↔ zebra"):
        model.translate(x, "horse", "horse")


def test_junyanz_files_load_with_module_prefix_and_old_norm_statistics(tmp_path):
    g_ab, g_ba = _random_generator(5), _random_generator(6)
    old = {f"module.{k}": v for k, v in g_ab.state_dict().items()}
    old["module.model.2.running_mean"] = torch.zeros(64)  # what PyTorch < 0.4 saved for instance norm
    old["module.model.2.running_var"] = torch.ones(64)
    torch.save(old, tmp_path / "latest_net_G_A.pth")
    torch.save(g_ba.state_dict(), tmp_path / "latest_net_G_B.pth")

    model = CycleGAN.from_junyanz(
        torch.load(tmp_path / "latest_net_G_A.pth", weights_only=True),
        torch.load(tmp_path / "latest_net_G_B.pth", weights_only=True),
        ("horse", "zebra"),
    ).eval()
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(model.g_ab(x), g_ab(x)) and torch.equal(model.g_ba(x), g_ba(x))


def test_wrong_checkpoints_say_what_is_wrong(tmp_path):
    with pytest.raises(ValueError, match="No weights under 'G_B.'.*it has: model"):
        CycleGAN.from_tmabraham(ResnetGenerator().state_dict())
    truncated = {k: v for k, v in ResnetGenerator().state_dict().items() if "model.26" not in k}
    with pytest.raises(RuntimeError, match="Missing key"):
        CycleGAN.from_junyanz(truncated, truncated, ("a", "b"))
    torch.save(ResnetGenerator(), tmp_path / "pickled_module.pth")  # a pickled object, not a state dict
    with pytest.raises(Exception, match="Weights only load failed"):
        torch.load(tmp_path / "pickled_module.pth", weights_only=True)
