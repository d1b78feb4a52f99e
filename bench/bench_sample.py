"""Time 64 samples per model and the app's start to first page served. Prints JSON on its last line.

    python bench/bench_sample.py [--repeats 5] [--no-app]

Sampling: median wall time over `repeats` runs after one warm-up, on the default device, with the torch thread count
printed beside it. App: seconds from launching `python app.py` to the first 200 from `/`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from genmodels import hub, registry  # noqa: E402
from genmodels.models.base import cpu_generator  # noqa: E402


def time_sampling(name: str, n: int, repeats: int) -> dict:
    start = time.perf_counter()
    model = hub.load(name)
    load_s = time.perf_counter() - start
    model.sample(n, cpu_generator(0))
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        model.sample(n, cpu_generator(i))
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return {"load_s": round(load_s, 3), "sample_median_s": round(statistics.median(times), 4), "samples": n}


def time_app_start(timeout: float = 180.0) -> float:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port), HF_HUB_OFFLINE="1")
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "app.py"], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while time.perf_counter() - start < timeout:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).status == 200:
                    return round(time.perf_counter() - start, 2)
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the app did not serve its page in time")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--no-app", action="store_true", help="skip the app start timing")
    args = parser.parse_args()
    results = {
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "torch_threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "sampling": {},
    }
    for name in registry.names(samples=True):
        try:
            results["sampling"][name] = time_sampling(name, args.samples, args.repeats)
        except ValueError as exc:
            results["sampling"][name] = {"error": str(exc)}
        print(name, results["sampling"][name], file=sys.stderr)
    if not args.no_app:
        results["app_start_to_first_page_s"] = time_app_start()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
