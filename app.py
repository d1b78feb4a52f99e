"""genmodels: deep generative models in the browser. Layout and wiring only; the work is in genmodels.tasks.

python app.py            # honours GRADIO_SERVER_NAME / GRADIO_SERVER_PORT
"""

from __future__ import annotations

import functools
import inspect
import logging
from pathlib import Path

import gradio as gr

from genmodels import registry, tasks
from genmodels.playground.datasets import PRESETS
from genmodels.playground.gan2d import LOSSES
from genmodels.tasks import playground as pg
from genmodels.tasks import translate

CSS = """
.slot-image img { image-rendering: pixelated; }
/* a phone fits all five playground sub-tabs on one line instead of folding three into a menu */
@media (max-width: 480px) { .tab-container button { padding: 0 7px; } }
"""
SAMPLE_HELP = """Every model draws from the **same seed**, so changing one control changes one thing.
**Temperature** scales the spread of every latent model's prior and divides autoregressive models' logits
(lower = cleaner, less varied). **Truncation** (GANs) redraws each latent coordinate into [−t, t]; 0 turns it off.
**Digit** asks the class-conditional Gated PixelCNN for one digit; *any* draws a digit at random first, then the
image given it (the mixture over digits its NLL badge scores). Autoregressive models (PixelCNN, Gated PixelCNN,
PixelRNN) draw pixel by pixel in raster order, and you watch the rows fill in. The **VQ-VAE** has no Gaussian
latent: it draws a 7×7 grid of codebook indices from its own Gated PixelCNN prior, then decodes it.
The badge is the model's held-out score on the test split; the caption under each grid lists the digits the
project's classifier sees. *Nearest training image* puts beside every sample the closest of the 8,000 training
images (L2 in pixels): a sample that equals its neighbour was memorised."""


def user_errors(fn):
    """Show a task's ValueError as a gr.Error (a message in the UI and the API), for functions and generators."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen(*args):
            try:
                yield from fn(*args)
            except ValueError as exc:
                raise gr.Error(str(exc)) from None

        return gen

    @functools.wraps(fn)
    def wrapper(*args):
        try:
            return fn(*args)
        except ValueError as exc:
            raise gr.Error(str(exc)) from None

    return wrapper


def _slot_updates(result: dict | None) -> list:
    """Outputs of one model's slot: column visibility, grid, caption, nearest-neighbour grid."""
    if result is None:
        return [gr.update(visible=False), None, "", gr.update(visible=False, value=None)]
    if "error" in result:
        return [gr.update(visible=True), None, f"**{result['title']}**: ⚠️ {result['error']}", gr.update(visible=False)]
    if "rows_done" in result:
        caption = f"**{result['title']}** · drawing row by row: {result['rows_done']}/{result['rows']}"
        return [gr.update(visible=True), result["grid"], caption, gr.update(visible=False, value=None)]
    timing = f"{result['sample_s'] * 1000:.0f} ms" + (
        f" (+ load {result['load_s']:.2f} s)" if result["load_s"] > 0.05 else ""
    )
    lines = [f"**{result['title']}** · {timing}", f"`{result['badge']}`"]
    if result.get("labels") is not None:
        lines.append("classifier: " + " ".join(str(c) for c in result["labels"]))
    nearest = gr.update(visible=False, value=None)
    if "nearest_grid" in result:
        lines.append(f"mean L2 to nearest training image: {result['nearest_l2_mean']:.2f}")
        nearest = gr.update(visible=True, value=result["nearest_grid"])
    elif "nearest_error" in result:
        lines.append(f"⚠️ {result['nearest_error']}")
    return [gr.update(visible=True), result["grid"], "\n\n".join(lines), nearest]


@user_errors
def run_sample(models: list[str], n: float, seed: float, temperature: float, truncation: float, nearest: bool, digit):
    """The Sample button and `api_name=\"sample\"`: one grid, caption and nearest view per model, then the JSON.

    Streams: the slots fill in model by model, and autoregressive models' grids row by row.
    """
    for results in tasks.sample_stream(models, n, seed, temperature, truncation, nearest, digit):
        by_name = {r["model"]: r for r in results}
        outputs = []
        for name in tasks.sampleable_models():
            outputs += _slot_updates(by_name.get(name))
        yield outputs + [tasks.summary(results)]


@user_errors
def run_receptive_fields(row: float, col: float) -> list:
    """The receptive-field view (`api_name=\"receptive_field\"`): a map and a caption per autoregressive model."""
    slots, info = tasks.receptive_fields(row, col)
    return [value for image, caption in slots for value in (image, caption)] + [info]


def pick_pixel(evt: gr.SelectData) -> tuple[int, int]:
    """A click on a receptive-field map picks that pixel (the maps are drawn 8× larger than the image)."""
    x, y = evt.index
    return min(int(y) // tasks.receptive.SCALE, 27), min(int(x) // tasks.receptive.SCALE, 27)


def sample_tab() -> None:
    with gr.Tab("Sample", id="sample"):
        gr.Markdown(SAMPLE_HELP)
        with gr.Row():
            with gr.Column(scale=1, min_width=240):
                choices = [(registry.get(n).title, n) for n in tasks.sampleable_models()]
                models = gr.CheckboxGroup(choices, value=tasks.DEFAULT_MODELS, label="Models", elem_id="sample-models")
                n = gr.Slider(1, tasks.MAX_SAMPLES, value=16, step=1, label="Samples per model", elem_id="sample-n")
                seed = gr.Number(0, label="Seed", elem_id="sample-seed")
                temperature = gr.Slider(0.05, 2.0, value=1.0, step=0.05, label="Temperature")
                digit = gr.Dropdown(
                    ["any", *map(str, range(10))], value="any", label="Digit (class-conditional models)"
                )
                truncation = gr.Slider(0.0, 4.0, value=0.0, step=0.1, label="Truncation (GAN latent; 0 = off)")
                nearest = gr.Checkbox(
                    False, label="Nearest training image (memorisation check)", elem_id="sample-nearest"
                )
                button = gr.Button("Sample", variant="primary", elem_id="sample-button")
            with gr.Column(scale=4):
                slot_outputs = []
                with gr.Row(equal_height=False):
                    for name in tasks.sampleable_models():
                        with gr.Column(visible=False, min_width=220, elem_id=f"slot-{name}") as column:
                            grid = gr.Image(
                                label=registry.get(name).title,
                                format="png",
                                buttons=["download"],
                                interactive=False,
                                elem_id=f"grid-{name}",
                                elem_classes="slot-image",
                            )
                            caption = gr.Markdown(elem_id=f"caption-{name}")
                            neighbours = gr.Image(
                                label="sample | nearest training image",
                                format="png",
                                buttons=["download"],
                                interactive=False,
                                visible=False,
                                elem_classes="slot-image",
                            )
                        slot_outputs += [column, grid, caption, neighbours]
                with gr.Accordion("Details (JSON)", open=False):
                    details = gr.JSON(elem_id="sample-json")
        # preprocess=False: raw values reach the task, which checks them all and says what is wrong in words.
        button.click(
            run_sample,
            [models, n, seed, temperature, truncation, nearest, digit],
            slot_outputs + [details],
            api_name="sample",
            preprocess=False,
        )
        receptive_field_view()


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
            for name in tasks.receptive.MODELS:
                with gr.Column(min_width=200):
                    image = gr.Image(
                        label=registry.get(name).title, interactive=False, elem_id=f"rf-{name}", format="png"
                    )
                    caption = gr.Markdown()
                    outputs += [image, caption]
        info = gr.JSON(visible=False)
        for control in (row, col):
            control.release(run_receptive_fields, [row, col], outputs + [info], api_name=False)
        for image in outputs[0::2]:
            image.select(pick_pixel, None, [row, col], api_name=False).then(
                run_receptive_fields, [row, col], outputs + [info], api_name=False
            )
        button = gr.Button("Show receptive fields", elem_id="rf-button")
        button.click(run_receptive_fields, [row, col], outputs + [info], api_name="receptive_field")


def control(label: str, **kwargs) -> gr.Button:
    """A button in a row of controls: small enough that a phone fits four on a line."""
    return gr.Button(label, size="md", min_width=72, **kwargs)


PLAYGROUND_HELP = """Theory on 2D data, live. Pick or make a data set, then fit it five ways below.
Every action is also an API endpoint (`playground_*`, listed in the README)."""


@user_errors
def load_data(source: str, preset: str, n: float, seed: float, sketch: dict | None, csv_path: str | None) -> tuple:
    drawing = sketch.get("composite") if isinstance(sketch, dict) else sketch
    return pg.make_data(source, preset, n, seed, drawing, csv_path)


@user_errors
def flow_train(trainer, steps: float):
    yield from pg.flow_train(trainer, steps)


@user_errors
def gan_play(session, speed: float):
    """Stream the GAN views; figures the task did not redraw this frame are not sent again."""
    last: tuple = ()
    for frame in pg.gan_play(session, speed):
        yield [gr.skip() if i < len(last) and 1 <= i <= 4 and out is last[i] else out for i, out in enumerate(frame)]
        last = frame


def playground_first_views() -> tuple:
    """What the playground shows before anyone clicks: the default data set and both divergence examples."""
    return (*pg.make_data(), *pg.divergence(), *pg.kl_fit())


def playground_tab(demo: gr.Blocks) -> None:
    with gr.Tab("2D playground", id="playground"):
        gr.Markdown(PLAYGROUND_HELP)
        data = gr.State(None)
        with gr.Row():
            with gr.Column(scale=1, min_width=260):
                source = gr.Radio(list(pg.SOURCES), value="preset", label="Data source", elem_id="pg-source")
                preset = gr.Dropdown(list(PRESETS), value="8 Gaussians (ring)", label="Preset", elem_id="pg-preset")
                n_points = gr.Slider(50, 5000, value=1000, step=50, label="Points")
                seed = gr.Number(0, label="Seed")
                with gr.Accordion("Draw or upload your own", open=False):
                    sketch = gr.Sketchpad(label="Draw: ink becomes density", height=300, elem_id="pg-sketch")
                    csv_file = gr.File(label="CSV of x,y rows", file_types=[".csv", ".txt"], type="filepath")
                load = gr.Button("Use this data", variant="primary", elem_id="pg-load")
            data_plot = gr.Plot(label="Data", elem_id="pg-data-plot")
        data_inputs = [source, preset, n_points, seed, sketch, csv_file]
        load.click(load_data, data_inputs, [data, data_plot], api_name="playground_data")
        preset.change(load_data, data_inputs, [data, data_plot], api_name=False)

        with gr.Tabs():
            with gr.Tab("GMM + EM", id="pg-gmm"):
                gmm = gr.State(None)
                with gr.Row():
                    k = gr.Slider(1, 20, value=8, step=1, label="K")
                    init = gr.Radio(["kmeans++", "random"], value="kmeans++", label="Initialisation")
                with gr.Row():
                    init_btn = control("Initialise", elem_id="gmm-init")
                    e_btn, m_btn = control("E-step"), control("M-step")
                    em_btn = control("E + M", elem_id="gmm-em")
                    conv_btn = control("Converge", variant="primary", elem_id="gmm-converge")
                    bic_btn = control("BIC vs K")
                with gr.Row():
                    gmm_plot = gr.Plot(label="Mixture", elem_id="gmm-plot")
                    with gr.Column():
                        gmm_ll = gr.Plot(label="Log-likelihood")
                        bic_plot = gr.Plot(label="BIC")
                gmm_info = gr.JSON(label="Fit")
                gmm_out = [gmm, gmm_plot, gmm_ll, gmm_info]
                init_btn.click(
                    user_errors(pg.gmm_start),
                    [data, k, init, seed],
                    gmm_out,
                    api_name="playground_gmm_init",
                    concurrency_id="gmm",
                    concurrency_limit=1,
                )
                for button, action in ((e_btn, "E"), (m_btn, "M"), (em_btn, "EM"), (conv_btn, "converge")):
                    button.click(
                        user_errors(functools.partial(pg.gmm_step, action=action)),
                        [data, gmm],
                        gmm_out,
                        api_name=f"playground_gmm_{action.lower()}",
                        concurrency_id="gmm",
                        concurrency_limit=1,
                    )
                bic_btn.click(
                    user_errors(pg.gmm_bic),
                    [data, gr.State(10), init, seed],
                    [bic_plot, gmm_info],
                    api_name="playground_gmm_bic",
                )

            with gr.Tab("PPCA", id="pg-ppca"):
                ppca_btn = gr.Button("Fit PPCA (closed form and EM) and PCA", variant="primary", elem_id="ppca-fit")
                with gr.Row():
                    ppca_plot = gr.Plot(label="PPCA vs PCA", elem_id="ppca-plot")
                    ppca_ll = gr.Plot(label="EM log-likelihood")
                ppca_info = gr.JSON(label="Closed form vs EM")
                ppca_btn.click(
                    user_errors(pg.ppca_view), [data, seed], [ppca_plot, ppca_ll, ppca_info], api_name="playground_ppca"
                )

            with gr.Tab("Flow", id="pg-flow"):
                flow = gr.State(None)
                with gr.Row():
                    layers = gr.Slider(2, 16, value=8, step=1, label="Coupling layers")
                    flow_steps = gr.Slider(100, 5000, value=1000, step=100, label="Steps per run")
                with gr.Row():
                    flow_new = control("New flow", elem_id="flow-new")
                    flow_run = control("Train", variant="primary", elem_id="flow-train")
                with gr.Row():
                    flow_density = gr.Plot(label="Density", elem_id="flow-density")
                    flow_warp = gr.Plot(label="Warped grid")
                flow_ll = gr.Plot(label="Log-likelihood")
                flow_info = gr.JSON(label="Flow")
                flow_views = [flow_density, flow_warp, flow_ll, flow_info]
                flow_new.click(
                    user_errors(pg.flow_start),
                    [data, seed, layers],
                    [flow, *flow_views],
                    api_name="playground_flow_new",
                    concurrency_id="flow",
                    concurrency_limit=1,
                )
                flow_run.click(
                    flow_train,
                    [flow, flow_steps],
                    [flow, *flow_views],
                    api_name="playground_flow_train",
                    concurrency_id="flow",
                    concurrency_limit=1,
                )

            with gr.Tab("GAN lab", id="pg-gan"):
                gan = gr.State(None)
                with gr.Row():
                    loss = gr.Radio(list(LOSSES), value="wgan-gp", label="Loss", elem_id="gan-loss")
                    speed = gr.Slider(
                        1, 200, value=200, step=1, label="Speed: at most this many training steps per frame"
                    )
                with gr.Row():
                    gan_new = control("New GAN", elem_id="gan-new")
                    gan_play_btn = control("Play", variant="primary", elem_id="gan-play")
                    gan_pause_btn = control("Pause", elem_id="gan-pause")
                    gan_step_btn = control("Step", elem_id="gan-step")
                with gr.Row():
                    gan_plot = gr.Plot(label="Real, generated, D / critic", elem_id="gan-plot")
                    gan_optimal = gr.Plot(label="Optimal discriminator", elem_id="gan-optimal")
                with gr.Row():
                    gan_losses = gr.Plot(label="Losses")
                    gan_divs = gr.Plot(label="Divergences", elem_id="gan-divs")
                gan_info = gr.JSON(label="Now", elem_id="gan-info")
                gan_views = [gan, gan_plot, gan_losses, gan_divs, gan_optimal, gan_info]
                gan_new.click(
                    user_errors(pg.gan_start),
                    [data, loss, seed],
                    gan_views,
                    api_name="playground_gan_new",
                    concurrency_id="gan",
                    concurrency_limit=1,
                )
                gan_play_btn.click(gan_play, [gan, speed], gan_views, api_name="playground_gan_play")
                gan_pause_btn.click(pg.gan_pause, [gan], None, api_name="playground_gan_pause")
                gan_step_btn.click(
                    user_errors(pg.gan_step),
                    [gan, gr.State(1)],
                    gan_views,
                    api_name="playground_gan_step",
                    concurrency_id="gan",
                    concurrency_limit=1,
                )

            with gr.Tab("Divergences", id="pg-div"):
                gr.Markdown(
                    "P is the line x = 0, Q the line x = θ, both uniform in y. For θ ≠ 0: KL = ∞, JS = ln 2, "
                    "W = |θ|; only the Wasserstein distance tells how far apart they are."
                )
                theta = gr.Slider(-2, 2, value=0.5, step=0.05, label="θ", elem_id="div-theta")
                with gr.Row():
                    lines_plot = gr.Plot(label="Parallel lines", elem_id="div-plot")
                    div_info = gr.JSON(label="Estimators vs closed forms", elem_id="div-json")
                theta.change(
                    user_errors(pg.divergence), [theta], [lines_plot, div_info], api_name="playground_divergence"
                )
                separation = gr.Slider(0.5, 8, value=4, step=0.5, label="Distance between the two modes")
                with gr.Row():
                    fit_plot = gr.Plot(label="Forward vs reverse KL", elem_id="kl-fit-plot")
                    fit_info = gr.JSON(label="Fits")
                separation.change(
                    user_errors(pg.kl_fit), [separation], [fit_plot, fit_info], api_name="playground_kl_fit"
                )
        demo.load(
            playground_first_views, None, [data, data_plot, lines_plot, div_info, fit_plot, fit_info], api_name=False
        )


TRANSLATE_HELP = """Unpaired image-to-image translation: upload, paste or take a picture and pick a direction. You get
the translation, the round trip back (A → B → A: what cycle consistency keeps) and where the picture changed.
**Bundled** (trained here on MNIST, no pairs): a CycleGAN that turns thin-stroke digits thick and back, and a StarGAN
that does thin / medium / thick with one generator where CycleGAN would need one per pair. Photograph a digit drawn on
paper, or use an example. **horse ↔ zebra** uses the real CycleGAN weights from the Hugging Face Hub
(`tmabraham/horse2zebra_cyclegan`, downloaded once, ~113 MB); photos keep their aspect ratio, with the shorter side at
the working size."""
EXAMPLES = sorted(str(p) for p in (Path(__file__).parent / "assets" / "examples").glob("*.png"))


def translate_choices(name: str):
    directions = translate.directions(name)
    return gr.update(choices=directions, value=directions[0])


DOWNLOAD_PROGRESS = gr.Progress(track_tqdm=True)  # huggingface_hub's tqdm bars become the UI's progress bar


@user_errors
def run_translate(image, name: str, direction: str, size: float, progress=DOWNLOAD_PROGRESS):
    """The Translate button and `api_name="translate"`; a Hub download shows as a progress bar.

    Inputs arrive unprocessed (preprocess=False): the direction list depends on the model, so Gradio's check against
    the radio's first choices would refuse valid API calls; the task checks every value itself.
    """
    path = image.get("path") if isinstance(image, dict) else image
    out, back, heat, info, seen = translate.translate(path, name, direction, size)
    return seen, out, back, heat, translate.status_line(info), info


def translate_tab() -> None:
    with gr.Tab("Translate", id="translate"):
        gr.Markdown(TRANSLATE_HELP)
        names = translate.models()
        with gr.Row():
            with gr.Column(scale=1, min_width=260):
                image = gr.Image(
                    sources=["upload", "webcam", "clipboard"], type="filepath", label="Picture", elem_id="tr-input"
                )
                model = gr.Dropdown(
                    [(registry.get(n).title, n) for n in names], value=names[0], label="Model", elem_id="tr-model"
                )
                direction = gr.Radio(
                    translate.directions(names[0]),
                    value=translate.directions(names[0])[0],
                    label="Direction",
                    elem_id="tr-direction",
                )
                size = gr.Slider(
                    *translate.WORKING_SIZES,
                    value=translate.DEFAULT_WORKING_SIZE,
                    step=32,
                    label="Working size: shorter side in pixels (photo models)",
                )
                button = gr.Button("Translate", variant="primary", elem_id="tr-button")
                if EXAMPLES:
                    gr.Examples(EXAMPLES, [image], label="Examples (digits drawn by this project's VAE)")
            with gr.Column(scale=2):
                with gr.Row():
                    seen = gr.Image(label="What the network sees", interactive=False, elem_id="tr-seen")
                    output = gr.Image(label="Translated", interactive=False, elem_id="tr-output")
                    back = gr.Image(label="Back again (A → B → A)", interactive=False)
                    heat = gr.Image(label="Where it changed", interactive=False)
                status = gr.Markdown(elem_id="tr-status")
                info = gr.JSON(label="Details", elem_id="tr-info")
        model.change(translate_choices, [model], [direction], api_name=False)
        button.click(
            run_translate,
            [image, model, direction, size],
            [seen, output, back, heat, status, info],
            api_name="translate",
            preprocess=False,
            concurrency_id="translate",
            concurrency_limit=1,
        )


with gr.Blocks(title="genmodels") as demo:
    gr.Markdown("# genmodels\nDeep generative models you can explore in the browser, each trained on real data.")
    sample_tab()
    translate_tab()
    playground_tab(demo)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    demo.queue(default_concurrency_limit=2).launch(css=CSS, show_error=True, max_file_size="20mb")
