"""The Complete tab: hide part of a digit (a preset, or paint over it) and let every family fill it, side by side."""

from __future__ import annotations

import gradio as gr

from genmodels.tasks import complete

from . import share
from .common import digit_input, on_gpu, picture, picture_file, uploads_only, user_errors

COMPLETE_HELP = """Each model gets the digit in MNIST's format (grey, white on black, 20×20 centred by mass) with the
red pixels hidden, and fills them **its own way** (under each result). The autoregressive models draw the hidden
pixels in raster order, each given the pixels before it: for a bottom half that is the exact conditional, but they
**cannot see** known pixels below or right of the hole. The VAE, VQ-VAE and flows are approximations that see every
known pixel. Known pixels are never changed (the binary models read them as ink where brighter than half).

Answers are sorted by the model's own log-likelihood of the completed image, likeliest first (nats: the flows score
8-bit grey pixels, the others binary ones, so compare answers within a model, not across families). **Spread** is the
variance across the answers at each hidden pixel (black: they all agree); **entropy** (autoregressive models) is how
unsure the model's own prediction of each hidden pixel was, in bits (0 to 1). Both are black on known pixels."""
MAP_SCALE = """<div style="font-size:12px">
<div style="height:8px;border-radius:2px;background:linear-gradient(to right,#000,#f00,#ff0)"></div>
<div style="display:flex;justify-content:space-between"><span>0</span><span>spread ≤ 0.25 · entropy ≤ 1 bit</span>
<span>max</span></div></div>"""


PROGRESS = gr.Progress()  # the model at work: its rows or steps


def painted_layer(editor: object) -> object:
    """The strokes of the paint editor (its first layer's file payload), or None when nothing was painted."""
    if isinstance(editor, dict) and isinstance(editor.get("layers"), list) and editor["layers"]:
        return editor["layers"][0]
    return None


@user_errors
def show_digit(image) -> dict:
    """A new digit: the paint editor starts over on it, as the models will see it."""
    if image is None:
        return gr.update(value=None)
    view = picture_file(complete.digit_view(image))
    return gr.update(value={"background": view, "layers": [], "composite": view})


@user_errors
def show_mask(image, mask, painted, rate, seed):
    """What the models will be given, whenever the digit, the preset or the painting changes."""
    if image is None:
        return None
    return picture_file(complete.masked_view(image, mask, painted_layer(painted), rate, seed))


def _slot(result: dict | None) -> list:
    """A model's slot: visibility, answers, caption, spread map, entropy map."""
    hidden = gr.update(visible=False, value=None)
    if result is None:
        return [gr.update(visible=False), None, "", hidden, hidden]
    title = f"**{result['title']}**"
    if "error" in result:
        return [gr.update(visible=True), None, f"{title}: ⚠️ {result['error']}", hidden, hidden]
    if "steps_done" in result:
        caption = f"{title} · working: {result['steps_done']}/{result['steps']}"
        return [gr.update(visible=True), picture_file(result["grid"]), caption, gr.skip(), gr.skip()]
    lines = [f"{title} · {result['seconds'] * 1000:.0f} ms", result["completion"]]
    lines.append("log p, likeliest first: " + ", ".join(f"{v:.0f}" for v in result["log_p_nats"][:4]) + " nats …")
    if "temperature_drawn" in result:
        lines.append(f"drawn at temperature {result['temperature_drawn']:g} (0.7 × the slider)")
    lines.append("below: spread across the answers" + (", then the model's entropy" if "entropy_map" in result else ""))
    spread = gr.update(visible=True, value=picture_file(result["variance_map"]))
    entropy = gr.update(visible="entropy_map" in result, value=picture_file(result.get("entropy_map")))
    return [gr.update(visible=True), picture_file(result["grid"]), "\n\n".join(lines), spread, entropy]


@on_gpu
@user_errors
def run_complete(models, image, mask, painted, n, seed, temperature, digit, rate, progress=PROGRESS):
    """The Complete button and `api_name="complete"`: what the models see, then per model its answers, caption and
    maps, streamed as they grow, then the JSON. `painted` is the paint editor's value: its strokes hide pixels.
    A progress bar follows the model at work (rows for the autoregressive models, steps for the others)."""
    drawn = painted_layer(painted)
    seen = picture_file(complete.masked_view(image, mask, drawn, rate, seed))
    for results in complete.complete_stream(models, image, mask, drawn, n, seed, temperature, digit, rate):
        working = results[-1]
        if "steps_done" in working:
            progress((working["steps_done"], working["steps"]), desc=working["title"])
        by_name = {r["model"]: r for r in results}
        slots = [value for name in complete.completing_models() for value in _slot(by_name.get(name))]
        yield [seen, *slots, complete.summary(results)]


def build(demo: gr.Blocks) -> None:
    names = complete.completing_models()
    with share.tab(gr.Tab("Complete", id="complete"), "complete"):
        with gr.Row():
            with gr.Column(scale=1, min_width=260):
                image = digit_input("cp", "Digit")
                mask = gr.Radio(list(complete.MASKS), value="bottom half", label="Hide", elem_id="cp-mask")
                rate = gr.Slider(0.05, 0.95, value=0.5, step=0.05, label="Share hidden (random masks)")
                paint = uploads_only(
                    gr.ImageEditor(
                        type="filepath",
                        sources=(),
                        transforms=(),
                        layers=False,
                        canvas_size=(224, 224),
                        brush=gr.Brush(default_size=16, colors=["#c81e1e"], color_mode="fixed"),
                        eraser=gr.Eraser(default_size=16),
                        label="Or paint what to hide (over what the models see)",
                        elem_id="cp-paint",
                        elem_classes="brush-first",
                    ),
                    "The painted mask",
                )
                button = gr.Button("Complete", variant="primary", elem_id="cp-button")
                # a phone shows this column first: the digit, the mask and the button, then the settings folded
                with gr.Accordion("Models and settings", open=False, elem_id="cp-settings"):
                    models = gr.CheckboxGroup(
                        complete.model_choices(), value=names, label="Models", elem_id="cp-models"
                    )
                    n = gr.Slider(1, complete.MAX_COMPLETIONS, value=8, step=1, label="Answers per model")
                    seed = gr.Number(0, label="Seed", elem_id="cp-seed")
                    temperature = gr.Slider(0.05, 2.0, value=1.0, step=0.05, label="Temperature")
                    digit = gr.Dropdown(["any", *map(str, range(10))], value="any", label="Digit (Gated PixelCNN)")
            with gr.Column(scale=3):
                seen = picture(label="What the models see (red: hidden)", elem_id="cp-seen")
                slot_outputs = []
                with gr.Row(equal_height=False, elem_id="cp-slots"):
                    for name in names:
                        with gr.Column(visible=False, min_width=200, elem_id=f"cp-slot-{name}") as column:
                            grid = picture(elem_id=f"cp-grid-{name}")
                            caption = gr.Markdown(elem_id=f"cp-caption-{name}")
                            with gr.Row():
                                spread = picture(visible=False, label="spread", elem_id=f"cp-spread-{name}")
                                entropy = picture(visible=False, label="entropy", elem_id=f"cp-entropy-{name}")
                        slot_outputs += [column, grid, caption, spread, entropy]
                gr.HTML(MAP_SCALE)
                with gr.Accordion("How the models fill holes", open=False):
                    gr.Markdown(COMPLETE_HELP)
                with gr.Accordion("Details (JSON)", open=False):
                    details = gr.JSON(elem_id="cp-json")
        image.change(show_digit, [image], [paint], api_name=False, preprocess=False)
        for trigger in (image.change, mask.change, rate.release, paint.change):
            trigger(show_mask, [image, mask, paint, rate, seed], [seen], api_name=False, preprocess=False)
        button.click(
            run_complete,
            [models, image, mask, paint, n, seed, temperature, digit, rate],
            [seen, *slot_outputs, details],
            api_name="complete",
            preprocess=False,
            show_progress_on=[seen],  # one progress bar, over what the models see
            concurrency_id="sample",  # one heavy call at a time, shared with the Sample tab's
            concurrency_limit=1,
        )
