"""The startup self-check: every catalogued model loaded once, with what it is and whether it works.

`check_models` runs once per process (the app starts it in the background at launch, which also warms the model
cache) and returns one row per model; a model whose checkpoint is missing or broken says so in its row and nothing
else is affected. Models whose weights come from the Hub on first use (horse ↔ zebra) are not downloaded here.
"""

from __future__ import annotations

import threading
import time

from .. import hub, registry

_rows: list[dict] | None = None
_lock = threading.Lock()


def _check(name: str) -> dict:
    entry = registry.get(name)
    row = {"model": name, "title": entry.title, "family": entry.family}
    if entry.hub_file and not hub.is_loaded(name):
        return row | {"ok": None, "status": "downloaded from the Hub on first use"}
    start = time.perf_counter()
    try:
        model = hub.cached(name)
    except ValueError as exc:
        return row | {"ok": False, "status": str(exc)}
    params = sum(p.numel() for p in model.parameters())
    seconds = time.perf_counter() - start
    return row | {"ok": True, "status": f"loaded: {params:,} parameters, {seconds:.2f} s", "parameters": params}


def check_models() -> list[dict]:
    """One row per catalogued model: model, title, family, ok (True, False, or None when not checked), status."""
    global _rows
    with _lock:
        if _rows is None:
            _rows = [_check(name) for name in registry.REGISTRY]
        return _rows


def status_table() -> str:
    """The self-check as a Markdown table for the page."""
    rows = check_models()
    working = sum(r["ok"] is True for r in rows)
    marks = {True: "✓", False: "✗", None: "☁"}  # text symbols: a page without an emoji font still shows them
    lines = [
        f"{working} of {len(rows)} models loaded at start-up.",
        "",
        "| | model (family) | status |",
        "|---|---|---|",
    ]
    lines += [f"| {marks[r['ok']]} | {r['title']} ({r['family']}) | {r['status']} |" for r in rows]
    return "\n".join(lines)
