"""Shareable views: the open tab and the main controls live in the page's address, so a link reproduces a view.

A control registered with `shared` writes its value into the address (`?seed=7&temperature=0.8`) on every change, in
the browser, with no server call; a page opened with such an address gets those values back (`build`, on load). A
value that does not fit its control is ignored, and the control keeps its default.
"""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr

_WRITE = """(value) => {
  const url = new URL(window.location);
  url.searchParams.set(%r, Array.isArray(value) ? value.join(",") : String(value));
  window.history.replaceState(null, "", url);
}"""

SHARED: dict[str, tuple[gr.components.Component, Callable[[str], object]]] = {}  # address key -> control, reader
TABS: dict[str, str] = {}  # tab id -> its label
# (fn, inputs, outputs) a tab runs as the page opens, once the address's values are in its controls
restored: list[tuple[Callable, list, list]] = []


def shared(component: gr.components.Component, key: str, read: Callable[[str], object]) -> gr.components.Component:
    """Keep `component`'s value in the address under `key`; `read(text)` turns the address's text back into a value
    (raising ValueError when it does not fit)."""
    SHARED[key] = (component, read)
    component.change(None, [component], None, js=_WRITE % key, api_name=False, queue=False)
    return component


def tab(tab: gr.Tab, tab_id: str) -> gr.Tab:
    """Keep the open tab in the address as `tab=<id>`."""
    TABS[tab_id] = tab.label
    # the first tab is selected as the page mounts, before the address is read: wait for `build`'s restore
    write = f"() => {{ if (window.genmodelsViewRestored) ({_WRITE % 'tab'})({tab_id!r}); }}"
    tab.select(None, None, None, js=write, api_name=False, queue=False)
    return tab


_OPEN_TAB = """(label) => {
  const tab = [...document.querySelectorAll("[role=tab]")].find((t) => t.innerText.trim() === label);
  if (label && tab) tab.click();
  window.genmodelsViewRestored = true;
  document.body.classList.add("view-restored");
}"""


def build(demo: gr.Blocks) -> None:
    """On page load, put the address's values into the page, then open its tab (a click, as a user would: a server
    update of the selected tab raced the tabs' own first render). Until then the tabs take no clicks (`CSS`): on a
    busy server a click on Sample came before the link's values and drew the default view instead."""
    controls = [component for component, _ in SHARED.values()]
    label = gr.Textbox(visible=False)

    def restore(request: gr.Request) -> list:
        query = dict(request.query_params) if request is not None else {}
        updates = [TABS.get(query.get("tab"), "")]
        for key, (_, read) in SHARED.items():
            try:
                updates.append(read(query[key]) if key in query else gr.skip())
            except ValueError:
                updates.append(gr.skip())
        return updates

    opened = demo.load(restore, None, [label, *controls], api_name=False, queue=False).then(
        None, [label], None, js=_OPEN_TAB, api_name=False, queue=False
    )
    for fn, inputs, outputs in restored:  # first views: one at a time across users, each cached by its task
        opened.then(fn, inputs, outputs, api_name=False, preprocess=False, concurrency_id="first", concurrency_limit=1)
