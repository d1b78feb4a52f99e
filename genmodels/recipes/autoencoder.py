"""Autoencoders on MNIST: the 2D autoencoder, the denoising autoencoder and the linear autoencoder (PCA's subspace).

Training: Adam 1e-3 with cosine decay, batch 128 (the linear autoencoder 1e-2: at 1e-3 its second direction was
still 85° from PCA's after 15 epochs, as the second and third eigenvalues, 3.74 and 3.25, are close); 1/16 of the
train split is held out and the weights with the lowest reconstruction loss there are kept. The loss is the
cross-entropy between the grey-level image and the sigmoid output (summed over pixels), or the squared error for the
linear autoencoder (whose optimum is PCA's subspace). The denoising autoencoder sees x + σ·ε clipped to [0, 1], with
σ drawn per image from U(0, noise), and is asked for the clean x.
Metrics: the mean squared error per pixel of the reconstructions of the test images, and how often the classifier
reads a reconstruction as the original's digit; the denoising autoencoder also at noise σ = 0.3 (noisy vs cleaned);
the linear autoencoder's largest principal angle to the top PCA subspace of the training images.
"""

from __future__ import annotations

import logging
import math
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from ..models.base import cpu_generator
from .base import HeldOut, Recipe
from .common import KeepBest, batches, classify, data_parallel

log = logging.getLogger(__name__)

FAMILY = "autoencoder"
EVAL_NOISE = 0.3


def corrupt(x: torch.Tensor, sigma: float | torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """x + σ·ε, ε ~ N(0, I) drawn on the CPU from `generator`, clipped to [0, 1]."""
    eps = torch.randn(x.shape, generator=generator).to(x.device)
    return (x + sigma * eps).clamp(0.0, 1.0)


def reconstruction_loss(model: nn.Module, x_in: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per image (n,): squared error for the linear autoencoder, else cross-entropy with the sigmoid output."""
    out = model.decode_logits(model.encode(x_in))
    if model.linear:
        return (out - target).pow(2).flatten(1).sum(1)
    return F.binary_cross_entropy_with_logits(out, target, reduction="none").flatten(1).sum(1)


def train_autoencoder(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int, *, noise: float = 0.0, lr: float = 1e-3
) -> dict:
    g = cpu_generator(seed)
    n_val = len(x) // 16
    x_train, x_val = x[n_val:], x[:n_val]
    x_val_in = corrupt(x_val, noise / 2, cpu_generator(seed + 1)) if noise else x_val
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    best = KeepBest(model)
    step = data_parallel(model, lambda m, x_in, target: reconstruction_loss(m, x_in, target).mean())
    for epoch in range(epochs):
        model.train()
        for idx in batches(len(x_train), 128, g):
            target = x_train[idx]
            x_in = target
            if noise:
                x_in = corrupt(target, noise * torch.rand((len(idx), 1, 1, 1), generator=g).to(x.device), g)
            loss = step(x_in, target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sched.step()
        model.eval()
        with torch.no_grad():
            val = reconstruction_loss(model, x_val_in, x_val).mean().item()
        best.update(val, epoch + 1)
        log.info(
            "epoch %d train-loss %.3f val-loss %.3f (best %.3f @ %d)",
            epoch + 1,
            loss.item(),
            val,
            best.best,
            best.epoch,
        )
    best.restore()
    stats = {"validation_images": n_val, "best_validation_loss": round(best.best, 4), "best_epoch": best.epoch}
    if noise:
        stats["training_noise"] = f"sigma ~ U(0, {noise}) per image"
    if model.linear:
        stats["angle_to_pca_degrees"] = round(angle_to_pca(model, x_train), 3)
    return stats


def principal_subspace(x: torch.Tensor, k: int) -> torch.Tensor:
    """The top-k principal directions (784, k) of images x (n, 1, 28, 28), from the SVD of the centred data."""
    flat = x.flatten(1).double()
    _, _, vh = torch.linalg.svd(flat - flat.mean(0), full_matrices=False)
    return vh[:k].T


def subspace_angle_degrees(a: torch.Tensor, b: torch.Tensor) -> float:
    """The largest principal angle between the column spaces of a and b (d, k): 0 when they are the same subspace."""
    qa, _ = torch.linalg.qr(a.double())
    qb, _ = torch.linalg.qr(b.double())
    cosines = torch.linalg.svdvals(qa.T @ qb).clamp(max=1.0)
    return math.degrees(math.acos(cosines.min().item()))


def angle_to_pca(model: nn.Module, x: torch.Tensor) -> float:
    """The linear autoencoder's decoder subspace against the top PCA subspace of x, in degrees."""
    return subspace_angle_degrees(
        model.decoder.weight.detach().cpu(), principal_subspace(x.cpu(), model.latent_shape[0])
    )


@torch.no_grad()
def evaluate(model: nn.Module, test: HeldOut, noise: float = 0.0) -> dict:
    x = test.x.to(model.device)
    recon = model.reconstruct(x)
    _, probs = classify(test.classifier(), recon)
    out = {
        "reconstruction_mse": round((recon - x).pow(2).mean().item(), 5),
        "class_kept": round((probs.argmax(1) == test.y).double().mean().item(), 4),
    }
    if noise:
        noisy = corrupt(x, EVAL_NOISE, cpu_generator(0))
        out["noise_sigma"] = EVAL_NOISE
        out["noisy_mse"] = round((noisy - x).pow(2).mean().item(), 5)
        out["denoised_mse"] = round((model.reconstruct(noisy) - x).pow(2).mean().item(), 5)
    return out


def badge(m: dict) -> str:
    text = f"reconstruction MSE {m['reconstruction_mse']:.4f} · digit kept {m['class_kept']:.0%} (test)"
    if "denoised_mse" in m:
        text += f" · at σ = {m['noise_sigma']}: {m['noisy_mse']:.3f} → {m['denoised_mse']:.3f}"
    return text


_autoencoder = partial(Recipe, FAMILY, badge=badge, encodes=True)
AUTOENCODER = _autoencoder(
    train_autoencoder, evaluate, epochs=30, config=dict(latent_dim=2, hidden=512), tiny_config=dict(hidden=16)
)
DENOISING = _autoencoder(
    partial(train_autoencoder, noise=0.6),
    partial(evaluate, noise=EVAL_NOISE),
    epochs=30,
    config=dict(latent_dim=32, hidden=512),
    tiny_config=dict(latent_dim=4, hidden=16),
    denoises=True,
)
LINEAR = _autoencoder(
    partial(train_autoencoder, lr=1e-2),
    evaluate,
    epochs=30,
    config=dict(latent_dim=2, hidden=0),
    tiny_config=dict(hidden=0),
)
