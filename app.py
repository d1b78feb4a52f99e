"""genmodels: deep generative models in the browser. Composition only: each tab is built in `ui/<tab>.py` over
`genmodels.tasks`, where the work is.

python app.py            # honours GRADIO_SERVER_NAME / GRADIO_SERVER_PORT
"""

from __future__ import annotations

import ctypes
import logging
import sys
import threading

import gradio as gr

from genmodels.tasks import common as common_tasks
from genmodels.tasks import playground as playground_tasks
from genmodels.tasks import status as self_check
from ui import complete, latent, playground, sample, share, status, translate
from ui.common import BRUSH_FIRST, CSS, THEME

with gr.Blocks(title="genmodels") as demo:
    gr.Markdown("# genmodels\nDeep generative models you can explore in the browser, each trained on real data.")
    with gr.Tabs(elem_id="tabs"):
        sample.build(demo)
        latent.build(demo)
        complete.build(demo)
        translate.build()
        playground.build(demo)
    status.build(demo)
    share.build(demo)  # the open tab and the main controls in the address: a link reproduces the view
    demo.load(None, None, None, js=BRUSH_FIRST, api_name=False, queue=False)  # drawing pads start with the brush


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    # In the background: the divergence lab's fits computed (0.3 s), every bundled model loaded once, then torchvision
    # imported (~3 s, for the image grids), so that the first sample does not wait for it.
    warm = (playground_tasks.warm_kl_fits, self_check.check_models, common_tasks.warm_torchvision)
    threading.Thread(target=lambda: [step() for step in warm], daemon=True).start()
    # Handlers share one interpreter: a thread waiting for the GIL (the event loop, a 2D click's many tiny torch ops)
    # waits up to this long per hand-over behind a sampler's Python loop (Python's default is 5 ms).
    sys.setswitchinterval(0.001)
    # Per-session state (Gradio's copy of the page config and its latest outputs, our GAN lab, mixture and data: ~2 MB
    # a session) is kept for the 64 sessions used most recently, not Gradio's 10,000: a public Space would otherwise
    # grow without bound. More users than that at once are beyond what 2 CPU cores serve; the least recently active
    # then finds its GAN or mixture gone and is asked, in our words, to create it again. (A launch() argument:
    # launch() resets the attribute, so setting it on demo beforehand kept Gradio's 10,000.)
    sessions_kept = 64
    # Two malloc arenas, not 8 per core: with one per worker thread, freed memory stayed scattered and RSS crept up.
    try:
        ctypes.CDLL("libc.so.6").mallopt(-8, 2)  # M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc
        pass
    # show_error=False: a client sees our sentences (gr.Error) and never an exception's own text, which can hold
    # server paths and handler names; real faults are logged with their traceback (ui.common.user_errors).
    demo.queue(default_concurrency_limit=2).launch(
        css=CSS, theme=THEME, show_error=False, max_file_size="20mb", state_session_capacity=sessions_kept
    )
