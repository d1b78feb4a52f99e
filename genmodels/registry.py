"""The one catalogue of named models: name -> class, recipe, dataset, title, and where the weights live.

Names are `<model>-<dataset>`, the same string as the folder under `checkpoints/`. Everything else (the loader, the
trainer, the evaluator, the app's model pickers and the tests) iterates over this map and reads each entry's recipe
(`genmodels/recipes/`), which states the family, how to train and measure the model, and what it can do. A new model
is one entry here; a new family is also its model file and its recipe file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from .models.autoencoder import Autoencoder
from .models.bigan import BiGAN
from .models.classifier import MNISTClassifier
from .models.cyclegan import CycleGAN
from .models.gan import GANGenerator
from .models.gated_pixelcnn import GatedPixelCNN
from .models.glow import Glow
from .models.nice import NICE
from .models.pixelcnn import PixelCNN
from .models.pixelrnn import PixelRNN
from .models.realnvp import RealNVP
from .models.stargan import StarGAN
from .models.vae import ConvVAE
from .models.vqvae import VQVAE
from .recipes import Recipe, autoencoder, autoregressive, classifier, flow, gan, translation, vae, vqvae

HUB_ORG = "genmodels"
CLASSIFIER = "mnist-classifier"  # the yardstick: labels samples, gives the features behind the Fréchet distance


def checkpoints_dir() -> Path:
    """$GENMODELS_CHECKPOINTS, else `checkpoints/` at the top of the repository."""
    return Path(os.environ.get("GENMODELS_CHECKPOINTS") or Path(__file__).resolve().parents[1] / "checkpoints")


@dataclass(frozen=True)
class ModelEntry:
    """One catalogued model.

    Attributes:
        name: `<model>-<dataset>`; also the checkpoint folder's name.
        cls: the nn.Module + PyTorchModelHubMixin class; its constructor kwargs are its config.
        recipe: how it is trained, measured and shown, and what it can do (`genmodels/recipes/`).
        title: how the app names it.
        dataset: the data it was trained on.
        featured: among the models the Sample tab shows before anyone chooses.
        hub_repo, revision: where the weights live on the Hugging Face Hub (default: genmodels/<name>).
        hub_file, adapter: for a checkpoint in someone else's layout (one file of a plain state dict, read with
            `torch.load(weights_only=True)`), the file's name and the function that builds the model from it.
            Such models are not trained here and have no folder under `checkpoints/`.
    """

    name: str
    cls: type[nn.Module]
    recipe: Recipe
    title: str
    dataset: str = "mnist"
    featured: bool = False
    hub_repo: str = ""
    revision: str = "main"
    hub_file: str = ""
    adapter: Callable[[Mapping[str, Any]], nn.Module] | None = None

    def __post_init__(self) -> None:
        if not self.hub_repo:
            object.__setattr__(self, "hub_repo", f"{HUB_ORG}/{self.name}")

    @property
    def family(self) -> str:
        return self.recipe.family

    @property
    def tiny_config(self) -> dict:
        return self.recipe.tiny_config

    @property
    def domains(self) -> tuple[str, ...]:
        """For a translation model, the domains it translates between."""
        return tuple(self.recipe.config.get("domains", ()))

    @property
    def trainable(self) -> bool:
        """Trained by this project's code (a foreign checkpoint is not)."""
        return self.recipe.train is not None and not self.hub_file

    @property
    def local_dir(self) -> Path:
        return checkpoints_dir() / self.name


REGISTRY: dict[str, ModelEntry] = {
    e.name: e
    for e in (
        ModelEntry("dcgan-mnist", GANGenerator, gan.DCGAN, "DCGAN", featured=True),
        ModelEntry("wgan-gp-mnist", GANGenerator, gan.WGAN_GP, "WGAN-GP", featured=True),
        ModelEntry("vae-mnist", ConvVAE, vae.VAE, "VAE", featured=True),
        ModelEntry("pixelcnn-mnist", PixelCNN, autoregressive.PIXELCNN, "PixelCNN"),
        ModelEntry(
            "gated-pixelcnn-mnist", GatedPixelCNN, autoregressive.GATED_PIXELCNN, "Gated PixelCNN", featured=True
        ),
        ModelEntry("pixelrnn-mnist", PixelRNN, autoregressive.PIXELRNN, "PixelRNN (Row LSTM)"),
        ModelEntry("vqvae-mnist", VQVAE, vqvae.VQVAE, "VQ-VAE + PixelCNN prior", featured=True),
        ModelEntry("nice-mnist", NICE, flow.NICE, "NICE"),
        ModelEntry("realnvp-mnist", RealNVP, flow.REALNVP, "RealNVP"),
        ModelEntry("glow-mnist", Glow, flow.GLOW, "Glow", featured=True),
        ModelEntry("bigan-mnist", BiGAN, gan.BIGAN, "BiGAN"),
        ModelEntry("vae2d-mnist", ConvVAE, vae.VAE_2D, "VAE (2D latent)"),
        ModelEntry("ae2d-mnist", Autoencoder, autoencoder.AUTOENCODER, "Autoencoder (2D latent)"),
        ModelEntry("linear-ae-mnist", Autoencoder, autoencoder.LINEAR, "Linear autoencoder (2D latent)"),
        ModelEntry("dae-mnist", Autoencoder, autoencoder.DENOISING, "Denoising autoencoder"),
        ModelEntry(CLASSIFIER, MNISTClassifier, classifier.CLASSIFIER, "Classifier"),
        ModelEntry("cyclegan-mnist", CycleGAN, translation.CYCLEGAN, "CycleGAN · thin ↔ thick digits (bundled)"),
        ModelEntry("stargan-mnist", StarGAN, translation.STARGAN, "StarGAN · thin / medium / thick digits (bundled)"),
        ModelEntry(
            "cyclegan-horse2zebra",
            CycleGAN,
            translation.HORSE2ZEBRA,
            "CycleGAN · horse ↔ zebra (Hub)",
            dataset="horse2zebra",
            hub_repo="tmabraham/horse2zebra_cyclegan",
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


def names(**capabilities: bool | str) -> list[str]:
    """Registry names whose recipe has every given capability, in catalogue order: `names(samples=True)`."""
    return [
        name
        for name, entry in REGISTRY.items()
        if all(getattr(entry.recipe, key) == value for key, value in capabilities.items())
    ]


def trainable_names() -> list[str]:
    return [name for name, entry in REGISTRY.items() if entry.trainable]
