"""The running app: its API (gradio_client) and a real headless Chromium clicking through the Sample tab.

The app runs in a subprocess on a free port with the shipped checkpoints and the Hub switched off. The browser test
needs Debian's chromium; it is skipped where that is missing, unless GENMODELS_REQUIRE_BROWSER=1 (CI sets it).
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from PIL import Image

from genmodels.tasks import DEFAULT_MODELS

from .conftest import ARTIFACTS, REPO


def call_sample(client, models, n=4, seed=0, temperature=1.0, truncation=0.0, nearest=False, digit="any"):
    return client.predict(models, n, seed, temperature, truncation, nearest, digit, api_name="/sample")


@pytest.mark.slow
def test_api_sample_returns_images_and_summary(client):
    outputs = call_sample(client, ["vae-mnist", "dcgan-mnist"], n=4, nearest=True)
    summary = outputs[-1]
    assert set(summary) == {"vae-mnist", "dcgan-mnist"}
    for result in summary.values():
        assert "error" not in result and len(result["labels"]) == 4 and result["nearest_l2_mean"] > 0
    values = [o["value"] if isinstance(o, dict) else o for o in outputs[:-1]]  # gr.update(...) comes back as a dict
    images = [v for v in values if isinstance(v, str) and v.endswith(".png")]
    assert len(images) == 4  # a grid and a nearest-neighbour view per chosen model


@pytest.mark.slow
def test_api_sample_streams_autoregressive_rows(client):
    job = client.submit(["gated-pixelcnn-mnist"], 4, 0, 1.0, 0.0, False, "3", api_name="/sample")
    summary = job.result()[-1]
    assert "error" not in summary["gated-pixelcnn-mnist"] and summary["gated-pixelcnn-mnist"]["sample_s"] > 0
    partial = [o[-1]["gated-pixelcnn-mnist"] for o in job.outputs()[:-1]]
    assert [p["rows_done"] for p in partial] == [4, 8, 12, 16, 20, 24]


@pytest.mark.slow
def test_api_receptive_field(client):
    *slots, info = client.predict(5, 20, api_name="/receptive_field")
    images, captions = slots[0::2], slots[1::2]
    assert len(images) == 3 and all(Image.open(p).size == (224, 224) for p in images)
    assert all("earlier pixels" in c for c in captions)
    assert info["pixel"] == [5, 20]
    for name in ("pixelcnn-mnist", "gated-pixelcnn-mnist", "pixelrnn-mnist"):
        assert info[name]["seen_later"] == 0 and 0 < info[name]["seen"] <= info[name]["earlier_pixels"] == 5 * 28 + 20


@pytest.mark.slow
@pytest.mark.parametrize(
    "args, message",
    [
        (dict(digit="eleven"), "Digit must be a whole number"),
        (dict(n=-1), "Number of samples must be from 1 to 64"),
        (dict(n=10**6), "Number of samples must be from 1 to 64"),
        (dict(n="many"), "Number of samples must be a whole number"),
        (dict(seed="abc"), "Seed must be a whole number"),
        (dict(models=["nope"]), "Unknown model 'nope'"),
        (dict(models=[]), "Choose at least one model"),
        (dict(models=None), "Choose at least one model"),
        (dict(temperature="hot"), "Temperature must be a number"),
    ],
)
def test_api_bad_input_is_a_clear_message(client, args, message):
    from gradio_client.exceptions import AppError

    kwargs = dict(models=["vae-mnist"]) | args
    with pytest.raises(AppError) as info:
        call_sample(client, **kwargs)
    assert message in str(info.value) and "Traceback" not in str(info.value)


@pytest.mark.slow
def test_browser_sample_tab(browser_page):
    from playwright.sync_api import expect

    page = browser_page
    page.locator("#sample-button").click()
    for name in DEFAULT_MODELS:
        image = page.locator(f"#grid-{name} img")
        expect(image).to_be_visible(timeout=60_000)
        # visible comes before loaded (the img is lazy): wait until the picture has pixels
        page.wait_for_function(
            "(sel) => { const img = document.querySelector(sel);"
            " return img && img.complete && img.naturalWidth > 100; }",
            arg=f"#grid-{name} img",
            timeout=60_000,
        )
        expect(page.locator(f"#caption-{name}")).to_contain_text(" ms", timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "sample-tab.png"), full_page=True)
    # the receptive-field view: three maps; a click on a map picks that pixel
    page.get_by_text("Receptive field: which earlier pixels").click()
    page.locator("#rf-button").click()
    for name in ("pixelcnn-mnist", "gated-pixelcnn-mnist", "pixelrnn-mnist"):
        expect(page.locator(f"#rf-{name} img")).to_be_visible(timeout=30_000)
    rf_map = page.locator("#rf-pixelcnn-mnist img")
    box = rf_map.bounding_box()
    rf_map.click(position={"x": box["width"] * 20.5 / 28, "y": box["height"] * 5.5 / 28})  # pixel (5, 20)
    expect(page.locator("#rf-row input[type=number]")).to_have_value("5")
    expect(page.locator("#rf-col input[type=number]")).to_have_value("20")
    page.screenshot(path=str(ARTIFACTS / "sample-receptive-field.png"), full_page=True)
    # Phone width: the grids wrap under each other and stay visible.
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("#grid-vae-mnist img")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "sample-tab-phone.png"), full_page=True)


FLOWS = ["nice-mnist", "realnvp-mnist", "glow-mnist"]


@pytest.mark.slow
def test_api_sample_draws_the_flows_with_their_bits_per_dim(client):
    summary = call_sample(client, FLOWS, n=4, temperature=1.0)[-1]
    for result in summary.values():
        assert "error" not in result and "bits/dim" in result["badge"] and len(result["labels"]) == 4, result
    # RealNVP and Glow draw at the reduced temperature 0.7 × t; NICE at t
    assert summary["realnvp-mnist"]["temperature_drawn"] == summary["glow-mnist"]["temperature_drawn"] == 0.7
    assert "temperature_drawn" not in summary["nice-mnist"]
    cooler = call_sample(client, ["glow-mnist"], n=4, temperature=0.5)[-1]["glow-mnist"]
    assert cooler["temperature_drawn"] == 0.35


@pytest.mark.slow
def test_browser_sample_tab_shows_every_family_with_the_flows(browser_page, app_url):
    """The flows beside every other family, from one seed: pictures, bits/dim badges, and the temperature they used."""
    from playwright.sync_api import expect

    from genmodels.tasks import sampleable_models

    page = browser_page
    page.goto(app_url + "?tab=sample&n=9&models=" + ",".join(sampleable_models()))
    page.locator("#sample-button").click()
    for name in sampleable_models():
        expect(page.locator(f"#caption-{name}")).to_contain_text(" ms", timeout=120_000)
    for name in FLOWS:
        expect(page.locator(f"#grid-{name} img")).to_be_visible()
        expect(page.locator(f"#caption-{name}")).to_contain_text("bits/dim")
    for name in ("realnvp-mnist", "glow-mnist"):
        expect(page.locator(f"#caption-{name}")).to_contain_text("drawn at temperature 0.7")
    page.screenshot(path=str(ARTIFACTS / "sample-tab-every-family.png"), full_page=True)


# Every element drawn over a picture in the sample slots: (picture id, the element's tag and class).
OVERLAPS = """() => {
  const hits = [];
  const cut = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1
    && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
  for (const img of document.querySelectorAll(".slot-image img")) {
    if (!img.offsetParent) continue;
    const pixels = img.getBoundingClientRect();
    const block = img.closest(".slot-image");
    for (const el of block.querySelectorAll("button, label, [data-testid=block-label], .icon-button-wrapper")) {
      if (el.contains(img) || !el.offsetParent) continue;  // the picture's own wrapper; hidden things
      if (cut(pixels, el.getBoundingClientRect())) hits.push([block.id, el.tagName, el.className]);
    }
  }
  return hits;
}"""


@pytest.mark.slow
@pytest.mark.parametrize("width", [1280, 390])
def test_browser_sample_first_view_reads_well(browser_page, width):
    """Pictures before any click; nothing drawn on a picture's pixels; every bold model name in one font; on a phone
    the Sample button and the first result on the first screen."""
    from playwright.sync_api import expect

    page = browser_page
    height = 844 if width == 390 else 900
    page.set_viewport_size({"width": width, "height": height})
    page.reload()
    for name in DEFAULT_MODELS:  # no click: the tab opens on samples
        page.wait_for_function(
            "(sel) => { const img = document.querySelector(sel);"
            " return img && img.complete && img.naturalWidth > 100; }",
            arg=f"#grid-{name} img",
            timeout=90_000,
        )
        expect(page.locator(f"#caption-{name}")).to_contain_text(" ms")
    assert page.evaluate(OVERLAPS) == []
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    for name in DEFAULT_MODELS:
        title = cdp.send("DOM.querySelector", {"nodeId": root, "selector": f"#caption-{name} strong"})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": title})["fonts"]
        assert len(fonts) == 1, (name, fonts)  # one typeface draws every glyph of the bold name
    if width == 390:
        assert page.locator("#sample-button").bounding_box()["y"] + 40 <= height
        assert page.locator(f"#grid-{DEFAULT_MODELS[0]} img").bounding_box()["y"] < height
    page.screenshot(path=str(ARTIFACTS / f"sample-first-view-{width}.png"))


def open_playground(page):
    """Open the 2D playground tab and wait until the default data set is drawn."""
    from playwright.sync_api import expect

    page.get_by_role("tab", name="2D playground").click()
    expect(page.locator("#pg-data-plot .js-plotly-plot")).to_be_visible(timeout=30_000)
    return page


@pytest.mark.slow
def test_browser_playground_gan_lab_plays_and_pauses(browser_page, app_url):
    """Play trains and redraws; Pause stops the display within 0.5 s of the click, also while other users sample."""
    import threading

    from gradio_client import Client
    from playwright.sync_api import expect

    page = open_playground(browser_page)
    page.get_by_role("tab", name="GAN lab", exact=True).click()
    page.locator("#gan-new").click()
    expect(page.locator("#gan-plot .js-plotly-plot")).to_be_visible(timeout=30_000)
    expect(page.locator("#gan-info")).to_contain_text('"step": 0')

    stop = threading.Event()

    def another_user_samples() -> None:  # the server is busy meanwhile: sampling holds a core
        other = Client(app_url, verbose=False)
        while not stop.is_set():
            call_sample(other, ["gated-pixelcnn-mnist", "vae-mnist"], n=8)

    load = threading.Thread(target=another_user_samples, daemon=True)
    load.start()
    try:
        page.locator("#gan-play").click()

        def step() -> int:
            return int(re.search(r'"step"\s*:\s*(\d+)', page.locator("#gan-info").inner_text()).group(1))

        steps = []
        for _ in range(3):
            page.wait_for_timeout(1500)
            steps.append(step())
        assert steps[0] < steps[1] < steps[2], f"training should advance while playing: {steps}"
        # every change of the shown step, timed in the page; the click is timed there too
        page.evaluate(
            """() => { window.stepChanges = []; const info = document.querySelector('#gan-info');
            new MutationObserver(() => window.stepChanges.push([performance.now(), info.innerText]))
              .observe(info, {subtree: true, childList: true, characterData: true});
            document.querySelector('#gan-pause').click(); window.pausedAt = performance.now(); }"""
        )
        page.wait_for_timeout(3000)
        shown = page.evaluate(
            """() => window.stepChanges.map(
                 ([t, text]) => [t - window.pausedAt, +text.match(/"step"\\s*:\\s*(\\d+)/)[1]])"""
        )
        settled = [s for t, s in shown if t <= 500][-1:] or [steps[-1]]
        late = [(round(t), s) for t, s in shown if t > 500 and s != settled[0]]
        assert not late, f"the display should stop within 0.5 s of Pause: {shown}"
        paused = step()
        page.wait_for_timeout(2000)
        assert step() == paused, "training should stay stopped"
    finally:
        stop.set()
        load.join(timeout=60)
    page.screenshot(path=str(ARTIFACTS / "playground-gan.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("#gan-plot .js-plotly-plot")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "playground-gan-phone.png"), full_page=True)


@pytest.mark.slow
def test_browser_playground_flow_trains_with_progress_and_stops(browser_page):
    from playwright.sync_api import expect

    page = open_playground(browser_page)
    page.get_by_role("tab", name="Flow", exact=True).click()
    page.locator("#flow-new").click()
    expect(page.locator("#flow-density .js-plotly-plot")).to_be_visible(timeout=30_000)
    page.locator("#flow-steps input[type=number]").fill("5000")  # a run that outlasts the checks on a slow machine
    page.locator("#flow-steps input[type=number]").press("Enter")
    page.locator("#flow-train").click()
    expect(page.locator("#flow-info")).to_contain_text(re.compile(r'"run_steps"\s*:\s*5000'), timeout=30_000)
    expect(page.locator("#flow-info")).to_contain_text("seconds_left")
    expect(page.locator("#flow-info .progress-text, #flow-info .progress-level")).not_to_have_count(0)
    page.locator("#flow-stop").click()

    def done() -> int:
        return int(re.search(r'"run_steps_done"\s*:\s*(\d+)', page.locator("#flow-info").inner_text()).group(1))

    page.wait_for_timeout(1500)
    stopped = done()
    page.wait_for_timeout(2000)
    assert done() == stopped < 5000, "Stop should end the run"
    page.screenshot(path=str(ARTIFACTS / "playground-flow.png"), full_page=True)


@pytest.mark.slow
def test_browser_playground_gmm_and_divergences(browser_page):
    from playwright.sync_api import expect

    page = open_playground(browser_page)
    expect(page.locator("#gmm-plot .js-plotly-plot")).to_be_visible(timeout=30_000)  # a mixture before any click
    expect(page.locator("#gmm-plot .colorbar, #gmm-plot .legend")).not_to_have_count(0)
    with page.expect_download() as download:  # the data set's points, as CSV
        page.locator("#pg-download").click()
    rows = open(download.value.path()).read().splitlines()
    assert rows[0] == "x,y" and len(rows) == 1001 and all(len(r.split(",")) == 2 for r in rows[1:])
    page.locator("#gmm-init").click()
    page.locator("#gmm-converge").click()  # waits for the initialisation (the mixture's own lock)
    expect(page.locator("#gmm-plot")).to_contain_text(re.compile(r"after [1-9]\d* EM steps"), timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "playground-gmm.png"), full_page=True)
    page.get_by_role("tab", name="Divergences").click()
    expect(page.locator("#div-json")).to_contain_text("∞", timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "playground-divergences.png"), full_page=True)


@pytest.mark.slow
def test_browser_playground_reads_at_phone_width(browser_page):
    """At 390 px, loaded fresh: all five sub-tabs on one line, and every tool's figures fit without sideways scroll."""
    from playwright.sync_api import expect

    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    open_playground(page)
    for name, action, plot in (
        ("GMM + EM", "#gmm-init", "#gmm-plot"),
        ("PPCA", "#ppca-fit", "#ppca-plot"),
        ("Flow", "#flow-new", "#flow-density"),
        ("GAN lab", "#gan-new", "#gan-plot"),
        ("Divergences", None, "#div-plot"),
    ):
        tab = page.get_by_role("tab", name=name, exact=True)
        expect(tab).to_be_visible()  # not folded into the "More tabs" menu
        tab.click()
        if action:
            page.locator(action).click()
        expect(page.locator(f"{plot} .js-plotly-plot")).to_be_visible(timeout=30_000)
        page.wait_for_timeout(500)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, f"{name} scrolls sideways"
        assert page.locator(f"{plot} .js-plotly-plot").bounding_box()["width"] <= 390
        page.screenshot(path=str(ARTIFACTS / f"playground-phone-{name.split()[0].lower()}.png"), full_page=True)


@pytest.mark.slow
def test_api_playground_divergence_and_csv(client, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    plot, numbers = client.predict(0.5, api_name="/playground_divergence")
    assert numbers["estimate"] == {"kl_pq": "∞", "kl_qp": "∞", "js": pytest.approx(0.6931, abs=1e-9), "w1": 0.5}
    assert numbers["closed_form"]["w1"] == 0.5 and plot["type"] == "plotly"

    good = tmp_path / "points.csv"
    good.write_text("x,y\n" + "\n".join(f"{i},{(i * 7) % 11}" for i in range(30)))
    client.predict("csv", "Two moons", 500, 0, None, handle_file(str(good)), api_name="/playground_data")
    _, _, info = client.predict(2, "kmeans++", 0, api_name="/playground_gmm_init")
    assert info["k"] == 2 and info["em_steps"] == 0

    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\nfoo,bar\n")
    with pytest.raises(AppError, match="CSV line 3"):
        client.predict("csv", "Two moons", 500, 0, None, handle_file(str(bad)), api_name="/playground_data")


@pytest.mark.slow
def test_browser_playground_drawing_becomes_data(browser_page):
    from playwright.sync_api import expect

    page = open_playground(browser_page)
    page.get_by_text("Draw or upload your own").click()
    canvas = page.locator("#pg-sketch canvas").first
    expect(canvas).to_be_visible(timeout=30_000)
    # the brush is chosen for the user: no Brush click, and Gradio's "select the draw tool to start" does not stay
    expect(page.locator("#pg-sketch")).not_to_contain_text("select the draw tool")
    canvas.scroll_into_view_if_needed()  # at 1400 × 1000 the open accordion puts the canvas below the fold
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.42, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    for fx, fy in ((0.5, 0.7), (0.58, 0.3)):  # a V inside the (centred, zoomed-out) drawing area, in coarse moves
        page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy, steps=4)
    page.mouse.up()
    page.wait_for_timeout(1000)  # the editor sends its layers after the stroke ends
    page.locator("#pg-source").get_by_text("drawing").click()
    page.locator("#pg-load").click()
    expect(page.locator("#pg-data-plot")).to_contain_text("your drawing", timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "playground-drawing.png"), full_page=True)


EXAMPLE_DIGIT = REPO / "assets" / "examples" / "vae-digit-3.png"


@pytest.mark.slow
def test_api_translate_bundled_model(client):
    from gradio_client import handle_file

    seen, out, back, heat, status, info = client.predict(
        handle_file(str(EXAMPLE_DIGIT)), "cyclegan-mnist", "thin → thick", 256, api_name="/translate"
    )
    assert info["working_size"] == [28, 28] and info["direction"] == "thin → thick"
    assert status.startswith("Translated in")
    for path in (seen, out, back, heat):
        assert Image.open(path).size == (224, 224)


@pytest.mark.slow
@pytest.mark.parametrize(
    "args, message",
    [
        # the app runs offline here: what to do in the app, not the terminal's story (HF_HUB_OFFLINE, a command)
        (("cyclegan-horse2zebra", "horse → zebra", 256), "cannot reach now. Choose one of the bundled models.$"),
        (("cyclegan-mnist", "horse → zebra", 256), "Direction must be one of thin → thick, thick → thin"),
        (("cyclegan-mnist", "thin → thick", 10**9), "Working size must be from 64 to 512"),
        (("nope", "thin → thick", 256), "Unknown translation model"),
    ],
)
def test_api_translate_bad_input_is_a_clear_message(client, args, message):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message) as info:
        client.predict(handle_file(str(EXAMPLE_DIGIT)), *args, api_name="/translate")
    assert "Traceback" not in str(info.value)


@pytest.mark.slow
def test_api_translate_rejects_a_file_that_is_not_a_picture(client, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    fake = tmp_path / "notes.png"
    fake.write_text("not a picture")
    with pytest.raises(AppError, match="not a picture|could not"):
        client.predict(handle_file(str(fake)), "cyclegan-mnist", "thin → thick", 256, api_name="/translate")


def choose(page, dropdown: str, text: str) -> None:
    """Pick the first option of a Gradio dropdown that contains `text`, as a person does: type, then Enter."""
    field = page.locator(f"{dropdown} input")
    field.click()
    field.fill(text)
    field.press("Enter")


@pytest.mark.slow
def test_browser_translate_tab(browser_page):
    from playwright.sync_api import expect

    page = browser_page
    page.get_by_role("tab", name="Translate").click()
    expect(page.locator("#tr-button")).to_be_visible(timeout=30_000)
    page.locator("#tr-input input[type=file]").set_input_files(str(EXAMPLE_DIGIT))
    expect(page.locator("#tr-input img")).to_be_visible(timeout=30_000)
    page.locator("#tr-button").click()
    expect(page.locator("#tr-output img")).to_be_visible(timeout=60_000)
    expect(page.locator("#tr-info")).to_contain_text("cycle_l1")
    expect(page.locator("#tr-status")).to_contain_text("Translated in")
    expect(page.locator("#tr-seen img")).to_be_visible()
    expect(page.locator("#tr-status")).to_contain_text("a digit model")
    expect(page.locator("#tr-size")).to_be_hidden()  # working size: only for photo models
    choose(page, "#tr-model", "horse")
    expect(page.locator("#tr-size")).to_be_visible()
    page.locator("#tr-button").click()  # offline here: one sentence of ours, the last answer gone
    expect(page.locator(".toast-body.error")).to_contain_text("Choose one of the bundled models", timeout=30_000)
    expect(page.locator(".toast-body.error")).not_to_contain_text("HF_HUB_OFFLINE")
    expect(page.locator("#tr-status")).not_to_contain_text("Translated in")
    page.screenshot(path=str(ARTIFACTS / "translate-offline-error.png"), full_page=True)
    pills = page.locator("[data-testid=status-tracker] .error")
    assert pills.count() <= 1, [pills.nth(i).evaluate("e => e.closest('.block').id") for i in range(pills.count())]
    errors_shown = page.locator(".toast-body.error").count()
    choose(page, "#tr-model", "thin ↔ thick")
    page.locator("#tr-button").click()
    expect(page.locator("#tr-status")).to_contain_text("Translated in", timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "translate-tab.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("#tr-output img")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "translate-tab-phone.png"), full_page=True)
    # an example is a file the app itself serves: it must pass the upload-folder check of the picture input
    before = page.locator("#tr-info").inner_text()
    page.locator("#tr-examples button.gallery-item").first.click()  # another digit than the uploaded one
    page.locator("#tr-button").click()
    page.wait_for_function("(old) => document.querySelector('#tr-info').innerText !== old", arg=before, timeout=30_000)
    assert page.locator(".toast-body.error").count() <= errors_shown  # no new error


def stroke(page, canvas, points: list[tuple[float, float]]) -> None:
    """Drag the pointer over `canvas` through `points`, given as fractions of its box."""
    canvas.scroll_into_view_if_needed()  # a canvas below the fold takes no strokes
    box = canvas.bounding_box()
    at = [(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy) for fx, fy in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for x, y in at[1:]:
        page.mouse.move(x, y, steps=8)
    page.mouse.up()


def app_buttons(page) -> list[str]:
    """The label of every gr.Button the app defines, from its own config (a new button cannot be missed)."""
    config = page.evaluate("() => fetch('config').then(r => r.json())")
    return [c["props"]["value"] for c in config["components"] if c["type"] == "button"]


@pytest.mark.slow
@pytest.mark.parametrize("width", [1280, 390])
def test_browser_every_button_of_every_tab(browser_page, width):
    """Click every button once, tab by tab and sub-tab by sub-tab, in page order, at desktop and phone width; fail on
    an error toast (the browser_page fixture also fails on a console or page error)."""
    from playwright.sync_api import expect

    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    page.reload()
    expect(page.locator("#sample-button")).to_be_visible(timeout=30_000)
    wanted, clicked = app_buttons(page), []
    left = Counter(wanted)  # a label two tabs share ("Use the drawing") is clicked once in each

    def click_every_button_in_view(prefix: str) -> None:
        for opener in page.locator(".label-wrap:visible").all():  # closed accordions hold buttons too
            if "open" not in (opener.get_attribute("class") or ""):
                opener.click()
                page.wait_for_timeout(500)  # their content mounts when opened
        buttons = page.locator("button.primary:visible, button.secondary:visible")
        for i in range(buttons.count()):
            button = buttons.nth(i)
            label = button.inner_text().strip()
            if left[label] == 0 or button.get_attribute("data-clicked"):  # a button seen from two sub-tabs: once
                continue
            button.evaluate("b => b.setAttribute('data-clicked', '1')")
            left[label] -= 1
            if label == "Pause":  # as in the GAN lab test: a page redrawing 5 times a second never settles
                button.dispatch_event("click")
            else:
                button.click()
            clicked.append(label)
            page.wait_for_timeout(300 if label == "Play" else 1500)  # Pause comes right after Play
            errors = page.locator(".toast-body.error")
            assert errors.count() == 0, f"{prefix} / {label}: {errors.first.inner_text()}"
        page.screenshot(path=str(ARTIFACTS / f"every-button-{prefix}-{width}.png"), full_page=True)

    for tab in ("Sample", "Latent", "Complete", "Translate", "2D playground"):
        page.get_by_role("tab", name=tab, exact=True).click()
        page.wait_for_timeout(500)
        if tab == "Latent":  # a digit drawn (for "Use the drawing") and one uploaded, for the buttons that need one
            page.locator("#lt-draw-box").get_by_text("Or draw one").click()
            expect(page.locator("#lt-draw")).not_to_contain_text("select the draw tool", timeout=30_000)
            stroke(page, page.locator("#lt-draw canvas").first, [(0.35, 0.25), (0.6, 0.25), (0.45, 0.75)])
            page.locator("#lt-input input[type=file]").set_input_files(str(EXAMPLE_DIGIT))
            expect(page.locator("#lt-input img")).to_be_visible(timeout=30_000)
            for sub in ("Walk", "Arithmetic", "Encode", "Directions", "Autoencoders"):
                page.get_by_role("tab", name=sub, exact=True).click()
                page.wait_for_timeout(500)
                click_every_button_in_view(f"latent-{sub.lower()}")
            continue
        if tab == "Complete":  # a digit on the pad, so "Use the drawing" has one to use
            page.locator("#cp-draw-box").get_by_text("Or draw one").click()
            expect(page.locator("#cp-draw")).not_to_contain_text("select the draw tool", timeout=30_000)
            stroke(page, page.locator("#cp-draw canvas").first, [(0.35, 0.25), (0.6, 0.25), (0.45, 0.75)])
        if tab == "Translate":
            page.locator("#tr-input input[type=file]").set_input_files(str(EXAMPLE_DIGIT))
            expect(page.locator("#tr-input img")).to_be_visible(timeout=30_000)
        if tab != "2D playground":
            click_every_button_in_view(tab.lower())
            continue
        expect(page.locator("#pg-data-plot .js-plotly-plot")).to_be_visible(timeout=30_000)
        for sub in ("GMM + EM", "PPCA", "Flow", "GAN lab", "Divergences"):
            page.get_by_role("tab", name=sub, exact=True).click()
            page.wait_for_timeout(500)
            click_every_button_in_view(sub.split()[0].lower())
    page.wait_for_timeout(3000)  # the last answers land
    assert page.locator(".toast-body.error").count() == 0
    assert sorted(clicked) == sorted(wanted), set(wanted) ^ set(clicked)


@pytest.mark.slow
def test_browser_address_holds_the_view(browser_page, app_url):
    """A link reproduces a view: the open tab and the main controls come from the address, and changes go back in."""
    from playwright.sync_api import expect

    page = browser_page
    page.goto(app_url + "?tab=translate&seed=7&models=vae-mnist,dcgan-mnist&temperature=0.8&model=stargan-mnist&n=oops")
    expect(page.locator("#tr-model input")).to_have_value(re.compile("StarGAN"), timeout=30_000)
    page.get_by_role("tab", name="Sample", exact=True).click()
    expect(page.locator("#sample-seed input")).to_have_value("7")
    checked = page.locator("#sample-models input:checked")
    expect(checked).to_have_count(2)
    expect(page.locator("#sample-n input[type=number]")).to_have_value("16")  # "oops" does not fit: the default stays
    page.locator("#sample-seed input").fill("12")
    page.locator("#sample-seed input").press("Enter")
    page.wait_for_function("() => new URL(location).searchParams.get('seed') === '12'", timeout=10_000)
    assert "tab=sample" in page.url


@pytest.mark.slow
def test_browser_a_link_takes_no_click_before_its_values_are_in(browser_page, app_url):
    """On a busy server the address's values reach the controls late; a click on Sample before then drew the default
    view. Hold that answer back: the button takes no click until it comes, then samples the link's view."""
    from playwright.sync_api import Error, expect

    page = browser_page
    held = []

    def hold_the_first(route):  # the restore: the page's one call off the queue
        held.append(route) if not held else route.continue_()

    page.route(re.compile(r"/gradio_api/run/predict"), hold_the_first)
    page.goto(app_url + "?tab=sample&n=4&models=nice-mnist")
    page.wait_for_function("() => document.querySelector('#sample-button')")
    page.wait_for_timeout(500)
    assert len(held) == 1
    with pytest.raises(Error):
        page.locator("#sample-button").click(trial=True, timeout=2_000)  # actionability only: no click is sent
    held[0].continue_()
    page.locator("#sample-button").click()
    expect(page.locator("#caption-nice-mnist")).to_contain_text(" ms", timeout=60_000)
    page.wait_for_timeout(3_000)  # a click on the default view would show its models by now
    assert page.evaluate("() => [...document.querySelectorAll('[id^=slot-]')].filter(e => e.offsetParent).length") == 1


@pytest.mark.slow
def test_api_complete_fills_the_hidden_pixels_and_streams(client):
    from gradio_client import handle_file

    digit = handle_file(str(REPO / "assets" / "examples" / "vae-digit-3.png"))
    job = client.submit(
        ["pixelrnn-mnist", "vae-mnist"], digit, "bottom half", None, 4, 0, 1.0, "any", 0.5, api_name="/complete"
    )
    seen, *slots, summary = job.result()
    assert Image.open(seen).size == (224, 224)
    for name in ("pixelrnn-mnist", "vae-mnist"):
        result = summary[name]
        assert "error" not in result and result["log_p_nats"] == sorted(result["log_p_nats"], reverse=True)
    assert summary["pixelrnn-mnist"]["mean_entropy_bits"] > 0 and "mean_entropy_bits" not in summary["vae-mnist"]
    partial = [o[-1]["pixelrnn-mnist"] for o in job.outputs()[:-1] if "pixelrnn-mnist" in o[-1]]
    assert any("steps_done" in p for p in partial), "the rows stream in"


@pytest.mark.slow
@pytest.mark.parametrize("width", [1280, 390])
def test_browser_complete_paints_a_mask_and_streams_the_answers(browser_page, app_url, width):
    """Pick an example, paint over it with the pointer (no Brush click), complete: what the models see follows the
    painting, captions stream while the models work, every model answers."""
    from playwright.sync_api import expect

    from genmodels.tasks.complete import completing_models

    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(app_url + "?tab=complete")
    page.locator("#cp-examples button.gallery-item").first.click()
    expect(page.locator("#cp-seen img")).to_be_visible(timeout=30_000)
    before = page.locator("#cp-seen img").get_attribute("src")
    expect(page.locator("#cp-paint")).not_to_contain_text("select the draw tool", timeout=30_000)
    stroke(page, page.locator("#cp-paint canvas").first, [(0.25, 0.3), (0.75, 0.35)])
    # the painted stroke becomes the mask: the picture of what the models see changes
    page.wait_for_function(
        "(old) => { const img = document.querySelector('#cp-seen img'); return img && img.src !== old; }",
        arg=before,
        timeout=30_000,
    )
    page.evaluate(
        """() => { window.captions = [];
        new MutationObserver(() => window.captions.push(document.querySelector('#cp-slots').innerText))
          .observe(document.querySelector('#cp-slots'), {subtree: true, childList: true, characterData: true}); }"""
    )
    page.locator("#cp-button").click()
    for name in completing_models():
        expect(page.locator(f"#cp-caption-{name}")).to_contain_text(" ms", timeout=120_000)
        grid = page.locator(f"#cp-grid-{name} img")
        grid.scroll_into_view_if_needed()  # lazy pictures load once near the viewport (a phone's long column)
        expect(grid).to_be_visible()
    assert any("working:" in text for text in page.evaluate("window.captions")), "partial answers stream in"
    expect(page.locator(".toast-body")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / f"complete-{width}.png"), full_page=True)


@pytest.mark.slow
def test_browser_complete_takes_a_drawn_digit(browser_page, app_url):
    """Drawing on the pad (no Brush click) makes the digit the models complete; an empty pad gets our sentence."""
    from playwright.sync_api import expect

    page = browser_page
    page.goto(app_url + "?tab=complete")
    page.locator("#cp-draw-box").get_by_text("Or draw one").click()
    page.locator("#cp-use-draw").click()
    expect(page.locator(".toast-body").first).to_contain_text("Draw a digit on the pad first.", timeout=30_000)
    expect(page.locator("#cp-draw")).not_to_contain_text("select the draw tool", timeout=30_000)
    stroke(page, page.locator("#cp-draw canvas").first, [(0.35, 0.25), (0.6, 0.25), (0.45, 0.75)])
    page.locator("#cp-use-draw").click()
    expect(page.locator("#cp-input img")).to_be_visible(timeout=30_000)  # the drawing is now the digit
    expect(page.locator("#cp-seen img")).to_be_visible(timeout=30_000)
    page.locator("#cp-button").click()
    expect(page.locator("#cp-caption-vae-mnist")).to_contain_text(" ms", timeout=120_000)
    page.screenshot(path=str(ARTIFACTS / "complete-drawn-digit.png"), full_page=True)


def gallery(output) -> list[tuple[str, str]]:
    """A gr.Gallery's value from gradio_client: (picture file, caption) per item."""
    return [
        (item["image"] if isinstance(item["image"], str) else item["image"]["path"], item["caption"]) for item in output
    ]


@pytest.mark.slow
def test_api_latent_endpoints(client):
    """Every Latent endpoint through the running app: walk, arithmetic, encode, direction, latent_map, latent_point,
    denoise; and a bad operand answered in our words."""
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    digit = handle_file(str(EXAMPLE_DIGIT))
    lerp, slerp, gif, info = client.predict("vae-mnist", "seed", 0, "your digit", 0, 5, digit, api_name="/walk")
    assert len(gallery(lerp)) == len(gallery(slerp)) == 5 and "ms a frame" in info
    assert all(re.fullmatch(r"\d · \d+%", caption) for _, caption in gallery(lerp) + gallery(slerp))
    with Image.open(gif) as animation:
        assert animation.n_frames == 5
    items = gallery(
        client.predict("wgan-gp-mnist", "mean of 9", 0, "mean of 4", 0, "mean of 1", 0, None, api_name="/arithmetic")
    )
    assert [caption.split(":")[0] for _, caption in items] == ["A", "B", "C", "A − B + C"]
    encoded, table, summary = client.predict(
        ["dcgan-mnist", "bigan-mnist", "glow-mnist"], digit, 30, 0, api_name="/encode"
    )
    assert len(gallery(encoded)) == 3 and "⚠️" not in table and len(table.splitlines()) == 2 + 3
    assert summary["glow-mnist"]["mse"] < 1e-6 and summary["dcgan-mnist"]["steps"] == 30
    moved, caption = client.predict("vae-mnist", "seed", 0, "thickness", 1.5, None, api_name="/direction")
    assert Image.open(moved).size == (224, 224) and "ink" in caption
    plot, manifold, note, z1, z2 = client.predict("linear-ae-mnist", api_name="/latent_map")
    assert "PCA" in note and Image.open(manifold).size == (420, 420)
    point, point_caption = client.predict("ae2d-mnist", 0, 0, api_name="/latent_point")
    assert re.fullmatch(r"reads \d · \d+%", point_caption)
    noisy, cleaned, text = client.predict(digit, 0.3, 0, api_name="/denoise")
    assert "cleaned" in text
    with pytest.raises(AppError) as bad:
        client.predict("vae-mnist", "sideways", 0, "seed", 1, 5, None, api_name="/walk")
    assert "Each operand must be one of" in str(bad.value) and "Traceback" not in str(bad.value)


@pytest.mark.slow
@pytest.mark.parametrize("width", [1280, 390])
def test_browser_latent_walk_arithmetic_encode(browser_page, app_url, width):
    """Run a walk, the arithmetic and an encode of an example digit: frames, results and reconstructions appear."""
    from playwright.sync_api import expect

    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(app_url + "?tab=latent")
    page.locator("#lt-walk").click()
    expect(page.locator("#lt-slerp img")).to_have_count(8, timeout=60_000)
    expect(page.locator("#lt-walk-info")).to_contain_text("ms a frame")
    page.screenshot(path=str(ARTIFACTS / f"latent-walk-{width}.png"), full_page=True)
    page.get_by_role("tab", name="Arithmetic", exact=True).click()
    page.locator("#lt-arith").click()
    expect(page.locator("#lt-arith-out img")).to_have_count(4, timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / f"latent-arithmetic-{width}.png"), full_page=True)
    page.locator("#lt-examples button.gallery-item").first.click()  # an example digit becomes yours
    expect(page.locator("#lt-input img")).to_be_visible(timeout=30_000)
    page.get_by_role("tab", name="Encode", exact=True).click()
    page.locator("#lt-encode").click()
    expect(page.locator("#lt-encoded img")).to_have_count(4, timeout=120_000)
    expect(page.locator(".toast-body")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / f"latent-encode-{width}.png"), full_page=True)
    # directions: the start is drawn as the sub-tab opens; the slider (keyboard: 4 steps of 0.25) moves it
    page.get_by_role("tab", name="Directions", exact=True).click()
    expect(page.locator("#lt-moved img")).to_be_visible(timeout=30_000)
    expect(page.locator("#lt-moved-caption")).to_contain_text("reads ", timeout=30_000)
    start = page.locator("#lt-moved-caption").inner_text()
    page.locator("#lt-amount input[type=range]").focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#lt-amount input[type=number]")).to_have_value("1")
    expect(page.locator("#lt-moved-caption")).not_to_have_text(start, timeout=30_000)
    expect(page.locator(".toast-body")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / f"latent-directions-{width}.png"), full_page=True)
    # the 2D map: a click on a tile of the decoded manifold decodes that point
    page.get_by_role("tab", name="Autoencoders", exact=True).click()
    page.locator("#lt-map").click()
    expect(page.locator("#lt-manifold img")).to_be_visible(timeout=60_000)
    page.locator("#lt-manifold img").click(position={"x": 5, "y": 5})
    expect(page.locator("#lt-point-caption")).to_contain_text("reads ", timeout=30_000)
    expect(page.locator(".toast-body")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / f"latent-map-{width}.png"), full_page=True)


@pytest.mark.slow
@pytest.mark.parametrize("width", [1280, 390])
def test_browser_comparison_table(browser_page, app_url, width):
    """The Sample tab's comparison table opens and holds every sampler, and the real images' reference row."""
    from playwright.sync_api import expect

    from genmodels import registry
    from genmodels.tasks.sample import sampleable_models

    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(app_url + "?tab=sample")
    page.locator("#compare").get_by_text("Compare every model").click()
    table = page.locator("#compare-table")
    expect(table).to_contain_text("real training images (reference)", timeout=30_000)
    for name in sampleable_models():
        expect(table).to_contain_text(registry.get(name).title)
    expect(table).to_contain_text("bits/dim (exact)")
    # readable on a phone too: a column keeps its width (the table scrolls sideways), not a letter a line
    first = table.locator(".body-cell.first-column").first
    assert first.bounding_box()["width"] >= 150, first.bounding_box()
    table.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"comparison-{width}.png"), full_page=True)
