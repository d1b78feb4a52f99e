"""The image flows (NICE, RealNVP, Glow): maximum likelihood on dequantised 8-bit MNIST, measured in bits/dim.

Training: every batch gets fresh uniform dequantisation noise; the loss is the bits per dimension of the batch
(−log_prob / (784 ln 2)). Adam at 1e-3 (`--set lr=...`) with a linear warm-up over the first 500 steps and a cosine
decay to zero, batch 64, gradient norm clipped at 50. 2,000 images of the train split are held out (dequantisation
seed 0) and the weights with the best bits/dim there are kept. Glow's ActNorm layers start from the first 64 training
images (data-dependent, the same on every process when training runs on several). Ctrl-C (SIGINT) ends training early
and the best epoch so far is saved; `--resume` goes on from a saved checkpoint.
Metrics: bits/dim on the test images with one fixed dequantisation (seed 0), the same draw for every flow; for NICE
also the log-likelihood in the paper's units (nats on [0, 1]^784); and what the classifier makes of 1,000 samples
(seed 0) at the family's default temperature.

The Latent tab encodes with a flow in float64 (`float64_twin`) and decodes such a z in float64: the inverse is exact,
but where a coupling has squeezed a digit hard it is ill-conditioned, and float32 rounding is not enough. On one of
Glow's test digits a coupling scale is exp(−11.7) ≈ 8e-6: in float32, decode(encode(x)) misses that digit's pixels by
up to 0.59 (5 of the 1,000 test digits by more than 1e-4); in float64 by 1.5e-9.
"""

from __future__ import annotations

import copy
import functools
import logging
import math
import time
from collections.abc import Iterator

import torch
from torch import nn

from ..models.base import cpu_generator
from .base import HeldOut, LatentSpace, Recipe
from .common import KeepBest, batches, class_histogram, classify, confident_share, data_parallel

log = logging.getLogger(__name__)

BATCH, WARMUP, CLIP, N_VAL = 64, 500, 50.0, 2000
DEFAULT_TEMPERATURE = 0.7  # Glow's reduced temperature, also RealNVP's here; NICE draws at 1


def train_flow(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int, lr: float = 1e-3) -> dict:
    g = cpu_generator(seed)
    n_val = min(N_VAL, len(x) // 10)
    x_train, x_val = x[n_val:], x[:n_val]
    total = max(1, epochs * (len(x_train) // BATCH))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    lr_at = lambda step: min(1.0, (step + 1) / WARMUP) * 0.5 * (1 + math.cos(math.pi * step / total))  # noqa: E731
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    best = KeepBest(model, lower_is_better=True)
    start, step, curve, stopped = time.perf_counter(), 0, [], False
    model.train()
    with torch.no_grad():  # data-dependent starts (ActNorm), before the processes part ways
        model.bits_per_dim(x_train[:BATCH], cpu_generator(seed))
    loss = data_parallel(model, lambda m, xb: m.bits_per_dim(xb, g).mean())
    for epoch in range(epochs):
        model.train()
        try:
            step = train_epoch(model, loss, opt, sched, x_train, g, step, total, start)
        except KeyboardInterrupt:  # Ctrl-C (SIGINT): stop, keep the best weights so far, and save them
            log.info("stopped by the user in epoch %d; keeping the best epoch so far", epoch + 1)
            stopped = True
            break
        val = held_out_bits_per_dim(model, x_val)
        best.update(val, epoch + 1)
        curve.append(round(val, 4))
        log.info("epoch %d val bits/dim %.4f (best %.4f @ %d)", epoch + 1, val, best.best, best.epoch)
    if best.state is None:  # stopped within the first epoch: what there is
        best.update(held_out_bits_per_dim(model, x_val), 0)
    best.restore()
    return {
        "validation_images": n_val,
        "best_validation_bits_per_dim": round(best.best, 4),
        "best_epoch": best.epoch,
        "validation_curve_bits_per_dim": curve,
        "steps": step,
        "batch": BATCH,
        **({"stopped_early_after_epochs": len(curve)} if stopped else {}),
    }


def train_epoch(model, bits_per_dim, opt, sched, x_train, g, step, total, start) -> int:
    """One pass over x_train in shuffled batches of BATCH; returns the step count after it."""
    for idx in batches(len(x_train), BATCH, g):
        loss = bits_per_dim(x_train[idx])
        if not torch.isfinite(loss):
            raise FloatingPointError(f"non-finite loss at step {step}")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
        sched.step()
        step += 1
        if step % 200 == 0:
            log.info("step %d/%d bits/dim %.3f (%.0f s)", step, total, loss.item(), time.perf_counter() - start)
    return step


@torch.no_grad()
def held_out_bits_per_dim(model: nn.Module, x: torch.Tensor, batch: int = 500) -> float:
    """Mean bits/dim of x with one fixed dequantisation (seed 0), in eval mode."""
    model.eval()
    g = cpu_generator(0)
    return torch.cat([model.bits_per_dim(c.to(model.device), g).cpu() for c in x.split(batch)]).mean().item()


def evaluator(temperature: float, paper_units: bool = False):
    @torch.no_grad()
    def evaluate(model: nn.Module, test: HeldOut) -> dict:
        bpd = held_out_bits_per_dim(model, test.x)
        g = cpu_generator(0)
        samples = torch.cat(
            [model.sample(min(250, test.samples - i), g, temperature).cpu() for i in range(0, test.samples, 250)]
        )
        _, probs = classify(test.classifier(), samples)
        metrics = {
            "bits_per_dim": round(bpd, 4),
            "nll_nats": round(bpd * 784 * math.log(2), 2),
            "sample_temperature": temperature,
            "confident_samples": confident_share(probs),
            "class_histogram": class_histogram(probs),
        }
        if paper_units:
            # the paper's figure: log p on [0, 1]^784 = log p on 0..256 + 784 log 256
            metrics["log_likelihood_nats_unit_scale"] = round(-bpd * 784 * math.log(2) + 784 * math.log(256), 1)
        return metrics

    return evaluate


FIT_STEPS, KNOWN_NOISE = 60, 0.05


def complete(
    model: nn.Module,
    known: torch.Tensor,
    mask: torch.Tensor,
    n: int,
    generator: torch.Generator,
    temperature: float,
    condition: torch.Tensor | None = None,
) -> Iterator[tuple[int, int, torch.Tensor]]:
    """Start from n draws z of the prior at temperature t, then fit each so that its image matches the known pixels:
    Adam on ‖(x(z) − known) ⊙ observed‖² / (2σ²) − log p(z / t) with σ = 0.05 (a maximum a posteriori fit under
    Gaussian pixel noise, the prior tempered), and put the known pixels back. Yields every 10 steps."""
    device, t = model.device, max(temperature, 1e-3)
    observed = known.to(device).expand(n, -1, -1, -1)
    hidden = mask.to(device).expand_as(observed)
    z = model.prior_sample(n, generator, t).to(device).requires_grad_(True)
    z_good, x_good = z.detach().clone(), observed.clone()  # per completion: its last latent with a finite image
    opt = torch.optim.Adam([z], lr=0.05)
    for step in range(1, FIT_STEPS + 1):
        # grad mode is per thread and a server may resume this generator on another: set it here, not around a yield;
        # autograd.grad, not backward: the shared model's parameters get no .grad from a user's completion
        with torch.enable_grad():
            x = model.inverse(z).clamp(0, 1)
            finite = torch.isfinite(x).flatten(1).all(1)
            x = torch.where(finite[:, None, None, None], x, x_good)
            misfit = ((x - observed) * ~hidden).pow(2).flatten(1).sum(1) / (2 * KNOWN_NOISE**2)
            (grad,) = torch.autograd.grad((misfit - model.prior_log_prob(z / t)).sum(), z)
        with torch.no_grad():  # a step into a region the inverse overflows in is taken back
            z[~finite] = z_good[~finite]
            z_good[finite], x_good = z[finite], x.detach()
        z.grad = torch.nan_to_num(grad, nan=0.0, posinf=0.0, neginf=0.0) * finite[:, None]
        opt.step()
        if step % 10 == 0:
            yield step, FIT_STEPS, torch.where(hidden, x_good, observed)


def badge(m: dict) -> str:
    return f"{m['bits_per_dim']:.2f} bits/dim (exact, test) · NLL {m['nll_nats']:.0f} nats"


TEMPERATURE = (
    "drawn at 0.7 × t (the Glow paper's reduced temperature at t = 1): z ~ N(0, (0.7t)²I); lower = smoother, more "
    "typical digits, higher = more varied and noisier."
)


@functools.lru_cache(maxsize=8)
def float64_twin(model: nn.Module) -> nn.Module:
    """A float64 copy of a loaded flow, made once: the shared float32 model is never changed (see the docstring)."""
    return copy.deepcopy(model).double().eval()


def exact_encode(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """z (float64) of images x: keep it in float64, or decode gives a hard-squeezed digit back only roughly."""
    return float64_twin(model).encode(x.double())


def exact_decode(model: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """Images from z in z's own precision: float64 for an encoded digit (exact), float32 for a seed's draw (the Sample
    tab's precision, and up to several times faster)."""
    flow = float64_twin(model) if z.dtype == torch.float64 else model
    return flow.decode(z).clamp(0.0, 1.0)


def latent_space(temperature: float) -> LatentSpace:
    """A flow's z: exact both ways (the inverse is the encoder; an encoded z is float64, and so is its decoding);
    seeds are drawn at the Sample tab's temperature."""
    return LatentSpace(
        "z, 784 numbers, the flow's exact image of x: decode(encode(x)) = x. Seeds are drawn at temperature "
        f"{temperature:g}.",
        draw=lambda model, n, generator: model.prior_sample(n, generator, temperature),
        decode=exact_decode,
        encode=exact_encode,
    )


FLOW = dict(
    samples=True,
    encodes=True,
    likelihood="exact",
    complete=complete,
    completion="an approximation: draws of the latent fitted so that their images match the known pixels (a "
    "maximum a posteriori fit with the prior tempered); it sees every known pixel, above and below the hole.",
)

NICE = Recipe(
    "flow",
    train_flow,
    evaluator(1.0, paper_units=True),
    badge,
    epochs=100,
    config=dict(couplings=4, hidden=256, depth=5),
    tiny_config=dict(couplings=2, hidden=8, depth=2),
    temperature="t scales the logistic prior, z = t · logit(u): lower = smoother, more typical digits.",
    temperatures=(0.05, 1.2),
    latent=latent_space(1.0),
    **FLOW,
)
REALNVP = Recipe(
    "flow",
    train_flow,
    evaluator(DEFAULT_TEMPERATURE),
    badge,
    epochs=12,
    config=dict(hidden=64),
    tiny_config=dict(hidden=4),
    temperature=TEMPERATURE,
    temperatures=(0.05, 1.7),
    temperature_scale=DEFAULT_TEMPERATURE,
    latent=latent_space(DEFAULT_TEMPERATURE),
    **FLOW,
)
GLOW = Recipe(
    "flow",
    train_flow,
    evaluator(DEFAULT_TEMPERATURE),
    badge,
    epochs=14,
    config=dict(steps=8, hidden=64),
    tiny_config=dict(steps=2, hidden=4),
    temperature=TEMPERATURE,
    temperatures=(0.05, 1.7),
    temperature_scale=DEFAULT_TEMPERATURE,
    latent=latent_space(DEFAULT_TEMPERATURE),
    **FLOW,
)
