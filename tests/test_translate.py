"""The Translate tab's task: any picture in (sizes, modes, EXIF, broken files), aspect ratio kept, directions."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from genmodels import hub, registry
from genmodels.models.cyclegan import CycleGAN
from genmodels.tasks import translate as tr

from .conftest import REPO

HORSES = REPO.parent / "shared" / "data" / "horses"


@pytest.fixture
def tiny_translators(tmp_path, monkeypatch):
    """The bundled digit model tiny under a fresh checkpoints folder; a tiny horse ↔ zebra model in the loader's
    cache (its real weights are on the Hub)."""
    for name in ("cyclegan-mnist", "stargan-mnist"):
        entry = registry.get(name)
        torch.manual_seed(0)
        entry.cls(**entry.tiny_config).save_pretrained(tmp_path / entry.name)
    monkeypatch.setenv("GENMODELS_CHECKPOINTS", str(tmp_path))
    monkeypatch.setenv("GENMODELS_COMPILE", "0")  # the compiled path is the benchmark's business, not these tests'
    monkeypatch.setitem(hub._cache, "cyclegan-horse2zebra", CycleGAN(("horse", "zebra"), ngf=4, n_blocks=1).eval())
    return tmp_path


def photo(width: int, height: int, mode: str = "RGB") -> Image.Image:
    rng = np.random.default_rng(width * 1000 + height)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).convert(mode)


@pytest.mark.parametrize("size", [(640, 480), (300, 900), (257, 131)])
def test_aspect_ratio_is_kept(tiny_translators, size):
    out, back, heat, info, seen = tr.translate(photo(*size), "cyclegan-horse2zebra", "horse → zebra", 256)
    width, height = size
    assert min(out.shape[:2]) == 256 and out.shape == back.shape == heat.shape == seen.shape
    assert out.shape[1] / out.shape[0] == pytest.approx(width / height, rel=0.01)
    assert info["input_size"] == [width, height] and info["working_size"] == [out.shape[1], out.shape[0]]


def test_directions_and_their_errors(tiny_translators):
    assert tr.directions("cyclegan-horse2zebra") == ["horse → zebra", "zebra → horse"]
    assert tr.directions("cyclegan-mnist") == ["thin → thick", "thick → thin"]
    assert len(tr.directions("stargan-mnist")) == 6 and "medium → thin" in tr.directions("stargan-mnist")
    # StarGAN: one generator, told the target; each target gives a different picture
    outs = [tr.translate(photo(40, 40), "stargan-mnist", f"thin → {t}")[0] for t in ("medium", "thick")]
    assert outs[0].shape == (224, 224, 3) and not np.array_equal(*outs)
    model = hub.cached("cyclegan-horse2zebra")
    x = torch.rand(1, 3, 64, 64)
    out, *_ = tr.translate(photo(64, 64), "cyclegan-horse2zebra", "zebra → horse", 64)
    assert np.abs(out.astype(float) - tr._picture(model.translate(x, "zebra", "horse"))).mean() > 0  # ran that way
    with pytest.raises(ValueError, match="Direction must be one of horse → zebra, zebra → horse"):
        tr.translate(photo(64, 64), "cyclegan-horse2zebra", "thin → thick")
    with pytest.raises(ValueError, match="Unknown translation model"):
        tr.translate(photo(64, 64), "vae-mnist", "horse → zebra")
    with pytest.raises(ValueError, match="Working size must be from 64 to 512"):
        tr.translate(photo(64, 64), "cyclegan-horse2zebra", "horse → zebra", 4096)
    with pytest.raises(ValueError, match="Upload"):
        tr.translate(None, "cyclegan-horse2zebra", "horse → zebra")


def _saved(image: Image.Image, fmt: str, tmp_path: Path, **kw) -> Path:
    path = tmp_path / f"picture.{fmt.lower()}"
    image.save(path, fmt, **kw)
    return path


def test_odd_pictures_work_or_say_why(tiny_translators, tmp_path):
    run = lambda source: tr.translate(source, "cyclegan-horse2zebra", "horse → zebra", 64)  # noqa: E731
    # 1×1 works (scaled up to the working size)
    assert run(photo(1, 1))[0].shape == (64, 64, 3)
    # palette with transparency, CMYK JPEG, 16-bit grey PNG, RGBA: converted
    palette = photo(40, 30).convert("P")
    palette.info["transparency"] = 0
    assert run(_saved(palette, "PNG", tmp_path, transparency=0))[0].shape == (64, 85, 3)
    assert run(_saved(photo(50, 50, "CMYK"), "JPEG", tmp_path))[0].shape == (64, 64, 3)
    deep = Image.fromarray((np.arange(64 * 48).reshape(48, 64) * 20).astype(np.uint16))
    assert deep.mode.startswith("I;16")
    picture = tr.open_image(_saved(deep, "PNG", tmp_path))
    grey = np.asarray(picture)[..., 0]  # scaled by 65535, not clipped to black and white
    assert picture.mode == "RGB" and grey.max() == round(3071 * 20 / 65535 * 255) and len(np.unique(grey)) > 200
    rgba = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    assert np.asarray(tr.open_image(rgba)).min() == 255  # transparent → white
    # EXIF orientation 6 (rotate 90°): a 60×40 file shows as 40×60
    exif = Image.Exif()
    exif[0x0112] = 6
    turned = tr.open_image(_saved(photo(60, 40), "JPEG", tmp_path, exif=exif))
    assert turned.size == (40, 60)
    # corrupt, not an image, truncated, too many pixels, too long and thin
    (tmp_path / "noise.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(ValueError, match="not a picture|could not be decoded"):
        run(tmp_path / "noise.png")
    (tmp_path / "text.jpg").write_text("hello")
    with pytest.raises(ValueError, match="not a picture"):
        run(tmp_path / "text.jpg")
    whole = io.BytesIO()
    photo(300, 300).save(whole, "JPEG")
    (tmp_path / "cut.jpg").write_bytes(whole.getvalue()[: len(whole.getvalue()) * 2 // 3])
    with pytest.raises(ValueError, match="could not be decoded"):
        run(tmp_path / "cut.jpg")
    huge = _saved(Image.new("L", (8000, 6000)), "PNG", tmp_path)  # 48 MP, small on disk
    with pytest.raises(ValueError, match="8000×6000 \\(48 megapixels\\); the limit is 40"):
        run(huge)
    with pytest.raises(ValueError, match="too long and thin"):
        run(photo(900, 10))


def test_digit_pictures_look_like_mnist(tiny_translators):
    paper = Image.new("L", (200, 300), 255)  # a dark stroke on white paper, off centre
    paper.paste(0, (120, 40, 140, 200))
    x = tr.digit_tensor(paper.convert("RGB"))
    assert x.shape == (1, 1, 28, 28) and x.max() > 0.9  # inverted: white ink
    ink = (x[0, 0] > 0.5).nonzero()
    assert ink[:, 0].min() >= 3 and ink[:, 0].max() <= 24  # the stroke's height fitted into the middle 20 rows
    assert abs(ink[:, 1].float().mean().item() - 13.5) < 1.5  # centred
    # by mass: an "L" whose foot carries ink to the right has its box left of the centre, its mass on it
    foot = Image.new("L", (200, 200), 255)
    foot.paste(0, (20, 20, 40, 180))
    foot.paste(0, (20, 160, 180, 180))
    weights = tr.digit_tensor(foot.convert("RGB"))[0, 0]
    grid = torch.arange(28, dtype=torch.float32)
    assert abs((weights.sum(0) * grid).sum() / weights.sum() - 13.5) < 0.6
    assert abs((weights.sum(1) * grid).sum() / weights.sum() - 13.5) < 0.6
    out, back, heat, info, seen = tr.translate(paper, "cyclegan-mnist", "thin → thick")
    assert out.shape == back.shape == heat.shape == seen.shape == (28 * 8, 28 * 8, 3) and info["working_size"] == [
        28,
        28,
    ]
    # the picture of what the network sees is the MNIST-like digit itself, upscaled 8×
    assert np.array_equal(seen[::8, ::8, 0], (x[0, 0] * 255).round().byte().numpy())
    assert "Translated in" in tr.status_line(info) and "a digit model" in tr.status_line(info)
    with pytest.raises(ValueError, match="blank"):
        tr.translate(Image.new("L", (50, 50), 255), "cyclegan-mnist", "thin → thick")


@pytest.mark.slow
@pytest.mark.skipif(not HORSES.is_dir(), reason="../shared/data/horses is not here")
def test_real_horse_photos_through_a_random_full_size_generator(monkeypatch):
    """The pipeline end to end on the 20 real photos, with the paper's full generator (random weights: the Hub's are
    unreachable here). Every photo comes back at its aspect ratio, finite and in range."""
    torch.manual_seed(0)
    monkeypatch.setenv("GENMODELS_COMPILE", "0")
    monkeypatch.setitem(hub._cache, "cyclegan-horse2zebra", CycleGAN(("horse", "zebra")).eval())
    photos = sorted(p for p in HORSES.iterdir() if p.is_file())
    assert len(photos) == 20
    for path in photos:
        width, height = tr.open_image(path).size
        out, back, heat, info, _ = tr.translate(path, "cyclegan-horse2zebra", "horse → zebra", 128)
        assert min(out.shape[:2]) == 128 and out.shape == back.shape == heat.shape
        assert out.shape[1] / out.shape[0] == pytest.approx(width / height, abs=0.02), path.name
        assert out.dtype == np.uint8 and 0 <= info["cycle_l1"] <= 1


def test_fast_path_falls_back_to_eager(monkeypatch):
    from genmodels import fast

    net = torch.nn.Sequential(torch.nn.Conv2d(3, 3, 3, padding=1), torch.nn.Tanh()).eval()
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        expected = net(x)
    assert isinstance(fast.bf16_native(torch.device("cpu")), bool)
    plain = fast.FastPath(net, compile=False, bf16=False)
    assert torch.equal(plain(x), expected) and plain.status() == {"bf16": False, "compiled": False, "compiling": False}

    def broken(*args, **kwargs):
        raise RuntimeError("no C++ compiler")

    monkeypatch.setattr(torch, "compile", broken)
    path = fast.FastPath(net, x, bf16=False)
    assert path.ready.wait(10) and torch.equal(path(x), expected)
    assert path.status()["compiled"] is False and "no C++ compiler" in path.status()["compile_error"]


@pytest.mark.slow
def test_fast_path_compiles_and_matches_eager():
    from genmodels import fast

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(4, 3, 1)).eval()
    x = torch.rand(1, 3, 16, 16)
    path = fast.FastPath(net, x, bf16=False)
    assert path.ready.wait(300)
    assert path.status()["compiled"], path.status()
    with torch.no_grad():
        assert torch.allclose(path(x), net(x), atol=1e-5)
        assert torch.allclose(path(x[..., :12]), net(x[..., :12]), atol=1e-5)  # another width: dynamic shapes


def test_status_line_says_which_route_ran():
    base = {"translate_s": 1.234, "working_size": [256, 192]}
    route = lambda **fast: tr.status_line({**base, "fast_path": {"bf16": False, **fast}})  # noqa: E731
    assert route(compiled=True, compiling=False).startswith("Translated in 1.23 s at 256×192 · compiled")
    assert "warming up in the background" in route(compiled=False, compiling=True)
    assert "failed" in route(compiled=False, compiling=False, compile_error="no C++ compiler")
    assert "switched off" in route(compiled=False, compiling=False)
