"""Every named endpoint through the running app: called with its documented defaults (generated from the app's own
API listing, so a new endpoint cannot skip it), then a suite of bad inputs, each answered in our words while the
server keeps answering."""

from __future__ import annotations

import gzip
import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .conftest import DATA_ROOT, REPO

EXAMPLE_DIGIT = REPO / "assets" / "examples" / "vae-digit-3.png"
# What our sentences never contain: a traceback, a library's wording, a server path, a handler's name.
NOT_OURS = re.compile(r"Traceback|pydantic|validation error|Could not preprocess|/tmp/gradio|File \"|Errno|run_\w+\(")


def endpoints(client) -> dict:
    return client.view_api(return_format="dict", print_info=False)["named_endpoints"]


def default_args(parameters: list[dict]) -> list:
    """Each parameter's documented default; a picture the app's own example digit; an optional file None."""
    from gradio_client import handle_file

    args = []
    for p in parameters:
        if p["parameter_has_default"]:
            args.append(p["parameter_default"])
        elif p["component"] == "Image":
            args.append(handle_file(str(EXAMPLE_DIGIT)))
        else:
            args.append(None)
    return args


@pytest.mark.slow
def test_every_endpoint_answers_its_documented_defaults(app_url):
    """In the listing's order, one client session (so the playground's state carries from call to call)."""
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    listing = endpoints(client)
    assert len(listing) >= 19, sorted(listing)
    for name, endpoint in listing.items():
        args = default_args(endpoint["parameters"])
        if name == "/playground_gan_play":  # streams until paused: take its first frame, the pause endpoint is next
            job = client.submit(*args, api_name=name)
            while not job.outputs() and not job.done():
                job.status()
            assert job.outputs(), name
            continue
        out = client.predict(*args, api_name=name)
        assert out is not None or not endpoint["returns"], name
    info = client.predict(api_name="/playground_gan_step")[-1]
    assert info["step"] > 0 and info["loss"] == "wgan-gp"


def png_bytes(image: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kw)
    return buffer.getvalue()


def bad_files(tmp: Path) -> dict:  # noqa: F821
    """Files a hostile or careless user may upload, written under `tmp`."""
    g = np.random.default_rng(0)

    def stroke(mode: str, size=(40, 40), ink=0, paper=255) -> Image.Image:
        """A dark bar on light paper: a digit-like "1" for the digit models to find."""
        image = Image.new(mode, size, paper)
        image.paste(ink, (size[0] // 2 - 2, size[1] // 5, size[0] // 2 + 2, 4 * size[1] // 5))
        return image

    files = {
        "text.png": b"not a picture at all",
        "empty.png": b"",
        "truncated.jpg": png_bytes(Image.fromarray(g.integers(0, 255, (64, 64, 3), dtype=np.uint8)), "JPEG")[:300],
        "one-pixel.png": png_bytes(Image.new("L", (1, 1), 255)),
        "strip.png": png_bytes(Image.new("L", (20000, 3), 128)),
        "cmyk.jpg": png_bytes(Image.new("CMYK", (40, 30), (0, 0, 0, 200)), "JPEG"),
        "palette.png": png_bytes(stroke("L").convert("P")),
        "blank.png": png_bytes(Image.new("L", (28, 28), 255)),
        "sixteen-bit.png": png_bytes(Image.fromarray((np.arange(900).reshape(30, 30) * 70).astype(np.uint16))),
        "gzip.png": gzip.compress(b"x" * 1000),
    }
    frames = [stroke("L"), Image.new("L", (40, 40), 255)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    files["animated.gif"] = buffer.getvalue()
    rotated = stroke("RGB", (60, 40), (0, 0, 0), (255, 255, 255))
    exif = Image.Exif()
    exif[0x0112] = 6
    files["exif-rotated.jpg"] = png_bytes(rotated, "JPEG", exif=exif)
    paths = {}
    for name, body in files.items():
        (tmp / name).write_bytes(body)
        paths[name] = tmp / name
    return paths


OURS = object()  # the call may succeed: then its answer must be sane (checked by the case itself)


def translate_case(image, model="cyclegan-mnist", direction="thin → thick", size=256):
    return "/translate", (image, model, direction, size)


def csv_case(path):
    return "/playground_data", ("csv", "Two moons", 500, 0, None, path)


def cases(tmp) -> list[tuple[str, str, tuple, object]]:
    """(id, endpoint, args, expected message regex or OURS for a sane answer). Files are handle_file'd at call time."""
    f = bad_files(tmp)
    (tmp / "identical.csv").write_text("x,y\n" + "1,2\n" * 20)
    (tmp / "overflow.csv").write_text("x,y\n" + "".join(f"{i},1e308\n" for i in range(20)))
    (tmp / "few.csv").write_text("1,2\n3,4\n")
    (tmp / "binary.csv").write_bytes(b"\xff\xfe\x00garbage")
    (tmp / "line.csv").write_text("".join(f"{i},0\n" for i in range(30)))
    big = 10**400
    return [
        # /sample
        ("sample-models-empty", "/sample", ([], 4, 0, 1.0, 0.0, False, "any"), "Choose at least one model"),
        ("sample-models-none", "/sample", (None, 4, 0, 1.0, 0.0, False, "any"), "Choose at least one model"),
        ("sample-models-unknown", "/sample", (["nope"], 4, 0, 1.0, 0.0, False, "any"), "Unknown model 'nope'"),
        ("sample-models-numbers", "/sample", ([1, 2], 4, 0, 1.0, 0.0, False, "any"), "Unknown model"),
        ("sample-models-dict", "/sample", ([{"a": 1}], 4, 0, 1.0, 0.0, False, "any"), "Unknown model"),
        ("sample-classifier", "/sample", (["mnist-classifier"], 4, 0, 1.0, 0.0, False, "any"), "Unknown model"),
        ("sample-n-negative", "/sample", (["vae-mnist"], -1, 0, 1.0, 0.0, False, "any"), "from 1 to 64"),
        ("sample-n-huge", "/sample", (["vae-mnist"], big, 0, 1.0, 0.0, False, "any"), "from 1 to 64"),
        ("sample-n-text", "/sample", (["vae-mnist"], "many", 0, 1.0, 0.0, False, "any"), "whole number"),
        ("sample-n-none", "/sample", (["vae-mnist"], None, 0, 1.0, 0.0, False, "any"), "whole number"),
        ("sample-n-fraction", "/sample", (["vae-mnist"], 2.5, 0, 1.0, 0.0, False, "any"), "whole number"),
        ("sample-n-bool", "/sample", (["vae-mnist"], True, 0, 1.0, 0.0, False, "any"), "whole number"),
        ("sample-seed-text", "/sample", (["vae-mnist"], 4, "abc", 1.0, 0.0, False, "any"), "Seed must be"),
        ("sample-seed-huge", "/sample", (["vae-mnist"], 4, big, 1.0, 0.0, False, "any"), "Seed must be from"),
        ("sample-seed-negative", "/sample", (["vae-mnist"], 4, -1, 1.0, 0.0, False, "any"), "Seed must be from"),
        ("sample-seed-float", "/sample", (["vae-mnist"], 4, 1e308, 1.0, 0.0, False, "any"), "Seed must be"),
        ("sample-temperature-text", "/sample", (["vae-mnist"], 4, 0, "hot", 0.0, False, "any"), "Temperature must"),
        ("sample-temperature-none", "/sample", (["vae-mnist"], 4, 0, None, 0.0, False, "any"), "Temperature must"),
        ("sample-temperature-zero", "/sample", (["vae-mnist"], 4, 0, 0, 0.0, False, "any"), "Temperature must"),
        ("sample-temperature-huge", "/sample", (["vae-mnist"], 4, 0, big, 0.0, False, "any"), "Temperature must"),
        ("sample-truncation-neg", "/sample", (["vae-mnist"], 4, 0, 1.0, -1, False, "any"), "Truncation must"),
        ("sample-nearest-text", "/sample", (["vae-mnist"], 4, 0, 1.0, 0.0, "maybe", "any"), "true or false"),
        ("sample-nearest-false", "/sample", (["vae-mnist"], 4, 0, 1.0, 0.0, "false", "any"), OURS),
        ("sample-digit-word", "/sample", (["vae-mnist"], 4, 0, 1.0, 0.0, False, "eleven"), "Digit must"),
        ("sample-digit-ten", "/sample", (["vae-mnist"], 4, 0, 1.0, 0.0, False, 10), "Digit must be from 0 to 9"),
        # /receptive_field
        ("rf-row-text", "/receptive_field", ("abc", 3), "Row must be a whole number"),
        ("rf-row-none", "/receptive_field", (None, 3), "Row must be a whole number"),
        ("rf-col-big", "/receptive_field", (3, 28), "Column must be from 0 to 27"),
        ("rf-row-huge", "/receptive_field", (big, 3), "Row must be from 0 to 27"),
        # /translate: pictures
        ("tr-image-text", *translate_case("abc"), "must be a file uploaded to this app"),
        ("tr-image-list", *translate_case([1, 2]), "must be a file uploaded to this app"),
        ("tr-image-number", *translate_case(5), "must be a file uploaded to this app"),
        ("tr-image-server-path", *translate_case({"path": "/etc/passwd"}), "must be a file uploaded to this app"),
        ("tr-image-traversal", *translate_case({"path": "/tmp/gradio/../../etc/passwd"}), "uploaded to this app"),
        ("tr-image-none", *translate_case(None), "Upload, paste or take a picture first"),
        ("tr-text-named-png", *translate_case(f["text.png"]), "not a picture"),
        ("tr-zero-bytes", *translate_case(f["empty.png"]), "not a picture|empty"),
        ("tr-gzip-named-png", *translate_case(f["gzip.png"]), "not a picture"),
        ("tr-truncated-jpeg", *translate_case(f["truncated.jpg"]), "could not be decoded|not a picture"),
        ("tr-one-pixel", *translate_case(f["one-pixel.png"]), "No digit found"),
        ("tr-blank", *translate_case(f["blank.png"]), "No digit found"),
        ("tr-strip", *translate_case(f["strip.png"]), OURS),
        ("tr-cmyk", *translate_case(f["cmyk.jpg"]), OURS),
        ("tr-palette", *translate_case(f["palette.png"]), OURS),
        ("tr-sixteen-bit", *translate_case(f["sixteen-bit.png"]), OURS),
        ("tr-animated-gif", *translate_case(f["animated.gif"]), OURS),
        ("tr-exif-rotated", *translate_case(f["exif-rotated.jpg"]), OURS),
        # /translate: the other values
        ("tr-model-unknown", *translate_case(EXAMPLE_DIGIT, model="nope"), "Unknown translation model"),
        ("tr-model-none", *translate_case(EXAMPLE_DIGIT, model=None), "Unknown translation model"),
        ("tr-model-list", *translate_case(EXAMPLE_DIGIT, model=["cyclegan-mnist"]), "Unknown translation model"),
        ("tr-direction-bad", *translate_case(EXAMPLE_DIGIT, direction="up"), "Direction must be one of"),
        ("tr-direction-none", *translate_case(EXAMPLE_DIGIT, direction=None), "Direction must be one of"),
        ("tr-size-text", *translate_case(EXAMPLE_DIGIT, size="big"), "Working size must be a whole number"),
        ("tr-size-huge", *translate_case(EXAMPLE_DIGIT, size=big), "Working size must be from 64 to 512"),
        ("tr-horse-offline", *translate_case(EXAMPLE_DIGIT, "cyclegan-horse2zebra", "horse → zebra"), "bundled"),
        # /playground_data
        ("pg-source-bad", "/playground_data", ("webcam", "Two moons", 500, 0, None, None), "Data source must be"),
        ("pg-source-none", "/playground_data", (None, "Two moons", 500, 0, None, None), "Data source must be"),
        ("pg-preset-bad", "/playground_data", ("preset", "nope", 500, 0, None, None), "Preset must be one of"),
        ("pg-n-text", "/playground_data", ("preset", "Two moons", "lots", 0, None, None), "Number of points"),
        ("pg-n-huge", "/playground_data", ("preset", "Two moons", big, 0, None, None), "Number of points must be from"),
        ("pg-seed-negative", "/playground_data", ("preset", "Two moons", 500, -1, None, None), "Seed must be from"),
        ("pg-csv-missing", *csv_case(None), "Upload a CSV"),
        ("pg-csv-string", *csv_case("abc"), "must be a file uploaded to this app"),
        ("pg-csv-server-path", *csv_case({"path": "/etc/passwd"}), "must be a file uploaded to this app"),
        ("pg-csv-identical", *csv_case(tmp / "identical.csv"), "same point"),
        ("pg-csv-overflow", *csv_case(tmp / "overflow.csv"), "beyond"),
        ("pg-csv-few", *csv_case(tmp / "few.csv"), "at least 10"),
        ("pg-csv-binary", *csv_case(tmp / "binary.csv"), "not a text CSV|not both numbers"),
        ("pg-csv-line", *csv_case(tmp / "line.csv"), OURS),
        ("pg-drawing-none", "/playground_data", ("drawing", "Two moons", 500, 0, None, None), "Draw something"),
        ("pg-drawing-string", "/playground_data", ("drawing", "Two moons", 500, 0, "abc", None), "uploaded"),
        # GMM, PPCA, flow, GAN, divergences
        ("gmm-k-text", "/playground_gmm_init", ("x", "kmeans++", 0), "K must be a whole number"),
        ("gmm-k-zero", "/playground_gmm_init", (0, "kmeans++", 0), "K must be from 1 to 20"),
        ("gmm-k-none", "/playground_gmm_init", (None, "kmeans++", 0), "K must be a whole number"),
        ("gmm-init-bad", "/playground_gmm_init", (3, "bogus", 0), "Initialisation must be one of"),
        ("gmm-bic-init-bad", "/playground_gmm_bic", ("bogus", 0), "Initialisation must be one of"),
        ("ppca-seed-text", "/playground_ppca", ("x",), "Seed must be"),
        ("flow-layers-text", "/playground_flow_new", (0, "x"), "Layers must be"),
        ("flow-layers-one", "/playground_flow_new", (0, 1), "Layers must be from 2 to 16"),
        ("gan-loss-bad", "/playground_gan_new", ("bogus", 0), "Loss must be one of"),
        ("div-theta-text", "/playground_divergence", ("x",), "θ must be a number"),
        ("div-theta-none", "/playground_divergence", (None,), "θ must be a number"),
        ("div-theta-big", "/playground_divergence", (5,), "θ must be from"),
        ("div-theta-huge", "/playground_divergence", (big,), "θ must be"),
        ("kl-separation-text", "/playground_kl_fit", ("x",), "Separation must be a number"),
        ("kl-separation-zero", "/playground_kl_fit", (0,), "Separation must be from"),
    ]


WRONG_ORDER = [  # a fresh session: nothing created yet
    ("/playground_gmm_e", (), "Initialise the mixture first"),
    ("/playground_gmm_converge", (), "Initialise the mixture first"),
    ("/playground_flow_train", (100,), "Create the flow first"),
    ("/playground_gan_play", (200,), "Create the GAN first"),
    ("/playground_gan_step", (), "Create the GAN first"),
]


def call(client, endpoint: str, args: tuple):
    from gradio_client import handle_file

    args = tuple(handle_file(str(a)) if hasattr(a, "is_file") else a for a in args)
    return client.predict(*args, api_name=endpoint)


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory):
    return cases(tmp_path_factory.mktemp("bad"))


@pytest.mark.slow
def test_bad_inputs_get_our_words_and_the_server_keeps_answering(client, bad_inputs):
    from gradio_client.exceptions import AppError

    assert len(bad_inputs) + len(WRONG_ORDER) >= 60
    wrong = []
    for case_id, endpoint, args, expected in bad_inputs:
        try:
            out = call(client, endpoint, args)
        except AppError as exc:
            message = str(exc)
            if expected is OURS or not re.search(expected, message) or NOT_OURS.search(message) or len(message) > 400:
                wrong.append(f"{case_id}: {message[:300]}")
            continue
        if expected is not OURS:
            wrong.append(f"{case_id}: answered, expected the message /{expected}/")
        elif endpoint == "/translate":
            assert out[-1]["cycle_l1"] >= 0 and Image.open(out[1]).size[0] > 0, case_id
    assert not wrong, "\n".join(wrong)
    # still answering, and still right
    _, numbers = client.predict(0.5, api_name="/playground_divergence")
    assert numbers["closed_form"]["w1"] == 0.5


@pytest.mark.slow
def test_calls_in_the_wrong_order_get_our_words(app_url):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    fresh = Client(app_url, verbose=False)
    for endpoint, args, expected in WRONG_ORDER:
        with pytest.raises(AppError, match=expected) as info:
            fresh.predict(*args, api_name=endpoint)
        assert not NOT_OURS.search(str(info.value))


@pytest.mark.slow
def test_nearest_false_as_text_is_false(client):
    summary = client.predict(["vae-mnist"], 2, 0, 1.0, 0.0, "false", "any", api_name="/sample")[-1]
    assert "nearest_l2_mean" not in summary["vae-mnist"] and "grid" not in summary["vae-mnist"]
    summary = client.predict(["vae-mnist"], 2, 0, 1.0, 0.0, "true", "any", api_name="/sample")[-1]
    assert summary["vae-mnist"].get("nearest_l2_mean", 0) > 0 or "nearest_error" in summary["vae-mnist"]


@pytest.mark.slow
def test_gmm_bic_button_endpoint(client):
    client.predict("preset", "8 Gaussians (ring)", 400, 0, None, None, api_name="/playground_data")
    plot, info = client.predict("kmeans++", 0, api_name="/playground_gmm_bic")
    assert set(info["bic"]) == {str(k) for k in range(1, 11)} and info["best_k"] == 8
    assert plot["type"] == "plotly"


@pytest.mark.slow
@pytest.mark.skipif(not (DATA_ROOT / "horses").is_dir(), reason="../shared/data not beside the checkout")
def test_a_picture_outside_the_upload_folder_is_refused(client):
    from gradio_client.exceptions import AppError

    horse = next((DATA_ROOT / "horses").iterdir())  # a picture on the server, never uploaded
    for path in (str(horse), f"/tmp/gradio/../..{horse}", f"{horse.parent}/./{horse.name}"):
        with pytest.raises(AppError, match="uploaded to this app") as info:
            client.predict({"path": path}, "cyclegan-mnist", "thin → thick", 256, api_name="/translate")
        assert "horses" not in str(info.value)


@pytest.mark.slow
def test_the_file_routes_serve_nothing_outside_the_app(app_url):
    import urllib.error
    import urllib.request

    secret = REPO / "checkpoints" / "vae-mnist" / "config.json"  # exists, but is not something the app serves
    for route in (
        "gradio_api/file=/etc/passwd",
        "gradio_api/file=../../../../etc/passwd",
        "gradio_api/file=%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "gradio_api/file=/tmp/gradio/../../etc/passwd",
        f"gradio_api/file={secret}",
        "file=/etc/passwd",
        "gradio_api/file=..%2f..%2f..%2fetc%2fpasswd",
    ):
        try:
            with urllib.request.urlopen(app_url + route, timeout=10) as response:
                body = response.read()
            assert b"root:" not in body and b"latent_dim" not in body, route
        except urllib.error.HTTPError as exc:
            assert exc.code in (400, 403, 404), (route, exc.code)


@pytest.mark.slow
def test_a_cancelled_stream_frees_its_worker_within_2_s(app_url):
    """Two long autoregressive draws (one running, one queued behind it: /sample runs one call at a time) are
    cancelled, as a closed tab would; a short call then runs at once instead of waiting for them."""
    import time

    from gradio_client import Client

    long_args = (["gated-pixelcnn-mnist", "pixelcnn-mnist", "pixelrnn-mnist"], 64, 0, 1.0, 0.0, False, "any")
    jobs = [Client(app_url, verbose=False).submit(*long_args, api_name="/sample") for _ in range(2)]
    short = Client(app_url, verbose=False)
    deadline = time.perf_counter() + 60
    while not jobs[0].outputs() and time.perf_counter() < deadline:
        time.sleep(0.05)
    assert jobs[0].outputs(), "the draw should stream rows"
    for job in jobs:
        job.cancel()
    start = time.perf_counter()
    summary = short.predict(["vae-mnist"], 2, 0, 1.0, 0.0, False, "any", api_name="/sample")
    waited = time.perf_counter() - start - summary[-1]["vae-mnist"]["sample_s"]
    assert waited < 2, f"the short call waited {waited:.1f} s behind cancelled work"
