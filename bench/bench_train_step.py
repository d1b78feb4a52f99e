"""One training step of an autoregressive model in fp32 and under bf16 autocast (`train --set bf16=true`): the
median seconds of a step (forward, backward, Adam) at the recipe's batch of 32. Prints JSON on its last line.

    python bench/bench_train_step.py [--model gated-pixelcnn-mnist] [--layers 14] [--steps 8] [--threads 2]

`--layers` grows the bundled net first (as `train --deeper` does), to time the size a run trains. bf16 pays only
where the device computes it natively (AMX or AVX-512 BF16 on a CPU, recent GPUs); `bf16_native` says which.
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

from genmodels import hub  # noqa: E402
from genmodels.fast import bf16_native  # noqa: E402
from genmodels.models.base import cpu_generator  # noqa: E402


def step_seconds(model, x, y, bf16: bool, steps: int) -> float:
    opt = torch.optim.Adam(model.parameters(), lr=1e-6)
    times = []
    for _ in range(steps + 1):  # the first step warms up and is not counted
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = -model.log_prob(x, condition=y).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="gated-pixelcnn-mnist")
    parser.add_argument("--layers", type=int, default=None)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = hub.load(args.model).train()
    if args.layers:
        model = model.deeper(args.layers, cpu_generator(0)).train()
    g = cpu_generator(0)
    x = (torch.rand(32, 1, 28, 28, generator=g) < 0.15).float()
    y = torch.randint(0, 10, (32,), generator=g) if getattr(model, "num_classes", 0) else None
    fp32, bf16 = (step_seconds(model, x, y, on, args.steps) for on in (False, True))
    print(json.dumps({"model": args.model, "layers": len(getattr(model, "layers", getattr(model, "blocks", []))),
                      "threads": args.threads, "bf16_native": bf16_native(torch.device("cpu")),
                      "step_seconds_fp32": round(fp32, 3), "step_seconds_bf16": round(bf16, 3),
                      "speedup": round(fp32 / bf16, 2)}))  # fmt: skip


if __name__ == "__main__":
    main()
