"""Load and memory: many concurrent `gradio_client` sessions mixing every tab, for a bounded time, in rounds.

    python bench/bench_load.py [--clients 32] [--seconds 60] [--rounds 3] [--think 1.0] [--url URL]

Without --url it starts `python app.py` itself (offline, on a free port), waits until its start-up self-check is done
(`/status`), and reads the server's resident memory from /proc. Each round, every client is a new session (a new user)
that loops over a mix of calls from all three tabs until the round's time is up, pausing between calls as a person
does (--think seconds on average, 0 for none). JSON on the last line: per round the calls, the errors (with the first
few messages), p50 and p95 latency per endpoint, and the server's peak and end-of-round RSS in MB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "assets" / "examples" / "vae-digit-3.png"


def mix(i: int):
    """The calls one client makes, in turn: heavy (sampling, translation) and light (playground) alike."""
    from gradio_client import handle_file

    seed = i * 7919
    heavy = [
        ("/sample", (["vae-mnist", "dcgan-mnist", "wgan-gp-mnist"], 16, seed, 1.0, 0.0, False, "any")),
        ("/sample", (["gated-pixelcnn-mnist"], 4, seed, 1.0, 0.0, False, str(i % 10))),
        ("/sample", (["vqvae-mnist", "vae-mnist"], 8, seed, 1.0, 0.0, i % 4 == 0, "any")),
        ("/translate", (handle_file(str(EXAMPLE)), "cyclegan-mnist", "thin → thick", 256)),
        ("/receptive_field", (i % 28, (3 * i) % 28)),
    ]
    light = [
        ("/playground_data", ("preset", "Two moons", 500, seed % 1000, None, None)),
        ("/playground_gmm_init", (4, "kmeans++", seed % 1000)),
        ("/playground_gmm_em", ()),
        ("/playground_ppca", (0,)),
        ("/playground_divergence", ((i % 9 - 4) / 4,)),
        ("/playground_kl_fit", (1 + i % 6,)),
        ("/playground_gan_new", ("wgan-gp", seed % 1000)),
        ("/playground_gan_step", ()),
    ]
    return heavy if i % 3 == 0 else light  # a third of the users sample and translate; the others play in 2D


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# gradio_client opens a new httpx client for every call, and each one builds an SSL context from the CA bundle (~35 ms
# of CPU, twice per call, even for plain http): on the same 2 cores as the server, the clients' own CPU was most of
# what the latencies measured. One shared context makes a call cost the client ~10 ms.
SSL_CONTEXT = ssl.create_default_context()


def run_round(url: str, clients: int, seconds: float, pid: int | None, think: float = 1.0) -> dict:
    from gradio_client import Client

    latencies, errors, calls = defaultdict(list), [], [0]
    lock = threading.Lock()
    peak = [rss_mb(pid) if pid else float("nan")]
    # Every user opens the app first (a Client fetches the config and the API listing, ~0.15 s of server CPU each);
    # the clock starts when all are connected, so the round measures clicks, and connecting is reported on its own.
    stop = [float("inf")]
    everyone_in = threading.Barrier(clients, action=lambda: stop.__setitem__(0, time.perf_counter() + seconds))

    def client(i: int) -> None:
        start = time.perf_counter()
        try:
            c = Client(url, verbose=False, ssl_verify=SSL_CONTEXT)
            with lock:
                latencies["connect"].append(time.perf_counter() - start)
        except Exception as exc:  # counted, like any failed call
            c = None
            with lock:
                errors.append(f"connect: {exc}"[:200])
        everyone_in.wait()
        if c is None:
            return
        plan, k, pause = mix(i), 0, random.Random(i)
        time.sleep(think * pause.uniform(0, 1))  # people do not all click in the same millisecond
        while time.perf_counter() < stop[0]:
            endpoint, args = plan[k % len(plan)]
            k += 1
            start = time.perf_counter()
            try:
                c.predict(*args, api_name=endpoint)
                with lock:
                    latencies[endpoint].append(time.perf_counter() - start)
                    calls[0] += 1
            except Exception as exc:
                with lock:
                    calls[0] += 1
                    errors.append(f"{endpoint}: {exc}"[:200])
            time.sleep(think * pause.uniform(0.5, 1.5))  # a person looks at the answer before the next click

    def watch() -> None:
        while time.perf_counter() < stop[0]:
            peak[0] = max(peak[0], rss_mb(pid))
            time.sleep(0.5)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    if pid:
        threads.append(threading.Thread(target=watch))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(5)  # let the server settle before reading its memory
    per_endpoint = {
        name: {
            "calls": len(v),
            "p50_s": round(statistics.median(v), 3),
            "p95_s": round(sorted(v)[max(0, int(0.95 * len(v)) - 1)], 3),
        }
        for name, v in sorted(latencies.items())
    }
    return {
        "calls": calls[0],
        "errors": len(errors),
        "first_errors": errors[:5],
        "endpoints": per_endpoint,
        "rss_peak_mb": round(peak[0], 1),
        "rss_end_mb": round(rss_mb(pid), 1) if pid else None,
    }


def start_app() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port), HF_HUB_OFFLINE="1")
    proc = subprocess.Popen(
        [sys.executable, "app.py"], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/"
    for _ in range(240):
        try:
            urllib.request.urlopen(url + "gradio_api/info", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.terminate()
        raise RuntimeError("the app did not start")
    from gradio_client import Client

    # Ready means the start-up self-check has loaded every model: `/status` answers when it is done.
    Client(url, verbose=False, ssl_verify=SSL_CONTEXT).predict(api_name="/status")
    return proc, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a user's calls, in seconds")
    parser.add_argument("--url", default=None, help="a running app (its memory is then not read)")
    args = parser.parse_args()
    proc, url = (None, args.url) if args.url else start_app()
    try:
        pid = proc.pid if proc else None
        start_rss = rss_mb(pid) if pid else None
        rounds = []
        for r in range(args.rounds):
            rounds.append(run_round(url, args.clients, args.seconds, pid, args.think))
            print(f"round {r + 1}: {json.dumps(rounds[-1])}", file=sys.stderr)
        result = {
            "clients": args.clients,
            "seconds_per_round": args.seconds,
            "think_s": args.think,
            "rss_start_mb": start_rss,
            "rounds": rounds,
        }
        if pid and len(rounds) > 1:
            first = rounds[0]["rss_end_mb"]
            result["rss_end_vs_round_one"] = round(rounds[-1]["rss_end_mb"] / first - 1, 3)
        print(json.dumps(result))
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
