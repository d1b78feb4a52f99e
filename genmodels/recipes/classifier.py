"""The MNIST classifier, the project's yardstick: it labels samples and gives the features behind the FD.

Training: AdamW 2e-3 (weight decay 1e-4) with a one-cycle schedule, batch 128, small random rotations, scalings and
shifts as augmentation. Metric: accuracy on the test images.
"""

from __future__ import annotations

import logging
import math

import torch
import torch.nn.functional as F
from torch import nn

from ..models.base import cpu_generator
from .base import HeldOut, Recipe
from .common import batches, classify, data_parallel, mean_over_processes

log = logging.getLogger(__name__)


def random_affine(
    x: torch.Tensor, generator: torch.Generator, degrees: float = 10.0, shift: float = 0.1
) -> torch.Tensor:
    """Small random rotation, scale and shift of a batch (n, C, H, W): augmentation for the classifier."""
    n = x.shape[0]
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(degrees)
    scale = 1 + (torch.rand(n, generator=generator) * 2 - 1) * 0.1
    offset = (torch.rand(n, 2, generator=generator) * 2 - 1) * shift * 2  # grid units: 2 = the whole image
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, offset[:, 0]], 1), torch.stack([sin, cos, offset[:, 1]], 1)], 1)
    grid = F.affine_grid(theta.to(x.device), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")


def train_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int) -> dict:
    g = cpu_generator(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    steps = epochs * (len(x) // 128)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    forward = data_parallel(model, lambda m, xb: m(xb))
    for epoch in range(epochs):
        model.train()
        total, correct, seen = 0.0, 0, 0
        for idx in batches(len(x), 128, g):
            xb, yb = random_affine(x[idx], g), y[idx]
            logits = forward(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            correct += (logits.argmax(1) == yb).sum().item()
            seen += len(idx)
        loss, accuracy = (mean_over_processes(t, seen, x.device) for t in (total, correct))
        log.info("epoch %d loss %.4f train-acc %.4f", epoch + 1, loss, accuracy)
    return {"final_train_loss": loss, "final_train_accuracy": accuracy}


@torch.no_grad()
def evaluate(model: nn.Module, test: HeldOut) -> dict:
    _, probs = classify(model, test.x)
    return {"accuracy": round((probs.argmax(1) == test.y).double().mean().item(), 4)}


def badge(m: dict) -> str:
    return f"accuracy {m['accuracy']:.1%} (test)"


CLASSIFIER = Recipe("classifier", train_classifier, evaluate, badge, epochs=8, tiny_config=dict(width=4, feature_dim=8))
