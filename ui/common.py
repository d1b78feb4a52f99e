"""What every tab's wiring shares: errors as one sentence of ours, guarded uploads, control buttons, the page's CSS.

Every event runs with `preprocess=False`, so the raw values a browser or an API client sent reach the task, whose
validation layer (`genmodels.tasks.common`) answers anything wrong in our words. File inputs are checked one step
earlier, where Gradio validates their payload: `uploads_only` turns that into our sentence too, and refuses a path that
was not uploaded to this app.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import pydantic
from gradio.utils import get_upload_folder, is_in_or_equal
from PIL import Image

from genmodels.tasks.common import write_once
from genmodels.tasks.complete import has_ink

log = logging.getLogger("genmodels.app")

try:  # On a Hugging Face ZeroGPU Space, a GPU is attached for the length of a decorated call; elsewhere no-op.
    import spaces

    on_gpu = spaces.GPU
except ImportError:

    def on_gpu(fn):
        return fn


# Fonts the machine has: the default theme asks Google Fonts for its typefaces, and a page with no network (or a
# partial subset) drew one bold word in two fonts. System stacks render the same everywhere, offline too.
THEME = gr.themes.Default(
    font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "Noto Sans", "Liberation Sans", "Arial", "sans-serif"],
    font_mono=[
        "ui-monospace",
        "SFMono-Regular",
        "Menlo",
        "Consolas",
        "Liberation Mono",
        "DejaVu Sans Mono",
        "monospace",
    ],
)

CSS = """
.slot-image img { image-rendering: pixelated; }
.glossary p { font-size: 12px; color: var(--body-text-color-subdued); }
/* a picture's download / full-screen buttons sit in a strip above it, never on its pixels */
.slot-image .image-container { padding-top: 34px; }
.slot-image .icon-button-wrapper { top: 0 !important; right: 0 !important; }
/* the Sample tab's models: as many columns of at least 170 px as fit (five side by side at 1280 px) */
#sample-slots { display: grid !important; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; }
/* a phone shows the action and its result first, then the controls (the layout rule of every tab) */
@media (max-width: 640px) { .result-first { order: -1; } }
/* a phone fits the five tabs, and five sub-tabs (the playground's, the Latent tab's), on one line each instead of
   folding some into a menu */
@media (max-width: 480px) { .tab-container button { padding: 0 3px; font-size: 12px; } }
/* until a shared link's values are in the controls (ui/share.py), a click would act on the defaults: wait for them */
body:not(.view-restored) #tabs { cursor: progress; }
body:not(.view-restored) #tabs > * { pointer-events: none; }
"""
# Gradio 6.31's editor mounts with the brush, then, because the value is empty, resets to its "image" tool and shows
# "select the draw tool to start": a drag draws nothing until the Brush button is clicked, and no Sketchpad parameter
# picks the starting tool. So whenever that prompt shows inside an editor with the class "brush-first" once its
# canvas is laid out (the tab or the accordion opened, the canvas cleared, a new background), click Brush for the
# user. The prompt is gone once the brush is chosen. app.py runs it once per page.
BRUSH_FIRST = """() => {
  const pick = () => {
    for (const pad of document.querySelectorAll(".brush-first")) {
      if (!pad.querySelector(".empty.wrap") || !pad.querySelector("canvas")?.offsetWidth) continue;
      pad.querySelector("button[aria-label='Brush']")?.click();
    }
  };
  let timer = null;  // at most one look per 100 ms, however busy the page's plots are
  new MutationObserver(() => { timer ??= setTimeout(() => { timer = null; pick(); }, 100); })
    .observe(document.body, { childList: true, subtree: true });
}"""

FAULT = "Something went wrong on the server; it has been logged. Try again, or choose another model or setting."


def _our_error(exc: Exception) -> gr.Error:
    """A task's ValueError as its own sentence; anything else is a real fault: logged with its traceback, and the
    user gets a sentence of ours (no library text, no server path)."""
    if isinstance(exc, gr.Error):
        return exc
    if isinstance(exc, ValueError):
        return gr.Error(str(exc), print_exception=False)
    log.exception("fault in an event handler")
    return gr.Error(FAULT, print_exception=False)


def user_errors(fn):
    """Run a task function (or generator) so that every error reaches the user as one sentence of ours."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen(*args):
            try:
                yield from fn(*args)
            except Exception as exc:
                raise _our_error(exc) from None

        return gen

    @functools.wraps(fn)
    def wrapper(*args):
        try:
            return fn(*args)
        except Exception as exc:
            raise _our_error(exc) from None

    return wrapper


def _paths(value: object) -> Iterator[str]:
    """Every "path" inside a file payload (a FileData dict, or an editor's nested layers)."""
    if isinstance(value, dict):
        if isinstance(value.get("path"), str):
            yield value["path"]
        for v in value.values():
            yield from _paths(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _paths(v)


def uploads_only(component: gr.components.Component, what: str) -> gr.components.Component:
    """Make `component` (an Image, File or Sketchpad input) answer a payload that is not an upload in our words.

    Gradio validates a file input's payload before any handler runs; a string, a list or a number there gave a
    pydantic dump. And a payload naming a server path without Gradio's file marker passed unchecked. Now both get
    one sentence, and every path in the payload must lie in this app's upload folder.
    """
    base = component.data_model

    def model_validate(cls, obj, *args, **kwargs):
        try:
            model = super(guarded, cls).model_validate(obj, *args, **kwargs)
        except pydantic.ValidationError:
            raise gr.Error(f"{what} must be a file uploaded to this app.", print_exception=False) from None
        if any(not is_in_or_equal(path, get_upload_folder()) for path in _paths(model.model_dump())):
            raise gr.Error(f"{what} must be a file uploaded to this app.", print_exception=False)
        return model

    guarded = type(
        base.__name__, (base,), {"model_validate": classmethod(model_validate), "__module__": base.__module__}
    )
    component.data_model = guarded
    return component


def picture_file(picture) -> str | None:
    """A PNG file holding `picture` (a uint8 H×W×3 array), written once per distinct picture, atomically.

    Streaming outputs send finished pictures again with every update. Given an array, Gradio rewrites its cache file
    each time (truncate, then write), and a browser loading that file meanwhile got a short read
    (ERR_CONTENT_LENGTH_MISMATCH, a blank grid). A file path is copied into Gradio's cache once and never rewritten.
    """
    if picture is None:
        return None
    digest = hashlib.sha256(picture.tobytes() + str(picture.shape).encode()).hexdigest()[:32]
    folder = Path(get_upload_folder()) / "genmodels-pictures"
    return write_once(folder, f"{digest}.png", lambda f: Image.fromarray(picture).save(f, "PNG"))


def picture(**kwargs) -> gr.Image:
    """An output picture, shown one way everywhere: no label chip over its pixels (its caption is a Markdown outside
    it), download and full-screen buttons in a strip above it, pixels drawn sharp when enlarged."""
    return gr.Image(
        show_label=False,
        buttons=["download", "fullscreen"],
        format="png",
        interactive=False,
        elem_classes="slot-image",
        **kwargs,
    )


def control(label: str, **kwargs) -> gr.Button:
    """A button in a row of controls: small enough that a phone fits four on a line."""
    return gr.Button(label, size="md", min_width=72, **kwargs)


# Example digits: pictures this project's VAE drew (never files from the data folder).
EXAMPLES = sorted(str(p) for p in (Path(__file__).resolve().parents[1] / "assets" / "examples").glob("*.png"))


def examples(image: gr.Image, key: str) -> None:
    if EXAMPLES:
        gr.Examples(EXAMPLES, [image], label="Examples (digits drawn by this project's VAE)", elem_id=f"{key}-examples")


@user_errors
def use_drawing(drawing) -> str:
    """The drawing (its composite picture) becomes the digit."""
    composite = drawing.get("composite") if isinstance(drawing, dict) else None
    path = composite.get("path") if isinstance(composite, dict) else None
    if not path or not has_ink(path):
        raise ValueError("Draw a digit on the pad first.")
    return path


def digit_input(key: str, label: str) -> gr.Image:
    """A digit to work on: uploaded or pasted, drawn on a pad ("Or draw one", then "Use the drawing": strokes alone
    send nothing to the server), or one of the examples. Element ids start with `key`."""
    image = uploads_only(
        gr.Image(sources=["upload", "clipboard"], type="filepath", label=label, elem_id=f"{key}-input"), label
    )
    with gr.Accordion("Or draw one", open=False, elem_id=f"{key}-draw-box"):
        draw = uploads_only(
            gr.Sketchpad(
                label="Draw a digit, then use it",
                type="filepath",
                canvas_size=(280, 280),
                brush=gr.Brush(default_size=20, colors=["#000000"], color_mode="fixed"),
                elem_id=f"{key}-draw",
                elem_classes="brush-first",
            ),
            "The drawing",
        )
        use_draw = gr.Button("Use the drawing", size="sm", elem_id=f"{key}-use-draw")
    examples(image, key)
    # the pad's value reaches the server when an event asks for it (strokes alone send nothing): a button
    use_draw.click(use_drawing, [draw], [image], api_name=False, preprocess=False)
    return image
