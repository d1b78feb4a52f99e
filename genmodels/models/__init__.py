"""One file per model family: nn.Module + PyTorchModelHubMixin classes whose constructor kwargs are the config."""

from .base import ImageModel, LatentModel, LikelihoodModel
from .classifier import MNISTClassifier
from .gan import GANDiscriminator, GANGenerator
from .vae import ConvVAE

__all__ = [
    "ConvVAE",
    "GANDiscriminator",
    "GANGenerator",
    "ImageModel",
    "LatentModel",
    "LikelihoodModel",
    "MNISTClassifier",
]
