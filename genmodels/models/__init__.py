"""One file per model family: nn.Module + PyTorchModelHubMixin classes whose constructor kwargs are the config."""

from .base import Flow, ImageModel, LatentModel, LikelihoodModel
from .classifier import MNISTClassifier
from .gan import GANDiscriminator, GANGenerator
from .vae import ConvVAE

__all__ = [
    "ConvVAE",
    "Flow",
    "GANDiscriminator",
    "GANGenerator",
    "ImageModel",
    "LatentModel",
    "LikelihoodModel",
    "MNISTClassifier",
]
