"""Train a catalogued model with its recipe, and the CLI for it.

    python -m genmodels.train NAME --data-root DIR --out DIR [--epochs N] [--seed S] [--threads T] [--resume DIR]

The loop, its losses, the default config and epochs are the model's recipe (`genmodels/recipes/`). Training uses the
`train` split only and writes config.json + model.safetensors (PyTorchModelHubMixin) and training.json (data, epochs,
wall time, the recipe's own statistics) into --out. `python -m genmodels.evaluate NAME --card` then adds the held-out
metrics and writes the model card.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import torch
from torch import nn

from . import data, registry
from .models.base import cpu_generator, default_device, init_parameters


def train(
    name: str,
    data_root: str | Path,
    out: str | Path,
    epochs: int | None = None,
    seed: int = 0,
    config: dict | None = None,
    limit: int | None = None,
    resume: str | Path | None = None,
) -> nn.Module:
    """Train model `name` on MNIST's train split and save it (weights, config, training.json) into `out`.

    Args:
        epochs: the recipe's default when None.
        seed: initial weights and every random draw of the loop come from generators seeded with it.
        config: constructor kwargs; the recipe's config when None (tests pass the recipe's tiny config).
        limit: use only the first `limit` training images (tests).
        resume: a checkpoint folder to continue from; `epochs` more are trained and the totals recorded.
    """
    entry = registry.get(name)
    recipe = entry.recipe
    if not entry.trainable:
        raise ValueError(f"{name} is not trained here (third-party weights).")
    epochs = recipe.epochs if epochs is None else epochs
    device = default_device()
    images, labels = data.load_mnist(data_root, "train")
    if limit:
        images, labels = images[:limit], labels[:limit]
    x, y = data.to_unit(images).to(device), labels.to(device)
    previous = {}
    if resume:
        # Continue from a saved checkpoint (weights and config); GAN critics are not saved and start afresh.
        model = entry.cls.from_pretrained(resume, strict=True).to(device)
        previous = json.loads((Path(resume) / "training.json").read_text())
    else:
        model = init_parameters(entry.cls(**(config or recipe.config)), cpu_generator(seed)).to(device)
    start = time.perf_counter()
    stats = recipe.train(model, x, y, epochs, seed)
    wall = time.perf_counter() - start + previous.get("wall_time_s", 0.0)
    epochs += previous.get("epochs", 0)
    model.eval()
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
        "torch_threads": torch.get_num_threads(),
        "wall_time_s": round(wall, 1),
        **stats,
    }
    if previous:
        info["resumed_from"] = previous  # the earlier run's record; epochs and wall time above are totals
    (out / "training.json").write_text(json.dumps(info, indent=2) + "\n")
    return model


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=registry.trainable_names())
    parser.add_argument("--data-root", required=True, help="folder holding MNIST/raw/")
    parser.add_argument("--out", required=True, help="output folder, e.g. checkpoints/NAME")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--resume", default=None, help="checkpoint folder to continue training from")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    train(args.name, args.data_root, args.out, args.epochs, args.seed, resume=args.resume)


if __name__ == "__main__":
    main()
