"""The app's first page: seconds from `python app.py` to the page served, and to the start-up self-check done.

    python bench/bench_first_page.py [--rounds 3] [--before REV --before-python PY]

Each round starts the app (offline, on a free port) and times, from the launch: `page` — the first `GET /` that
answers 200 (imports, building the Blocks, the server up), and `ready` — `/status` answered, i.e. the start-up
self-check has loaded every model. With --before, the same rounds also run a git revision REV (checked out in a
temporary worktree) with its own interpreter PY (say the environment of an older torch), alternating with this
checkout, so that both are measured in one run on an equally busy machine. JSON on the last line: the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def first_page(checkout: Path, python: str) -> dict:
    """One cold start of the app in `checkout` with `python`: seconds to the page and to the self-check done."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port), HF_HUB_OFFLINE="1")
    env.pop("PYTHONPATH", None)
    shared = REPO.parent / "shared" / "data"  # a worktree elsewhere would not find it beside itself
    if shared.is_dir():
        env.setdefault("GENMODELS_DATA", str(shared))
    start = time.perf_counter()
    proc = subprocess.Popen(
        [python, "app.py"], cwd=checkout, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        page = None
        while page is None:
            if proc.poll() is not None or time.perf_counter() - start > 240:
                raise RuntimeError(f"the app in {checkout} did not start")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200 and response.read():
                        page = time.perf_counter() - start
            except OSError:
                time.sleep(0.05)
        with urllib.request.urlopen(url + "gradio_api/info", timeout=60):
            pass
        from gradio_client import Client

        Client(url, verbose=False).predict(api_name="/status")
        return {"page_s": round(page, 2), "ready_s": round(time.perf_counter() - start, 2)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", default=None, help="a git revision to measure beside this checkout")
    parser.add_argument("--before-python", default=sys.executable, help="the interpreter for --before")
    parser.add_argument("--python", default=sys.executable, help="the interpreter for this checkout")
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {"now": []}
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("now", REPO, args.python)]
        if args.before:
            worktree = Path(tmp) / "before"
            subprocess.run(["git", "worktree", "add", "--detach", str(worktree), args.before], cwd=REPO, check=True)
            targets.insert(0, ("before", worktree, args.before_python))
            runs["before"] = []
        try:
            for i in range(args.rounds):
                for label, checkout, python in targets:
                    runs[label].append(first_page(checkout, python))
                    print(f"round {i + 1} {label}: {runs[label][-1]}", flush=True)
        finally:
            if args.before:
                subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=REPO, check=False)
    result = {
        label: {key: statistics.median(r[key] for r in rs) for key in ("page_s", "ready_s")} | {"rounds": len(rs)}
        for label, rs in runs.items()
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
