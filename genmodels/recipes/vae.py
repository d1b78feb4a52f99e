"""The VAE on binarised MNIST (Kingma & Welling 2014): maximise the ELBO, measure it and the IWAE bound.

Training: fresh binarisations every batch, Adam 1e-3 with cosine decay, batch 64; 1/16 of the train split is held
out (one fixed binarisation) and the weights with the best ELBO there are kept.
Metrics: −ELBO (averaged over 20 draws of z per image) and −IWAE (k = 100, Burda et al. 2015) per image on the
fixed-seed binarised test images, both upper bounds on the negative log-likelihood (nats; lower is better). One draw
of z per image leaves the −ELBO's mean over the 1,000 test images ±0.1 nats noisy; 20 draws, ±0.02.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace

import torch
from torch import nn

from .. import data
from ..models.base import cpu_generator, standard_normal
from .base import HeldOut, LatentSpace, Recipe
from .common import KeepBest, batches, data_parallel

log = logging.getLogger(__name__)

IWAE_K = 100
ELBO_DRAWS = 20


def train_vae(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int) -> dict:
    g = cpu_generator(seed)
    n_val = len(x) // 16
    x_train, x_val = x[n_val:], data.fixed_binarization(x[:n_val])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    best = KeepBest(model, lower_is_better=False)
    step = data_parallel(model, lambda m, xb: m.elbo_terms(xb, g))
    for epoch in range(epochs):
        model.train()
        for idx in batches(len(x_train), 64, g):
            xb = data.binarize(x_train[idx], g)
            recon, kl = step(xb)
            loss = (kl - recon).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sched.step()
        model.eval()
        with torch.no_grad():
            val = model.log_prob(x_val, generator=cpu_generator(0)).mean().item()
        best.update(val, epoch + 1)
        log.info(
            "epoch %d train-loss %.2f val-elbo %.2f (best %.2f @ %d)",
            epoch + 1,
            loss.item(),
            val,
            best.best,
            best.epoch,
        )
    best.restore()
    return {"validation_images": n_val, "best_validation_elbo_nats": best.best, "best_epoch": best.epoch}


@torch.no_grad()
def evaluate(model: nn.Module, test: HeldOut, k: int = IWAE_K, batch: int = 100) -> dict:
    xb = data.fixed_binarization(test.x)
    g = cpu_generator(0)
    elbo = torch.stack(
        [
            torch.cat([model.log_prob(c.to(model.device), generator=g).cpu() for c in xb.split(batch)])
            for _ in range(ELBO_DRAWS)
        ]
    ).mean(0)
    iwae = torch.cat([model.iwae_bound(c.to(model.device), k, g).cpu() for c in xb.split(batch)])
    return {"elbo_nats": round(-elbo.mean().item(), 3), "iwae_nats": round(-iwae.mean().item(), 3), "iwae_k": k}


GIBBS_STEPS = 40


@torch.no_grad()
def complete(
    model: nn.Module,
    known: torch.Tensor,
    mask: torch.Tensor,
    n: int,
    generator: torch.Generator,
    temperature: float,
    condition: torch.Tensor | None = None,
) -> Iterator[tuple[int, int, torch.Tensor]]:
    """Encode, draw z from q(z | x) (its spread times `temperature`), decode, draw the hidden pixels from p(x | z),
    put the known pixels back, repeat (Rezende et al. 2014, section 5.3): a Markov chain whose stationary law
    approximates p(hidden | observed). Yields the chain's binary state every 5 steps."""
    device = model.device
    observed = (known > 0.5).float().to(device).expand(n, -1, -1, -1)
    mask = mask.to(device).expand(n, -1, -1, -1)
    x = torch.where(mask, torch.rand(observed.shape, generator=generator).to(device).round(), observed)
    for step in range(1, GIBBS_STEPS + 1):
        mu, logvar = model.posterior(x)
        z = mu + temperature * torch.exp(0.5 * logvar) * standard_normal(tuple(mu.shape), generator).to(device)
        probs = model.decode(z)
        draw = (torch.rand(probs.shape, generator=generator).to(device) < probs).float()
        x = torch.where(mask, draw, observed)
        if step % 5 == 0:
            yield step, GIBBS_STEPS, x


def badge(m: dict) -> str:
    return f"NLL ≤ {m['iwae_nats']:.1f} nats (IWAE, test) · −ELBO {m['elbo_nats']:.1f}"


VAE = Recipe(
    "vae",
    train_vae,
    evaluate,
    badge,
    epochs=100,
    config=dict(latent_dim=32, blocks=1),
    tiny_config=dict(latent_dim=4, width=4, hidden=16, blocks=1),
    samples=True,
    encodes=True,
    likelihood="bound",
    complete=complete,
    completion="an approximation: encode, decode, put the known pixels back, repeat (a Markov chain over the hidden "
    "pixels); it sees every known pixel, above and below the hole.",
    latent=LatentSpace("z ~ N(0, I); an image's z is the encoder's posterior mean μ(x)."),
)
# The same VAE with a 2D latent, for the Latent tab's map of the test set and its decoded manifold (Kingma & Welling
# 2014, Fig. 4): a worse likelihood, a latent space one can see whole. It samples, but leaves hole-filling to the VAE.
VAE_2D = replace(VAE, epochs=25, config=dict(latent_dim=2), complete=None, completion="")
