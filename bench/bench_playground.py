"""Playground speed: 2D GAN training steps per second, and live streaming (frames and steps per second together).

    python bench/bench_playground.py [--seconds 4]

For each loss: raw training speed (critic/discriminator updates per second, generator updates on their schedule),
then `genmodels.tasks.playground.gan_play` run for `--seconds` as the app runs it, counting the frames it yields
(each frame is every figure of the GAN lab, built) and the training steps done meanwhile. JSON on the last line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genmodels.playground import gan2d  # noqa: E402
from genmodels.tasks import playground as pg  # noqa: E402


def raw_steps_per_second(loss: str, seconds: float) -> float:
    data, _ = pg.make_data()
    gan = gan2d.GAN2D(data.sampler, loss, seed=0)
    gan.step(20)  # warm-up
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        gan.step(20)
        steps += 20
    return steps / (time.perf_counter() - start)


def streaming(loss: str, seconds: float, speed: int) -> dict:
    data, _ = pg.make_data()
    session, *_ = pg.gan_start(data, loss)
    frames = pg.gan_play(session, speed)
    next(frames)  # the first frame includes start-up work
    start, count, steps0 = time.perf_counter(), 0, session.gan.steps
    for _ in frames:
        count += 1
        if time.perf_counter() - start >= seconds:
            pg.gan_pause(session)
    wall = time.perf_counter() - start
    return {"frames_per_s": round(count / wall, 2), "steps_per_s": round((session.gan.steps - steps0) / wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--speed", type=int, default=pg.MAX_SPEED, help="most steps per frame, as the UI's slider")
    args = parser.parse_args()
    out = {"torch_threads": torch.get_num_threads(), "frame_budget_s": pg.FRAME_SECONDS, "losses": {}}
    streaming("minimax", 2.0, args.speed)  # warm-up
    for loss in gan2d.LOSSES:
        out["losses"][loss] = {
            "raw_steps_per_s": round(raw_steps_per_second(loss, args.seconds), 1),
            "streaming": streaming(loss, args.seconds, args.speed),
        }
        print(loss, out["losses"][loss], file=sys.stderr)
    out["flow"] = flow_default_run()
    print("flow", out["flow"], file=sys.stderr)
    print(json.dumps(out))


def flow_default_run() -> dict:
    """The Flow tab's defaults on the ring of 8 Gaussians: seconds for New flow + Train (1,000 steps), as the app
    runs them, the mean log-likelihood reached on the training points, and the Plotly JSON the page gets: the figures
    the stream sends (a figure that is the last frame's object is skipped) against every figure in every frame."""
    data, _ = pg.make_data("preset", "8 Gaussians (ring)", 1000, 0)
    start = time.perf_counter()
    trainer, *_ = pg.flow_start(data)
    frames = list(pg.flow_train(trainer, 1000))
    seconds = time.perf_counter() - start
    sent = every = 0
    for i, frame in enumerate(frames):
        for k, figure in enumerate(frame[1:4], 1):
            size = len(figure.to_json())
            every += size
            sent += size if i == 0 or figure is not frames[i - 1][k] else 0
    return {
        "seconds": round(seconds, 1),
        "mean_log_likelihood": frames[-1][-1]["mean_log_likelihood"],
        "frames": len(frames),
        "figure_kb_sent": round(sent / 1000),
        "figure_kb_if_every_frame_redrew": round(every / 1000),
    }


if __name__ == "__main__":
    main()
