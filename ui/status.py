"""The start-up self-check on the page: which models loaded, and why one did not (`api_name="status"`)."""

from __future__ import annotations

import gradio as gr

from genmodels.tasks import status

from .common import user_errors


@user_errors
def run_status() -> tuple[str, list[dict]]:
    return status.status_table(), status.check_models()


def build(demo: gr.Blocks) -> None:
    with gr.Accordion("Model status (start-up self-check)", open=False, elem_id="status"):
        table = gr.Markdown("Checking the models …", elem_id="status-table")
        rows = gr.JSON(visible=False)
    demo.load(run_status, None, [table, rows], api_name="status")
