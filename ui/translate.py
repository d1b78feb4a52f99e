"""The Translate tab: unpaired image-to-image translation, bundled digit models and horse ↔ zebra from the Hub."""

from __future__ import annotations

import gradio as gr

from genmodels.tasks import translate

from . import share
from .common import examples, on_gpu, picture, picture_file, uploads_only, user_errors

TRANSLATE_HELP = """Unpaired image-to-image translation: upload, paste or take a picture and pick a direction. You get
the translation, the round trip back (A → B → A: what cycle consistency keeps) and where the picture changed.
**Bundled** (trained here on MNIST, no pairs): a CycleGAN that turns thin-stroke digits thick and back, and a StarGAN
that does thin / medium / thick with one generator where CycleGAN would need one per pair. Photograph a digit drawn on
paper, or use an example. **horse ↔ zebra** uses the real CycleGAN weights from the Hugging Face Hub
(`tmabraham/horse2zebra_cyclegan`, downloaded once, ~113 MB); photos keep their aspect ratio, with the shorter side at
the working size."""
# The colour bar of "Where it changed" (tasks.translate.difference_heatmap: black → red → yellow → white).
HEAT_SCALE = """<div style="font-size:12px">
<div style="height:10px;border-radius:2px;background:linear-gradient(to right,#000,#f00,#ff0,#fff)"></div>
<div style="display:flex;justify-content:space-between"><span>0</span><span>|output − input|</span><span>1</span>
</div></div>"""


def translate_choices(name: str):
    """A model's directions, and the working-size slider only for models that take photos."""
    if name not in translate.models():
        return gr.skip(), gr.skip()
    directions = translate.directions(name)
    return gr.update(choices=directions, value=directions[0]), gr.update(visible=translate.takes_photos(name))


DOWNLOAD_PROGRESS = gr.Progress(track_tqdm=True)  # huggingface_hub's tqdm bars become the UI's progress bar


@on_gpu
@user_errors
def run_translate(image, name: str, direction: str, size: float, progress=DOWNLOAD_PROGRESS):
    """The Translate button and `api_name="translate"`; a Hub download shows as a progress bar.

    Inputs arrive unprocessed, as everywhere (and here also because the direction list depends on the model, so
    Gradio's check against the radio's first choices would refuse valid API calls); the task checks every value.
    """
    out, back, heat, info, seen = translate.translate(image, name, direction, size)
    pictures = [picture_file(picture) for picture in (seen, out, back, heat)]  # written once: see picture_file
    return *pictures, translate.status_line(info), info


def _model(text: str) -> str:
    if text not in translate.models():
        raise ValueError("unknown model")
    return text


def build() -> None:
    with share.tab(gr.Tab("Translate", id="translate"), "translate"):
        names = translate.models()
        with gr.Row():
            with gr.Column(scale=1, min_width=260):
                image = uploads_only(
                    gr.Image(
                        sources=["upload", "webcam", "clipboard"], type="filepath", label="Picture", elem_id="tr-input"
                    ),
                    "The picture",
                )
                model = gr.Dropdown(translate.model_choices(), value=names[0], label="Model", elem_id="tr-model")
                share.shared(model, "model", _model)
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
                    label="Working size: the photo's shorter side, in pixels",
                    visible=translate.takes_photos(names[0]),
                    elem_id="tr-size",
                )
                button = gr.Button("Translate", variant="primary", elem_id="tr-button")
                examples(image, "tr")
            with gr.Column(scale=2, elem_classes="result-first"):
                status = gr.Markdown(elem_id="tr-status")
                pictures = []
                with gr.Row(elem_id="tr-pictures"):
                    for caption, elem_id in (
                        ("What the network sees", "tr-seen"),
                        ("Translated", "tr-output"),
                        ("Back again (A → B → A)", "tr-back"),
                        ("Where it changed", "tr-heat"),
                    ):
                        with gr.Column(min_width=160):
                            gr.Markdown(f"**{caption}**")
                            pictures.append(picture(elem_id=elem_id))
                            if elem_id == "tr-heat":
                                gr.HTML(HEAT_SCALE, elem_id="tr-heat-scale")
                info = gr.JSON(label="Details", elem_id="tr-info")
        with gr.Accordion("About these models", open=False):
            gr.Markdown(TRANSLATE_HELP)
        model.change(translate_choices, [model], [direction, size], api_name=False, preprocess=False)
        button.click(lambda: "", None, [status], api_name=False, queue=False)  # the last answer goes as you click
        button.click(
            run_translate,
            [image, model, direction, size],
            [*pictures, status, info],
            api_name="translate",
            preprocess=False,
            show_progress_on=[status],  # one progress bar (or error), not one per picture
            concurrency_id="translate",
            concurrency_limit=1,
        )
