"""What every tab's wiring shares: task errors shown as messages, small control buttons, the page's CSS."""

from __future__ import annotations

import functools
import inspect

import gradio as gr

CSS = """
.slot-image img { image-rendering: pixelated; }
/* a phone fits all five playground sub-tabs on one line instead of folding three into a menu */
@media (max-width: 480px) { .tab-container button { padding: 0 7px; } }
"""


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


def control(label: str, **kwargs) -> gr.Button:
    """A button in a row of controls: small enough that a phone fits four on a line."""
    return gr.Button(label, size="md", min_width=72, **kwargs)
