"""GANs on MNIST: DCGAN (Radford et al. 2015) and WGAN-GP (Gulrajani et al. 2017), one generator class, two losses;
and the BiGAN (Donahue et al. 2017), the same generator with an encoder, judged in pairs (x, z).

Training: `critic_steps` discriminator updates per generator update, images in [-1, 1], Adam. DCGAN: batch-norm
discriminator, non-saturating generator loss, one-sided label smoothing (real targets 0.9, Salimans et al. 2016), lr
2e-4, β = (0.5, 0.999). WGAN-GP: layer-norm critic (no batch statistics under a per-sample penalty), λ = 10, 5 critic
steps, lr 1e-4 for the first two thirds of the steps, then falling linearly to 0, β = (0.0, 0.9). Both generators have
two 3×3 convolutions at 7×7 and two at 14×14 (depth 2): 15 DCGAN epochs of it beat 30 without them on every sample
metric (and 15 with one of each on FD, precision and the confident share), 25 WGAN-GP epochs beat 31 without them on all
but precision. The checkpoint holds the generator only (it alone samples): an exponential moving average of its weights
(decay 0.999, warmed up; Yazıcı et al. 2019, arXiv:1806.04498), its batch-norm statistics measured afresh on 100 batches
of z drawn from their own seed (seed + 1, so they do not depend on where the loop stopped): averaging irons out the
generator's step-to-step oscillation, the reason GAN samples wobble in quality from one step to the next. A run's state
file (`--state`) keeps the critic, the optimisers and the random stream too, so a stopped run goes on where it was.
BiGAN: the DCGAN settings, a joint discriminator D(x, z), generator and encoder updated together with the labels
swapped (non-saturating).
Metrics: the Fréchet distance in the classifier's feature space between 1,000 samples (seed 0) and the test images,
and the class histogram of those samples. BiGAN also: G(E(x)) for the test images, how often the classifier reads it
as x's digit and its mean squared error per pixel, beside the error of G(z) for random z (the floor to beat).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch
from torch import nn
from torch.optim import swa_utils

from .. import losses
from ..models.base import cpu_generator, init_parameters
from ..models.bigan import JointDiscriminator
from ..models.gan import GANDiscriminator
from .base import HeldOut, LatentSpace, Recipe
from .common import (
    LoopState,
    batches,
    class_histogram,
    classify,
    data_parallel,
    frechet_distance,
    linear_decay,
    sample_batched,
    shard,
)

log = logging.getLogger(__name__)

FAMILY = "gan"
TINY = dict(latent_dim=8, width=4)


def ema(decay: float) -> Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]:
    """An exponential moving average whose decay grows to `decay` as (1 + n) / (10 + n): early weights fade fast.
    The decay stays a tensor on the weights' device, so averaging never waits for the GPU."""

    def average(averaged: torch.Tensor, current: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        d = ((1 + n) / (10 + n)).clamp(max=decay).to(averaged.dtype)
        return d * averaged + (1 - d) * current

    return average


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
    ema_decay: float = 0.999,
    decay_from: float = 1.0,
    state: str | Path | None = None,
) -> dict:
    """The shared GAN loop; `critic_loss(critic, real, fake, generator)` and `generator_loss(scores)` set the kind.
    `model` ends holding the moving average of its weights.

    `state`: a file the loop's whole state (generator, critic, average, optimisers, random stream) is written to
    after every epoch; a loop started with an existing one goes on from it, as if it had never stopped.
    `decay_from`: the share of the run's steps after which both learning rates fall linearly to 0 (1: constant); the
    rate follows the step count, so a run that goes on from a state file lands on the same schedule."""
    g = cpu_generator(seed)
    averaged = swa_utils.AveragedModel(model, avg_fn=ema(ema_decay), use_buffers=False)
    critic = init_parameters(GANDiscriminator(width=model.width, norm=norm), g).to(x.device)
    x = x * 2 - 1
    opt_g = torch.optim.Adam(model.parameters(), lr=lr, betas=betas)
    opt_d = torch.optim.Adam(critic.parameters(), lr=lr, betas=betas)
    parts = dict(generator=model, average=averaged, critic=critic, opt_g=opt_g, opt_d=opt_d)
    kept = LoopState(state, g, **parts) if state else None
    done = kept.load() if kept else {}
    if done and done["seed"] != seed:
        raise ValueError(f"{state} holds a run with seed {done['seed']}; this one has seed {seed}.")
    if done.get("epoch", 0) > epochs:
        raise ValueError(f"{state} is already at epoch {done['epoch']}, past the {epochs} asked for.")
    batch, step, first = 64, done.get("step", 0), done.get("epoch", 0)
    total_steps = epochs * (len(x) // batch)
    d_loss, g_loss = (torch.tensor(done.get(k, float("nan"))) for k in ("d_loss", "g_loss"))
    start, earlier = time.perf_counter(), done.get("wall_time_s", 0.0)
    d_step = data_parallel(critic, lambda d, real, fake: critic_loss(d, real, fake, g))
    g_step = data_parallel(model, lambda gen, z: generator_loss(critic(gen(z))))
    for epoch in range(first, epochs):
        model.train()
        critic.train()
        for idx in batches(len(x), batch, g):
            for group in (*opt_g.param_groups, *opt_d.param_groups):
                group["lr"] = lr * linear_decay(step / total_steps, decay_from)
            z = shard(model.prior_sample(batch, g))
            d_loss = d_step(x[idx], model(z).detach())
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            step += 1
            if step % critic_steps:
                continue
            g_loss = g_step(shard(model.prior_sample(batch, g)))
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
            averaged.update_parameters(model)
        if kept:
            wall = earlier + time.perf_counter() - start
            kept.save(
                epoch=epoch + 1, step=step, seed=seed, wall_time_s=wall, d_loss=d_loss.item(), g_loss=g_loss.item()
            )
        log.info("epoch %d d-loss %.4f g-loss %.4f", epoch + 1, d_loss.item(), g_loss.item())
    measure = cpu_generator(seed + 1)
    swa_utils.update_bn((model.prior_sample(batch, measure) for _ in range(100)), averaged.module, device=x.device)
    model.load_state_dict(averaged.module.state_dict())
    return {
        **({"continued_from_epoch": first, "earlier_wall_time_s": earlier} if first else {}),
        "generator_weights": f"moving average, decay {ema_decay}",
        "learning_rate": f"{lr:g}"
        + (f", falling linearly to 0 after {decay_from:.0%} of the steps" if decay_from < 1 else ""),
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


def train_bigan(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int) -> dict:
    """D learns to tell (x, E(x)) from (G(z), z); G and E, one optimiser, learn to make it say the opposite."""
    g = cpu_generator(seed)
    critic = init_parameters(JointDiscriminator(model.latent_shape[0], model.width), g).to(x.device)
    opt_ge = torch.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(critic.parameters(), lr=2e-4, betas=(0.5, 0.999))
    batch, steps = 64, 0
    both_ways = data_parallel(model, lambda m, real, z: (m.encoder(real), m(z)))  # E(x) and G(z), one forward
    d_loss_of = data_parallel(critic, lambda d, x, z_x, fake, z: losses.discriminator_loss(d(x, z_x), d(fake, z)))
    for epoch in range(epochs):
        model.train()
        critic.train()
        for idx in batches(len(x), batch, g):
            real, z = x[idx] * 2 - 1, shard(model.prior_sample(batch, g))
            z_real, fake = both_ways(real, z)
            d_loss = d_loss_of(real, z_real.detach(), fake.detach(), z)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            ge_loss = losses.discriminator_loss(critic(fake, z), critic(real, z_real))  # labels swapped
            opt_ge.zero_grad(set_to_none=True)
            ge_loss.backward()
            opt_ge.step()
            steps += 1
        log.info("epoch %d d-loss %.4f ge-loss %.4f", epoch + 1, d_loss.item(), ge_loss.item())
    return {"steps": steps, "final_d_loss": d_loss.item(), "final_ge_loss": ge_loss.item()}


@torch.no_grad()
def evaluate_bigan(model: nn.Module, test: HeldOut) -> dict:
    x = test.x.to(model.device)
    recon = model.decode(model.encode(x))
    _, probs = classify(test.classifier(), recon)
    random = model.sample(len(x), cpu_generator(1))
    return {
        **evaluate(model, test),
        "encoder_class_kept": round((probs.argmax(1) == test.y).double().mean().item(), 4),
        "encoder_mse": round((recon - x).pow(2).mean().item(), 5),
        "random_z_mse": round((random - x).pow(2).mean().item(), 5),
    }


def badge(m: dict) -> str:
    text = f"FD {m['fd']:.2f} (classifier features, test)"
    if "encoder_class_kept" in m:
        text += f" · G(E(x)) keeps the digit {m['encoder_class_kept']:.0%}"
    return text


NO_ENCODER = LatentSpace("z ~ N(0, I); a GAN has no encoder, so an image's z is found by optimisation.", encode=None)
_gan = partial(
    Recipe, FAMILY, evaluate=evaluate, badge=badge, tiny_config=TINY, samples=True, truncation=True, latent=NO_ENCODER
)
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
    epochs=25,
    config=dict(depth=2),
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
        decay_from=2 / 3,
    ),
    epochs=120,
    config=dict(depth=2),
)
BIGAN = _gan(
    train_bigan,
    evaluate=evaluate_bigan,
    encodes=True,
    epochs=12,
    config=dict(latent_dim=16, width=32),
    latent=LatentSpace("z ~ N(0, I); the BiGAN's encoder gives an image's z in one pass."),
)
