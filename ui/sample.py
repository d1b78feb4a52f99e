"""The Sample tab: every family side by side from one seed, and the autoregressive models' receptive fields."""

from __future__ import annotations

import gradio as gr

from genmodels import tasks
from genmodels.tasks import receptive
from genmodels.tasks.common import as_bool, as_float, as_int, as_seed

from . import share
from .common import on_gpu, picture, picture_file, user_errors

SAMPLE_HELP = """Every model draws from the **same seed**, so changing one control changes one thing.
**Truncation** (GANs) redraws each latent coordinate into [−t, t]; 0 turns it off. **Digit** asks the
class-conditional Gated PixelCNN for one digit; *any* draws a digit at random first, then the image given it (the
mixture over digits its NLL badge scores). Autoregressive models (PixelCNN, Gated PixelCNN, PixelRNN) draw pixel by
pixel in raster order, and you watch the rows fill in. The **VQ-VAE** has no Gaussian latent: it draws a 7×7 grid of
codebook indices from its own Gated PixelCNN prior, then decodes it. The **flows** (NICE, RealNVP, Glow) are
invertible maps from a latent z of 784 numbers to the image; their badge is an exact likelihood in bits per pixel, and
RealNVP and Glow draw at 0.7 × the temperature (the Glow paper's reduced temperature). The badge is the model's
held-out score on the test split; the caption under each grid lists the digits the project's classifier sees.
*Nearest training image* puts beside every sample the closest image of the training set (L2 in pixels): a sample that
equals its neighbour was memorised.

**Temperature** (1 = the trained model) does not mean the same for every family:
""" + "\n".join(f"- **{models}**: {note}" for models, note in tasks.sample.temperature_notes())


def _slot_updates(result: dict | None) -> list:
    """Outputs of one model's slot: column visibility, grid, caption, nearest-neighbour grid."""
    if result is None:
        return [gr.update(visible=False), None, "", gr.update(visible=False, value=None)]
    if "error" in result:
        return [gr.update(visible=True), None, f"**{result['title']}**: ⚠️ {result['error']}", gr.update(visible=False)]
    if "rows_done" in result:
        caption = f"**{result['title']}** · drawing row by row: {result['rows_done']}/{result['rows']}"
        return [gr.update(visible=True), picture_file(result["grid"]), caption, gr.update(visible=False, value=None)]
    timing = f"{result['sample_s'] * 1000:.0f} ms" + (
        f" (+ load {result['load_s']:.2f} s)" if result["load_s"] > 0.05 else ""
    )
    lines = [f"**{result['title']}** · {timing}", f"`{result['badge']}`"]
    if "temperature_used" in result:
        lines.append(f"temperature {result['temperature_used']:g}: the nearest this family draws well at")
    if "temperature_drawn" in result:
        lines.append(f"drawn at temperature {result['temperature_drawn']:g} (0.7 × the slider: flows look best cooler)")
    if result.get("labels") is not None:
        lines.append("classifier: " + " ".join(str(c) for c in result["labels"]))
    nearest = gr.update(visible=False, value=None)
    if "nearest_grid" in result:
        lines.append(f"below, each sample beside its nearest training image: mean L2 {result['nearest_l2_mean']:.2f}")
        nearest = gr.update(visible=True, value=picture_file(result["nearest_grid"]))
    elif "nearest_error" in result:
        lines.append(f"⚠️ {result['nearest_error']}")
    return [gr.update(visible=True), picture_file(result["grid"]), "\n\n".join(lines), nearest]


@on_gpu
@user_errors
def run_sample(models: list[str], n: float, seed: float, temperature: float, truncation: float, nearest: bool, digit):
    """The Sample button and `api_name=\"sample\"`: one grid, caption and nearest view per model, then the JSON.

    Streams: the slots fill in model by model, and autoregressive models' grids row by row.
    """
    for results in tasks.sample_stream(models, n, seed, temperature, truncation, nearest, digit):
        yield _outputs(results)


@user_errors
def first_sample(*controls) -> list:
    """What the tab shows as a page opens, before any click: the samples for the page's controls (the defaults, or
    those of a shared link), computed once per process for each distinct view."""
    return _outputs(tasks.sample.first_view(*controls))


def _outputs(results: list[dict]) -> list:
    by_name = {r["model"]: r for r in results}
    outputs = []
    for name in tasks.sampleable_models():
        outputs += _slot_updates(by_name.get(name))
    return outputs + [tasks.summary(results)]


@user_errors
def run_receptive_fields(row: float, col: float) -> list:
    """The receptive-field view (`api_name=\"receptive_field\"`): a map and a caption per autoregressive model."""
    slots, info = tasks.receptive_fields(row, col)
    return [value for image, caption in slots for value in (picture_file(image), caption)] + [info]


def pick_pixel(evt: gr.SelectData) -> tuple[int, int]:
    """A click on a receptive-field map picks that pixel (the maps are drawn 8× larger than the image)."""
    x, y = evt.index
    return min(int(y) // receptive.SCALE, 27), min(int(x) // receptive.SCALE, 27)


def _models(text: str) -> list[str]:
    """The address's model list: known names only; none known keeps the default."""
    names = [name for name in text.split(",") if name in tasks.sampleable_models()]
    if not names:
        raise ValueError("no known model")
    return names


def _digit(text: str) -> str:
    return "any" if text == "any" else str(as_int(text, "Digit", 0, 9))


def build(demo: gr.Blocks) -> None:
    with share.tab(gr.Tab("Sample", id="sample"), "sample"):
        with gr.Row():
            with gr.Column(scale=1, min_width=240):
                models = gr.CheckboxGroup(
                    tasks.sample.model_choices(), value=tasks.DEFAULT_MODELS, label="Models", elem_id="sample-models"
                )
                n = gr.Slider(1, tasks.MAX_SAMPLES, value=16, step=1, label="Samples per model", elem_id="sample-n")
                seed = gr.Number(0, label="Seed", elem_id="sample-seed")
                temperature = gr.Slider(
                    0.05, 2.0, value=1.0, step=0.05, label="Temperature (what it does per family: below)"
                )
                digit = gr.Dropdown(
                    ["any", *map(str, range(10))], value="any", label="Digit (class-conditional models)"
                )
                truncation = gr.Slider(0.0, 4.0, value=0.0, step=0.1, label="Truncation (GAN latent; 0 = off)")
                nearest = gr.Checkbox(
                    False, label="Nearest training image (memorisation check)", elem_id="sample-nearest"
                )
                share.shared(models, "models", _models)
                share.shared(n, "n", lambda t: as_int(t, "n", 1, tasks.MAX_SAMPLES))
                share.shared(seed, "seed", as_seed)
                share.shared(temperature, "temperature", lambda t: as_float(t, "t", 0.05, 2.0))
                share.shared(digit, "digit", _digit)
                share.shared(truncation, "truncation", lambda t: as_float(t, "t", 0.0, 4.0))
                share.shared(nearest, "nearest", lambda t: as_bool(t, "nearest"))
            with gr.Column(scale=4, elem_classes="result-first"):
                button = gr.Button("Sample", variant="primary", elem_id="sample-button")
                slot_outputs = []
                with gr.Row(equal_height=False, elem_id="sample-slots"):
                    for _, name in tasks.sample.model_choices():
                        with gr.Column(visible=False, min_width=170, elem_id=f"slot-{name}") as column:
                            grid = picture(elem_id=f"grid-{name}")
                            caption = gr.Markdown(elem_id=f"caption-{name}")
                            neighbours = picture(visible=False, elem_id=f"nearest-{name}")
                        slot_outputs += [column, grid, caption, neighbours]
                with gr.Accordion("How to read these samples", open=False, elem_id="sample-help"):
                    gr.Markdown(SAMPLE_HELP)
                with gr.Accordion("Details (JSON)", open=False):
                    details = gr.JSON(elem_id="sample-json")
        controls = [models, n, seed, temperature, truncation, nearest, digit]
        # preprocess=False: raw values reach the task, which checks them all and says what is wrong in words.
        button.click(
            run_sample,
            controls,
            slot_outputs + [details],
            api_name="sample",
            preprocess=False,
            # one sampling call at a time, on one core (tasks.sample): the other core stays free for light events
            concurrency_id="sample",
            concurrency_limit=1,
        )
        comparison_view()
        receptive_field_view()
    # after the address's values are in the controls (share.restored), so a shared link opens on its own samples
    share.restored.append((first_sample, controls, slot_outputs + [details]))


COMPARISON_HELP = """Every model that samples, measured the same way by `python -m genmodels.evaluate` on the 1,000 test
images and read from its model card. **Likelihood**: exact, or an upper bound on the NLL (≤); nats per image for binary
pixels, bits per dimension for the flows' 8-bit pixels, so compare within a column's unit. **FD** (Fréchet distance),
**precision** (how many samples look real) and **recall** (how much of the real variety the samples cover; Kynkäänniemi
et al. 2019, k = 3) are taken in the project classifier's feature space on 1,000 samples at the family's temperature;
**≥ 90 % sure** is the share of samples the classifier reads with confidence. The last row is 1,000 real training
images scored the same way: what a perfect sampler would get. Time: 64 samples on this server's CPU."""


def comparison_view() -> None:
    """One table of every model that samples, from the model cards (what `evaluate` measured)."""
    table = tasks.sample.comparison()
    with gr.Accordion("Compare every model: likelihood, sample quality, speed, size", open=False, elem_id="compare"):
        gr.Dataframe(
            value=table["rows"],
            headers=table["headers"],
            interactive=False,
            wrap=True,
            max_height=720,
            # in pixels, so a phone scrolls the table sideways instead of folding each column to a letter a line
            column_widths=["196px", "108px", "212px", "76px", "96px", "84px", "104px", "96px", "104px", "104px"],
            elem_id="compare-table",
        )
        gr.Markdown(COMPARISON_HELP, elem_classes="glossary")


def receptive_field_view() -> None:
    with gr.Accordion("Receptive field: which earlier pixels does each autoregressive model see?", open=False):
        gr.Markdown(
            "Pick a pixel (sliders, or click a map). Blue: earlier pixels the prediction depends on (darker ="
            " stronger, |∂ logit / ∂ pixel|); orange: earlier pixels it ignores; red: the pixel; grey: it and"
            " everything after it, which must not matter. PixelCNN's masked 3×3 stack has a **blind spot** above"
            " right; the Gated PixelCNN's vertical + horizontal stacks close it."
        )
        with gr.Row():
            row = gr.Slider(0, 27, value=14, step=1, label="Row", elem_id="rf-row")
            col = gr.Slider(0, 27, value=14, step=1, label="Column", elem_id="rf-col")
        outputs = []
        with gr.Row():
            for _, name in receptive.model_choices():
                with gr.Column(min_width=200):
                    image = picture(elem_id=f"rf-{name}")
                    caption = gr.Markdown()
                    outputs += [image, caption]
        info = gr.JSON(visible=False)
        for control in (row, col):
            control.release(run_receptive_fields, [row, col], outputs + [info], api_name=False, preprocess=False)
        for image in outputs[0::2]:
            image.select(pick_pixel, None, [row, col], api_name=False, preprocess=False).then(
                run_receptive_fields, [row, col], outputs + [info], api_name=False, preprocess=False
            )
        button = gr.Button("Show receptive fields", elem_id="rf-button")
        button.click(run_receptive_fields, [row, col], outputs + [info], api_name="receptive_field", preprocess=False)
