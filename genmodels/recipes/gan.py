"""GANs on MNIST: DCGAN (Radford et al. 2015) and WGAN-GP (Gulrajani et al. 2017), one generator class, two losses.

Training: `critic_steps` discriminator updates per generator update, images in [-1, 1], Adam. DCGAN: batch-norm
discriminator, non-saturating generator loss, one-sided label smoothing (real targets 0.9, Salimans et al. 2016),
lr 2e-4, β = (0.5, 0.999). WGAN-GP: layer-norm critic (no batch statistics under a per-sample penalty), λ = 10,
5 critic steps, lr 1e-4, β = (0.0, 0.9). The critic is not saved: only the generator samples.
Metrics: the Fréchet distance in the classifier's feature space between 1,000 samples (seed 0) and the test images,
and the class histogram of those samples.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

import torch
from torch import nn

from .. import losses
from ..models.base import cpu_generator, init_parameters
from ..models.gan import GANDiscriminator
from .base import HeldOut, Recipe
from .common import batches, class_histogram, classify, frechet_distance, sample_batched

log = logging.getLogger(__name__)

FAMILY = "gan"
TINY = dict(latent_dim=8, width=4)


def train_gan(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    epochs: int,
    seed: int,
    *,
    norm: str,
    critic_steps: int,
    lr: float,
    betas: tuple[float, float],
    critic_loss: Callable[[nn.Module, torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor],
    generator_loss: Callable[[torch.Tensor], torch.Tensor],
) -> dict:
    """The shared GAN loop; `critic_loss(critic, real, fake, generator)` and `generator_loss(scores)` set the kind."""
    g = cpu_generator(seed)
    critic = init_parameters(GANDiscriminator(width=model.width, norm=norm), g).to(x.device)
    x = x * 2 - 1
    opt_g = torch.optim.Adam(model.parameters(), lr=lr, betas=betas)
    opt_d = torch.optim.Adam(critic.parameters(), lr=lr, betas=betas)
    batch, step = 64, 0
    g_loss = torch.tensor(float("nan"))  # until the first generator step
    for epoch in range(epochs):
        model.train()
        critic.train()
        for idx in batches(len(x), batch, g):
            z = model.prior_sample(batch, g)
            d_loss = critic_loss(critic, x[idx], model(z).detach(), g)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            step += 1
            if step % critic_steps:
                continue
            g_loss = generator_loss(critic(model(model.prior_sample(batch, g))))
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
        log.info("epoch %d d-loss %.4f g-loss %.4f", epoch + 1, d_loss.item(), g_loss.item())
    return {
        "critic_steps_per_generator_step": critic_steps,
        "generator_steps": step // critic_steps,
        "final_d_loss": d_loss.item(),
        "final_g_loss": g_loss.item(),
    }


def dcgan_critic_loss(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    return losses.discriminator_loss(critic(real), critic(fake), real_target=0.9)


def wgan_gp_critic_loss(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    return losses.critic_loss(critic(real), critic(fake)) + 10.0 * losses.gradient_penalty(critic, real, fake, g)


def evaluate(model: nn.Module, test: HeldOut) -> dict:
    fake_feats, fake_probs = classify(test.classifier(), sample_batched(model, test.samples))
    real_feats, _ = classify(test.classifier(), test.x)
    return {"fd": round(frechet_distance(fake_feats, real_feats), 3), "class_histogram": class_histogram(fake_probs)}


def badge(m: dict) -> str:
    return f"FD {m['fd']:.2f} (classifier features, test)"


_gan = partial(Recipe, FAMILY, evaluate=evaluate, badge=badge, tiny_config=TINY, samples=True, truncation=True)
DCGAN = _gan(
    partial(
        train_gan,
        norm="batch",
        critic_steps=1,
        lr=2e-4,
        betas=(0.5, 0.999),
        critic_loss=dcgan_critic_loss,
        generator_loss=partial(losses.generator_loss, kind="non-saturating"),
    ),
    epochs=60,
)
WGAN_GP = _gan(
    partial(
        train_gan,
        norm="layer",
        critic_steps=5,
        lr=1e-4,
        betas=(0.0, 0.9),
        critic_loss=wgan_gp_critic_loss,
        generator_loss=partial(losses.generator_loss, kind="wasserstein"),
    ),
    epochs=50,
)
