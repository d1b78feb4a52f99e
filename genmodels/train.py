"""Train a catalogued model with its recipe, and the CLI for it.

    python -m genmodels.train NAME --data-root DIR --out DIR [--epochs N] [--seed S] [--threads T] [--resume DIR]
                              [--deeper LAYERS] [--state FILE] [--set KEY=VALUE ...]
                              (--set: the recipe's own options, e.g. --set lr=3e-4)
    torchrun --nproc_per_node 4 -m genmodels.train NAME ...      (4 GPUs, or 4 CPU processes)

Under torchrun every family trains data-parallel (DistributedDataParallel; NCCL on GPUs, one per process, else
gloo): each process takes an equal share of every batch, so the global batch, the number of steps and the result are
what one process would get, only sooner. Process 0 writes the checkpoint.

The loop, its losses, the default config and epochs are the model's recipe (`genmodels/recipes/`). Training uses the
`train` split only and writes config.json + model.safetensors (PyTorchModelHubMixin) and training.json (data, epochs,
wall time, the recipe's own statistics) into --out; `python -m genmodels.evaluate NAME --card` then adds the
held-out metrics and writes the model card.

`--resume` starts a new run from saved weights; with `--deeper LAYERS` (a PixelCNN or a Gated PixelCNN) the saved net
first grows to LAYERS layers, the new ones starting as the identity, so the run goes on from the saved likelihood.
`--state FILE` (GANs, whose critic is not in the checkpoint) keeps the loop's whole state in FILE after every epoch:
the same command started again after a stop goes on where the run was, to the weights an unbroken run reaches.
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import os
import platform
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from . import data, registry
from .models.base import cpu_generator, default_device, init_parameters
from .recipes.common import processes


def train(
    name: str,
    data_root: str | Path,
    out: str | Path,
    epochs: int | None = None,
    seed: int = 0,
    config: dict | None = None,
    limit: int | None = None,
    resume: str | Path | None = None,
    options: dict | None = None,
    state: str | Path | None = None,
    deeper: int | None = None,
) -> nn.Module:
    """Train model `name` on MNIST's train split and save it (weights, config, training.json) into `out`.

    Args:
        epochs: the recipe's default when None.
        seed: initial weights and every random draw of the loop come from generators seeded with it.
        config: constructor kwargs; the recipe's config when None (tests pass the recipe's tiny config).
        limit: use only the first `limit` training images (tests).
        resume: a checkpoint folder to continue from; `epochs` more are trained and the totals recorded.
        options: keyword arguments of the recipe's trainer beyond the five every trainer takes (a continuation's
            lower learning rate, a VQ-VAE's stage); recorded in training.json.
        state: a file for the loop's whole state, written after every epoch and gone on from when it exists (only
            for recipes whose trainer takes `state`).
        deeper: with `resume`, grow the saved net to this many layers first (models with a `deeper` method).
    """
    entry = registry.get(name)
    recipe = entry.recipe
    if not entry.trainable:
        raise ValueError(f"{name} is not trained here (third-party weights).")
    epochs = recipe.epochs if epochs is None else epochs
    options = trainer_options(recipe.train, options or {})
    kept = state_option(name, state, resume)
    deeper_option(name, deeper, resume)
    rank, world = processes()
    device = default_device()  # under torchrun with GPUs: this process's own (see join_processes)
    images, labels = data.load_mnist(data_root, "train")
    if limit:
        images, labels = images[:limit], labels[:limit]
    x, y = data.to_unit(images).to(device), labels.to(device)
    previous = {}
    if resume:
        # Continue from a saved checkpoint (weights and config); GAN critics are not saved and start afresh.
        model = entry.cls.from_pretrained(resume, strict=True).to(device)
        previous = json.loads((Path(resume) / "training.json").read_text())
        if deeper:
            model = model.deeper(deeper, cpu_generator(seed))
    else:
        model = init_parameters(entry.cls(**(config or recipe.config)), cpu_generator(seed)).to(device)
    start = time.perf_counter()
    stats = recipe.train(model, x, y, epochs, seed, **options, **kept)
    wall = time.perf_counter() - start + previous.get("wall_time_s", 0.0) + stats.pop("earlier_wall_time_s", 0.0)
    epochs = stats.get("stopped_early_after_epochs", epochs) + previous.get("epochs", 0)  # the epochs that ran
    model.eval()
    if world > 1:
        check_in_step(model)
    if rank:  # every process holds the same weights; the first one writes them
        return model
    out = Path(out)
    model.save_pretrained(out)
    info = {
        "model": name,
        "class": entry.cls.__name__,
        "data": f"MNIST train split at {Path(data_root).name}/MNIST/raw ({len(x)} images)",
        "train_images": len(x),
        "epochs": epochs,
        "seed": seed,
        "device": str(device),
        "hardware": hardware(device),
        "processes": world,
        "torch_threads": torch.get_num_threads(),
        "wall_time_s": round(wall, 1),
        **({"options": options} if options else {}),
        **({"deepened_to_layers": deeper} if deeper else {}),
        **stats,
    }
    if previous:
        info["resumed_from"] = previous  # the earlier run's record; epochs and wall time above are totals
    (out / "training.json").write_text(json.dumps(info, indent=2) + "\n")
    return model


def state_option(name: str, state: str | Path | None, resume: str | Path | None) -> dict:
    """The trainer's `state` argument, when one is asked for; a ValueError when the recipe keeps none, or with
    --resume (a state file holds the weights to go on from)."""
    if not state:
        return {}
    if resume:
        raise ValueError("--state and --resume both say where to go on from: give one.")
    if "state" not in inspect.signature(registry.get(name).recipe.train).parameters:
        raise ValueError(f"{name}'s loop keeps no state file; --resume continues from its saved weights.")
    return {"state": Path(state)}


def deeper_option(name: str, deeper: int | None, resume: str | Path | None) -> None:
    """A ValueError, in our words, when --deeper cannot be done: no checkpoint to grow, or a model that cannot grow."""
    if not deeper:
        return
    if not resume:
        raise ValueError("--deeper grows a trained net: give the checkpoint to grow with --resume.")
    if not hasattr(registry.get(name).cls, "deeper"):
        raise ValueError(f"{name} cannot grow deeper (the PixelCNNs can); drop --deeper.")


def trainer_options(trainer, options: dict) -> dict:
    """`options` checked against the trainer's keyword arguments (those after model, x, y, epochs, seed) that hold a
    number, a string or a flag, each value converted to the type of that argument's default; a ValueError names what
    the trainer does take. (Losses and other objects a recipe binds are not options.)"""
    params = list(inspect.signature(trainer).parameters.items())[5:]
    own = {n: p.default for n, p in params if type(p.default) in (int, float, str, bool)}
    unknown = sorted(set(options) - set(own))
    if unknown:
        takes = ", ".join(f"{n}={d!r}" for n, d in own.items()) or "none"
        raise ValueError(f"This recipe has no option {', '.join(unknown)}; its options: {takes}.")
    return {n: _typed(n, v, type(own[n])) for n, v in options.items()}


KINDS = {int: "a whole number", float: "a number", str: "a string", bool: "true or false"}
FLAGS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def _typed(name: str, value: object, kind: type) -> object:
    if isinstance(value, kind):
        return value
    try:
        return FLAGS[str(value).strip().lower()] if kind is bool else kind(value)
    except (KeyError, ValueError):
        raise ValueError(f"The option {name} takes {KINDS[kind]}, not {value!r}.") from None


def hardware(device: torch.device) -> str:
    """What trained it, for the model card: the GPU's name, or the CPU's and its core count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpuinfo = Path("/proc/cpuinfo")  # Linux; elsewhere what platform knows
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return f"{names[0] if names else platform.processor() or 'CPU'}, {os.cpu_count()} cores"


def check_in_step(model: nn.Module) -> None:
    """Every process must end with process 0's parameters: DistributedDataParallel keeps them in step, and a recipe
    that let them drift (a change made outside the optimiser on one process only) would save one process's share."""
    flat = torch.cat([p.detach().flatten() for p in model.parameters()])
    first = flat.clone()
    dist.broadcast(first, 0)
    drift = (flat - first).abs().max()
    dist.all_reduce(drift, op=dist.ReduceOp.MAX)
    if drift.item() > 0:
        raise RuntimeError(f"The training processes ended with different weights (largest gap {drift.item():.3g}).")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=registry.trainable_names())
    parser.add_argument("--data-root", required=True, help="folder holding MNIST/raw/")
    parser.add_argument("--out", required=True, help="output folder, e.g. checkpoints/NAME")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--resume", default=None, help="checkpoint folder to continue training from")
    parser.add_argument("--deeper", type=int, default=None, help="with --resume: grow the net to this many layers")
    parser.add_argument("--state", default=None, help="GANs: keep the loop's state here; go on from it if it exists")
    parser.add_argument("--limit", type=int, default=None, help="only the first N training images (quick checks)")
    parser.add_argument("--tiny", action="store_true", help="the recipe's tiny model (quick checks)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="an option of the recipe's trainer"
    )
    args = parser.parse_args(argv)
    quiet = int(os.environ.get("RANK", "0")) > 0  # under torchrun only the first process reports
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(asctime)s %(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    config = registry.get(args.name).recipe.tiny_config if args.tiny else None
    if any("=" not in kv for kv in args.set):
        parser.error("--set takes KEY=VALUE, e.g. --set lr=3e-4")
    options = dict(kv.split("=", 1) for kv in args.set)
    try:
        trainer_options(registry.get(args.name).recipe.train, options)
        state_option(args.name, args.state, args.resume)
        deeper_option(args.name, args.deeper, args.resume)
    except ValueError as e:
        parser.error(str(e))
    joined = join_processes()
    try:
        run = dict(limit=args.limit, resume=args.resume, options=options, state=args.state, deeper=args.deeper)
        train(args.name, args.data_root, args.out, args.epochs, args.seed, config, **run)
        if joined:
            dist.barrier()  # nobody leaves the group while process 0 still writes
    except ValueError as e:  # what the recipe refuses to start from (a state file, a saved autoencoder), in its words
        parser.error(str(e))
    finally:
        if joined:
            dist.destroy_process_group()


def join_processes() -> bool:
    """Under torchrun (WORLD_SIZE > 1) join its process group: NCCL with one GPU per process when there are GPUs,
    else gloo. False when there is nothing to join."""
    if int(os.environ.get("WORLD_SIZE", "1")) == 1:
        return False
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return True


if __name__ == "__main__":
    main()
