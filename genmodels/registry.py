"""The one catalogue of named models: name -> class, family, dataset, local folder and Hub location.

Names are `<model>-<dataset>`, the same string as the folder under `checkpoints/`. Everything else (the loader, the
trainer, the evaluator, the app's model pickers and the tests) iterates over this map, so a new model is one entry.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from .models.classifier import MNISTClassifier
from .models.cyclegan import CycleGAN
from .models.gan import GANGenerator
from .models.gated_pixelcnn import GatedPixelCNN
from .models.pixelcnn import PixelCNN
from .models.pixelrnn import PixelRNN
from .models.stargan import StarGAN
from .models.vae import ConvVAE
from .models.vqvae import VQVAE

HUB_ORG = "genmodels"


def checkpoints_dir() -> Path:
    """$GENMODELS_CHECKPOINTS, else `checkpoints/` at the top of the repository."""
    return Path(os.environ.get("GENMODELS_CHECKPOINTS") or Path(__file__).resolve().parents[1] / "checkpoints")


@dataclass(frozen=True)
class ModelEntry:
    """One catalogued model.

    Attributes:
        name: `<model>-<dataset>`; also the checkpoint folder's name.
        cls: the nn.Module + PyTorchModelHubMixin class; its constructor kwargs are its config.
        family: "gan", "vae", "classifier", ...
        dataset: the data it was trained on.
        title: how the app names it.
        tiny_config: small constructor kwargs for fast tests.
        hub_repo, revision: where the weights live on the Hugging Face Hub.
        generative: whether it draws samples (the Sample tab lists only these).
        domains: for a translation model, the domains it translates between.
        hub_file, adapter: for a checkpoint in someone else's layout (one file of a plain state dict, read with
            `torch.load(weights_only=True)`), the file's name and the function that builds the model from it.
            Such models are not trained here and have no folder under `checkpoints/`.
    """

    name: str
    cls: type[nn.Module]
    family: str
    dataset: str
    title: str
    tiny_config: dict
    hub_repo: str = ""
    revision: str = "main"
    generative: bool = True
    domains: tuple[str, ...] = ()
    hub_file: str = ""
    adapter: Callable[[Mapping[str, Any]], nn.Module] | None = None

    @property
    def local_dir(self) -> Path:
        return checkpoints_dir() / self.name


def _entry(name: str, cls: type[nn.Module], family: str, title: str, tiny: dict, **kw) -> ModelEntry:
    return ModelEntry(name, cls, family, "mnist", title, tiny, hub_repo=f"{HUB_ORG}/{name}", **kw)


REGISTRY: dict[str, ModelEntry] = {
    e.name: e
    for e in (
        _entry("dcgan-mnist", GANGenerator, "gan", "DCGAN", dict(latent_dim=8, width=4)),
        _entry("wgan-gp-mnist", GANGenerator, "gan", "WGAN-GP", dict(latent_dim=8, width=4)),
        _entry("vae-mnist", ConvVAE, "vae", "VAE", dict(latent_dim=4, width=4, hidden=16)),
        _entry("pixelcnn-mnist", PixelCNN, "autoregressive", "PixelCNN", dict(channels=8, layers=2)),
        _entry(
            "gated-pixelcnn-mnist",
            GatedPixelCNN,
            "autoregressive",
            "Gated PixelCNN",
            dict(channels=8, layers=3, kernel=3, vertical_residual=True),  # 3: a residual that is used
        ),
        _entry("pixelrnn-mnist", PixelRNN, "autoregressive", "PixelRNN (Row LSTM)", dict(channels=8, layers=1)),
        _entry(
            "vqvae-mnist",
            VQVAE,
            "vqvae",
            "VQ-VAE + PixelCNN prior",
            dict(codes=8, code_dim=4, width=4, prior_channels=8, prior_layers=2),
        ),
        _entry(
            "mnist-classifier",
            MNISTClassifier,
            "classifier",
            "Classifier",
            dict(width=4, feature_dim=8),
            generative=False,
        ),
        _entry(
            "cyclegan-mnist",
            CycleGAN,
            "translation",
            "CycleGAN · thin ↔ thick digits (bundled)",
            dict(domains=["thin", "thick"], channels=1, ngf=4, n_blocks=1, native_size=28),
            generative=False,
            domains=("thin", "thick"),
        ),
        _entry(
            "stargan-mnist",
            StarGAN,
            "translation",
            "StarGAN · thin / medium / thick digits (bundled)",
            dict(domains=["thin", "medium", "thick"], channels=1, ngf=4, n_blocks=1, native_size=28),
            generative=False,
            domains=("thin", "medium", "thick"),
        ),
        ModelEntry(
            "cyclegan-horse2zebra",
            CycleGAN,
            "translation",
            "horse2zebra",
            "CycleGAN · horse ↔ zebra (Hub)",
            dict(domains=["horse", "zebra"], channels=3, ngf=4, n_blocks=1),
            hub_repo="tmabraham/horse2zebra_cyclegan",
            generative=False,
            domains=("horse", "zebra"),
            hub_file="pytorch_model.bin",
            adapter=CycleGAN.from_tmabraham,
        ),
    )
}


def get(name: str) -> ModelEntry:
    """The entry called `name`. Raises ValueError naming the known models when there is none."""
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(f"Unknown model {name!r}. Known models: {', '.join(REGISTRY)}.")
    return REGISTRY[name]


def translation_names() -> list[str]:
    return [name for name, entry in REGISTRY.items() if entry.family == "translation"]


def generative_names() -> list[str]:
    return [name for name, entry in REGISTRY.items() if entry.generative]
