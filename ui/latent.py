"""The Latent tab: walks, arithmetic, encoding your own digit, directions from data, and the 2D autoencoders."""

from __future__ import annotations

import gradio as gr

from genmodels.tasks import latent

from . import share
from .common import digit_input, on_gpu, picture, picture_file, user_errors

INTRO = """Every model here turns a latent z into a digit. **Walk** between two latents, do **arithmetic** on them,
**encode** your own digit (a GAN has no encoder: its z is found by optimisation, beside the BiGAN's one-pass encoder),
move along **directions** found from the training data, and see the **autoencoders**' 2D latent spaces whole. An
operand is a seed, your digit, or the mean latent of a digit class over the training set. Each frame says what the
project's classifier reads in it."""

PROGRESS = gr.Progress()


def _gallery(items: list) -> list:
    return [(picture_file(tile), text) for tile, text in items]


def frames_gallery(label: str, elem_id: str) -> gr.Gallery:
    """One row of walk frames, each captioned with the classifier's reading."""
    return gr.Gallery(
        label=label, columns=8, rows=1, height=150, object_fit="contain", allow_preview=True, elem_id=elem_id
    )


def _operand(label: str, source: str, seed: int, key: str) -> tuple[gr.Dropdown, gr.Number]:
    with gr.Row():
        choice = gr.Dropdown(list(latent.SOURCES), value=source, label=label, min_width=120, elem_id=f"lt-{key}")
        number = gr.Number(seed, label=f"{label} seed", precision=0, min_width=80, elem_id=f"lt-{key}-seed")
    return choice, number


@user_errors
def about(name) -> str:
    return latent.about(name)


@user_errors
def run_walk(name, a, a_seed, b, b_seed, frames, image):
    """The Walk button and `api_name="walk"`: lerp frames, slerp frames (captions: the classifier's reading), the GIF,
    and a line on the cost per frame."""
    out = latent.walk(name, a, a_seed, b, b_seed, frames, image)
    norms = out["norms"]
    info = (
        f"Decoding: {out['seconds_per_frame'] * 1000:.1f} ms a frame. ‖z‖ along the lerp: {norms['lerp'][0]:.1f} → "
        f"{min(norms['lerp']):.1f} (lowest) → {norms['lerp'][-1]:.1f}; along the slerp: {norms['slerp'][0]:.1f} → "
        f"{min(norms['slerp']):.1f} → {norms['slerp'][-1]:.1f}."
    )
    return _gallery(out["lerp"]), _gallery(out["slerp"]), out["gif"], info


@user_errors
def run_arithmetic(name, a, a_seed, b, b_seed, c, c_seed, image):
    """The arithmetic button and `api_name="arithmetic"`: A, B, C and A − B + C with the classifier's readings."""
    return _gallery(latent.arithmetic(name, a, a_seed, b, b_seed, c, c_seed, image)["images"])


@on_gpu
@user_errors
def run_encode(models, image, steps, seed, progress=PROGRESS):
    """The Encode button and `api_name="encode"`: each model's reconstruction of your digit (caption: the model and
    what the classifier reads), a table of how each encoded it, its time and error (and a line per model that could
    not run), the JSON; streamed while a GAN's optimisation runs."""
    for results in latent.encode_stream(models, image, steps, seed):
        items, summary = [], {}
        lines = ["| model | how | time | error per pixel | reads |", "|---|---|---|---|---|"]
        for r in results:
            summary[r["model"]] = {k: v for k, v in r.items() if k not in ("reconstruction", "model")}
            if "error" in r:
                lines.append(f"| {r['title']} | ⚠️ {r['error']} | | | |")
            elif "reconstruction" in r:
                digit, confidence = r["reading"]
                items.append((r["reconstruction"], f"{r['title']}: {digit} · {confidence:.0%}"))
                lines.append(
                    f"| {r['title']} | {r['method']} | {r['seconds'] * 1000:.0f} ms | {r['mse']:.4f} | "
                    f"{digit} ({confidence:.0%}) |"
                )
        working = results[-1]
        if "step" in working:
            progress((working["step"], working["steps"]), desc=f"{working['title']}: error {working['mse']:.4f}")
        yield _gallery(items), "\n".join(lines), summary


@user_errors
def run_direction(name, source, seed, which, amount, image):
    """The direction slider and `api_name="direction"`: the operand moved along a direction, and what it reads."""
    out = latent.direction(name, source, seed, which, amount, image)
    return picture_file(out["picture"]), f"reads {out['caption']} · ink {out['ink']:.3f} · slant {out['slant']:+.2f}"


@user_errors
def run_map(name):
    """The map button and `api_name="latent_map"`: the test digits in the 2D latent space, the decoded manifold, a
    note, and the z1 / z2 sliders set to the map's range (and the range kept, for clicks on the manifold)."""
    out = latent.latent_map(name)
    lo1, hi1, lo2, hi2 = out["extent"]
    z1 = gr.update(minimum=lo1, maximum=hi1, value=round((lo1 + hi1) / 2, 2))
    z2 = gr.update(minimum=lo2, maximum=hi2, value=round((lo2 + hi2) / 2, 2))
    return out["figure"], picture_file(out["manifold"]), out["note"], z1, z2, out["extent"]


def pick_point(extent, evt: gr.SelectData):
    """A click on the decoded manifold moves z1 and z2 to that tile (and the point decodes)."""
    if not extent:
        return gr.skip(), gr.skip()
    return latent.manifold_point(extent, *evt.index)


@user_errors
def run_point(name, z1, z2):
    """The z1 / z2 sliders and `api_name="latent_point"`: what the 2D model decodes there."""
    out = latent.latent_point(name, z1, z2)
    return picture_file(out["picture"]), f"reads {out['caption']}"


@user_errors
def run_denoise(image, noise, seed):
    """The denoise button and `api_name="denoise"`: your digit with noise, and the denoising autoencoder's answer."""
    out = latent.denoise(image, noise, seed)
    text = f"error per pixel: noisy {out['noisy_error']:.4f} → cleaned {out['cleaned_error']:.4f}"
    return picture_file(out["noisy"]), picture_file(out["cleaned"]), text


def build(demo: gr.Blocks) -> None:
    with share.tab(gr.Tab("Latent", id="latent"), "latent"):
        gr.Markdown(INTRO)
        with gr.Row():
            with gr.Column(scale=1, min_width=260):
                image = digit_input("lt", "Your digit")
            # a phone shows the model and the actions first, then your digit
            with gr.Column(scale=3, elem_classes="result-first"):
                with gr.Row(equal_height=True):
                    model = gr.Dropdown(
                        latent.model_choices(), value="bigan-mnist", label="Model", scale=1, elem_id="lt-model"
                    )
                    model_about = gr.Markdown(latent.about("bigan-mnist"), elem_classes="glossary")
                with gr.Tabs():
                    with gr.Tab("Walk", id="lt-walk-tab"):
                        with gr.Row():
                            a, a_seed = _operand("From", "seed", 0, "walk-a")
                            b, b_seed = _operand("To", "seed", 1, "walk-b")
                        with gr.Row():
                            frames = gr.Slider(
                                2, latent.MAX_FRAMES, value=8, step=1, label="Frames", elem_id="lt-frames"
                            )
                            walk_button = gr.Button("Walk", variant="primary", elem_id="lt-walk")
                        lerp = frames_gallery("Linear (lerp): the classifier's digit · confidence", "lt-lerp")
                        slerp = frames_gallery("Spherical (slerp)", "lt-slerp")
                        walk_info = gr.Markdown(elem_id="lt-walk-info")
                        gif = gr.File(label="GIF of the walk (lerp above, slerp below)", elem_id="lt-gif")
                    with gr.Tab("Arithmetic", id="lt-arith-tab"):
                        with gr.Row():
                            x_a, x_a_seed = _operand("A", "mean of 9", 0, "arith-a")
                            x_b, x_b_seed = _operand("B", "mean of 4", 0, "arith-b")
                            x_c, x_c_seed = _operand("C", "mean of 1", 0, "arith-c")
                        arith_button = gr.Button("A − B + C", variant="primary", elem_id="lt-arith")
                        arith = gr.Gallery(
                            label="Operands and result", columns=4, height="auto", elem_id="lt-arith-out"
                        )
                    with gr.Tab("Encode", id="lt-encode-tab"):
                        encoders = gr.CheckboxGroup(
                            latent.model_choices(),
                            value=["dcgan-mnist", "bigan-mnist", "vae-mnist", "glow-mnist"],
                            label="Models",
                            elem_id="lt-encoders",
                        )
                        with gr.Row():
                            steps = gr.Slider(
                                10, latent.MAX_INVERSION_STEPS, value=200, step=10, label="GAN optimisation steps"
                            )
                            encode_seed = gr.Number(0, label="Seed (the GAN's starts)", precision=0)
                            encode_button = gr.Button("Encode your digit", variant="primary", elem_id="lt-encode")
                        encoded = gr.Gallery(
                            label="Reconstructions: decode(encode(your digit))",
                            columns=4,
                            height=300,
                            object_fit="contain",
                            elem_id="lt-encoded",
                        )
                        encode_table = gr.Markdown(elem_id="lt-encode-table")
                        with gr.Accordion("Details (JSON)", open=False):
                            encode_json = gr.JSON(elem_id="lt-encode-json")
                    with gr.Tab("Directions", id="lt-dir-tab") as directions_tab:
                        with gr.Row():
                            d_source, d_seed = _operand("Start", "seed", 0, "dir")
                            which = gr.Dropdown(list(latent.DIRECTIONS), value="thickness", label="Direction")
                        amount = gr.Slider(
                            -latent.AMOUNT, latent.AMOUNT, value=0.0, step=0.25, label="Amount", elem_id="lt-amount"
                        )
                        moved = picture(elem_id="lt-moved")
                        moved_caption = gr.Markdown(elem_id="lt-moved-caption")
                    with gr.Tab("Autoencoders", id="lt-ae-tab"):
                        with gr.Row():
                            map_model = gr.Radio(
                                latent.model_choices(latent.map_models()),
                                value="vae2d-mnist",
                                label="2D latent space",
                                elem_id="lt-map-model",
                            )
                            map_button = gr.Button("Show the map", variant="primary", elem_id="lt-map")
                        map_note = gr.Markdown(elem_id="lt-map-note")
                        with gr.Row():
                            map_plot = gr.Plot(show_label=False, elem_id="lt-map-plot")
                            manifold = picture(elem_id="lt-manifold")
                        gr.Markdown("Move z1 and z2, or click a tile of the decoded manifold:", elem_classes="glossary")
                        with gr.Row():
                            z1 = gr.Slider(-3, 3, value=0, step=0.01, label="z1", elem_id="lt-z1")
                            z2 = gr.Slider(-3, 3, value=0, step=0.01, label="z2", elem_id="lt-z2")
                        with gr.Row():
                            point = picture(elem_id="lt-point")
                            point_caption = gr.Markdown(elem_id="lt-point-caption")
                        gr.Markdown("**Denoising autoencoder**: noise added to your digit, and what it gives back.")
                        with gr.Row():
                            noise = gr.Slider(0.0, 1.0, value=0.3, step=0.05, label="Noise (σ)", elem_id="lt-noise")
                            denoise_button = gr.Button("Add noise and clean", elem_id="lt-denoise")
                        with gr.Row():
                            noisy = picture(elem_id="lt-noisy")
                            cleaned = picture(elem_id="lt-cleaned")
                        denoise_info = gr.Markdown(elem_id="lt-denoise-info")
        model.change(about, [model], [model_about], api_name=False, preprocess=False)
        walk_button.click(
            run_walk,
            [model, a, a_seed, b, b_seed, frames, image],
            [lerp, slerp, gif, walk_info],
            api_name="walk",
            preprocess=False,
        )
        arith_button.click(
            run_arithmetic,
            [model, x_a, x_a_seed, x_b, x_b_seed, x_c, x_c_seed, image],
            [arith],
            api_name="arithmetic",
            preprocess=False,
        )
        encode_button.click(
            run_encode,
            [encoders, image, steps, encode_seed],
            [encoded, encode_table, encode_json],
            api_name="encode",
            preprocess=False,
            concurrency_id="sample",  # one heavy call at a time, shared with the Sample and Complete tabs
            concurrency_limit=1,
        )
        direction_inputs = [model, d_source, d_seed, which, amount, image]
        amount.change(
            run_direction,
            direction_inputs,
            [moved, moved_caption],
            api_name="direction",
            preprocess=False,
            trigger_mode="always_last",
            show_progress="hidden",
        )
        gr.on(  # the picture is there when the sub-tab opens, and follows the model and the other controls
            [directions_tab.select, model.change, *(c.change for c in (which, d_source, d_seed))],
            run_direction,
            direction_inputs,
            [moved, moved_caption],
            api_name=False,
            preprocess=False,
        )
        extent = gr.State([])
        map_button.click(
            run_map,
            [map_model],
            [map_plot, manifold, map_note, z1, z2, extent],
            api_name="latent_map",
            preprocess=False,
        )
        manifold.select(pick_point, [extent], [z1, z2], api_name=False, preprocess=False)
        for slider in (z1, z2):
            slider.change(
                run_point,
                [map_model, z1, z2],
                [point, point_caption],
                api_name="latent_point" if slider is z1 else False,
                preprocess=False,
                trigger_mode="always_last",
                show_progress="hidden",
            )
        denoise_button.click(
            run_denoise,
            [image, noise, encode_seed],
            [noisy, cleaned, denoise_info],
            api_name="denoise",
            preprocess=False,
        )
