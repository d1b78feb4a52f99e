"""The Latent tab's costs: decoding a walk frame per model, and encoding a digit (one pass, or a GAN's optimisation).
Prints JSON on its last line.

    python bench/bench_latent.py [--repeats 5] [--frames 8]

Per latent model: the median time to decode one frame, measured on a walk of `frames` frames decoded one at a time
(what a slider asks for) and as one batch (what the Walk button does), both on one intra-op thread as the app runs
them; what one move of the direction slider costs end to end (`tasks.latent.direction`: the latent, the direction,
the decoded picture and the classifier's reading); and the time to encode the first example digit: the encoder's
one pass, or for a GAN the optimisation of z (8 starts × 200 Adam steps), with the reconstruction's error.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from genmodels import hub, latent, registry  # noqa: E402
from genmodels.models.base import cpu_generator, one_intra_op_thread  # noqa: E402
from genmodels.tasks import latent as tasks  # noqa: E402

DIGIT = REPO / "assets" / "examples" / "vae-digit-3.png"


def median_time(fn, repeats: int) -> float:
    fn()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--frames", type=int, default=8)
    args = parser.parse_args()
    results = {"torch_threads": torch.get_num_threads(), "frames": args.frames, "models": {}}
    for name in tasks.latent_models():
        entry, model = registry.get(name), hub.load(name)
        space = entry.recipe.latent
        with torch.no_grad():
            ends = space.draw(model, 2, cpu_generator(0))
        path = latent.slerp(ends[0].flatten(), ends[1].flatten(), torch.linspace(0, 1, args.frames))
        path = path.reshape(args.frames, *ends.shape[1:])

        def one_by_one(path=path, space=space, model=model):
            with torch.no_grad(), one_intra_op_thread():
                for z in path:
                    space.decode(model, z[None])

        def batch(path=path, space=space, model=model):
            with torch.no_grad(), one_intra_op_thread():
                space.decode(model, path)

        out = {
            "frame_ms_one_by_one": round(1000 * median_time(one_by_one, args.repeats) / args.frames, 2),
            "frame_ms_in_a_batch": round(1000 * median_time(batch, args.repeats) / args.frames, 2),
        }
        slider = median_time(lambda name=name: tasks.direction(name, "seed", 0, "thickness", 1.0), args.repeats)
        out["slider_ms"] = round(1000 * slider, 2)
        start = time.perf_counter()
        *_, last = tasks.encode_stream([name], str(DIGIT))
        out["encode_s"] = round(time.perf_counter() - start, 3)
        out["encode_method"] = last[-1]["method"]
        out["encode_mse"] = last[-1]["mse"]
        results["models"][name] = out
        print(name, out, file=sys.stderr)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
