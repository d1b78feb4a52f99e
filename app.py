"""genmodels: deep generative models in the browser. Composition only: each tab is built in `ui/<tab>.py` over
`genmodels.tasks`, where the work is.

python app.py            # honours GRADIO_SERVER_NAME / GRADIO_SERVER_PORT
"""

from __future__ import annotations

import logging
import threading

import gradio as gr

from genmodels.tasks import status as self_check
from ui import playground, sample, share, status, translate
from ui.common import CSS

with gr.Blocks(title="genmodels") as demo:
    gr.Markdown("# genmodels\nDeep generative models you can explore in the browser, each trained on real data.")
    with gr.Tabs(elem_id="tabs"):
        sample.build()
        translate.build()
        playground.build(demo)
    status.build(demo)
    share.build(demo)  # the open tab and the main controls in the address: a link reproduces the view


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    threading.Thread(target=self_check.check_models, daemon=True).start()  # loads every bundled model once
    # Per-session state (a GAN lab, a fitted mixture, the data, ~2 MB a session) is kept for the 300 sessions used
    # most recently, not Gradio's 10,000: a public Space would otherwise grow without bound.
    demo.state_session_capacity = 300
    # show_error=False: a client sees our sentences (gr.Error) and never an exception's own text, which can hold
    # server paths and handler names; real faults are logged with their traceback (ui.common.user_errors).
    demo.queue(default_concurrency_limit=2).launch(css=CSS, show_error=False, max_file_size="20mb")
