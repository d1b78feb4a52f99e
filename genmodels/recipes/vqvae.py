"""The VQ-VAE (van den Oord et al. 2017) with a Gated PixelCNN prior over its 7×7 code grids, on binarised MNIST.

Training, two stages of `epochs` each: (1) the autoencoder on fresh binarisations, reconstruction BCE + codebook +
commitment losses, Adam 1e-3 with cosine decay; after each epoch, codes the encoder did not use are restarted at
random encoder outputs. (2) The prior, with the autoregressive recipe, on the code grids of freshly binarised
training images (the autoencoder frozen). `stage="prior"` trains the second stage only: a resumed prior goes on
over the same codes (a resumed autoencoder moves them, and its prior starts over). `autoencoder=DIR` starts from the
encoder, codebook and decoder of the VQ-VAE saved in DIR, so a prior of another size can be fitted to its codes.
Metrics: −log p(x | z(x)) and the prior's −log p(z(x)) on the fixed-seed binarised test images; their sum bounds
−log p(x) from above (the encoder is deterministic). Also the share of 1,000 samples (seed 0) the classifier is
≥ 90 % sure of, and their class histogram.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .. import data
from ..models.autoregressive import sample_rows
from ..models.base import cpu_generator
from .autoregressive import train_autoregressive
from .base import HeldOut, LatentSpace, Recipe
from .common import (
    as_on_first_process,
    batches,
    class_histogram,
    classify,
    confident_share,
    data_parallel,
    mean_over_processes,
    sample_batched,
    summed_over_processes,
)

log = logging.getLogger(__name__)


def train_vqvae(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    epochs: int,
    seed: int,
    stage: str = "both",
    lr: float = 1e-3,
    autoencoder: str = "",
) -> dict:
    if stage not in ("both", "autoencoder", "prior"):
        raise ValueError(f"A VQ-VAE trains stage both, autoencoder or prior, not {stage!r}.")
    stats = start_from_autoencoder(model, Path(autoencoder)) if autoencoder else {}
    stats |= train_codes(model, x, epochs, seed, lr) if stage != "prior" else {}
    model.eval()
    if stage != "autoencoder":
        stats |= {f"prior_{k}": v for k, v in train_autoregressive(CodePrior(model), x, y, epochs, seed, lr).items()}
    return stats


def start_from_autoencoder(model: nn.Module, folder: Path) -> dict:
    """Put the encoder, codebook and decoder of the VQ-VAE checkpoint in `folder` into `model`, whose prior may have
    another size; returns that run's record for the card (its epochs and wall time are its own, not added here)."""
    try:
        saved = type(model).from_pretrained(folder, strict=True).state_dict()
        model.load_state_dict({k: v for k, v in saved.items() if not k.startswith("prior.")}, strict=False)
        record = json.loads((folder / "training.json").read_text())
    except (OSError, RuntimeError, ValueError) as e:  # no checkpoint there, or codes, code size or width differ
        raise ValueError(f"{folder} holds no VQ-VAE checkpoint with this model's codes, code size and width.") from e
    return {"autoencoder_from": record}


def train_codes(model: nn.Module, x: torch.Tensor, epochs: int, seed: int, lr: float) -> dict:
    """Stage 1: the encoder, codebook and decoder (the prior untouched)."""
    g = cpu_generator(seed)
    opt = torch.optim.Adam([p for n, p in model.named_parameters() if not n.startswith("prior.")], lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    codes = model.quantizer.codebook.num_embeddings
    forward = data_parallel(model, lambda m, xb: m(xb), unused=True)  # the prior waits for the second stage
    for epoch in range(epochs):
        model.train()
        used = torch.zeros(codes, dtype=torch.long, device=x.device)
        total, seen = 0.0, 0
        for idx in batches(len(x), 64, g):
            xb = data.binarize(x[idx], g)
            logits, code_idx, codebook_loss, commitment_loss = forward(xb)
            bce = F.binary_cross_entropy_with_logits(logits, xb, reduction="none").flatten(1).sum(1).mean()
            loss = bce + (codebook_loss + commitment_loss) * xb[0].numel()  # per-pixel means, scaled like the BCE
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            used += torch.bincount(code_idx.flatten(), minlength=codes)
            total, seen = total + bce.item() * len(idx), seen + len(idx)
        sched.step()
        dead = (summed_over_processes(used) == 0).nonzero().squeeze(1)
        if len(dead):
            with torch.no_grad():
                z_e = model.encoder(xb).permute(0, 2, 3, 1).reshape(-1, model.quantizer.codebook.embedding_dim)
                pick = torch.randint(0, len(z_e), (len(dead),), generator=g).to(x.device)
                model.quantizer.codebook.weight[dead] = z_e[pick]
                as_on_first_process(model.quantizer.codebook.weight)
        recon = mean_over_processes(total, seen, x.device)
        log.info("vq epoch %d recon-bce %.2f codes used %d/%d", epoch + 1, recon, (used > 0).sum(), codes)
    return {"vq_final_recon_bce_nats": recon, "codes_used": int((used > 0).sum())}


class CodePrior(nn.Module):
    """A VQ-VAE's prior seen as a model of binary images, log p(z(x)), so `train_autoregressive` can fit it.

    Only the prior is a submodule (its parameters are the ones trained); the encoder is called frozen.
    """

    num_classes = 0

    def __init__(self, vqvae: nn.Module):
        super().__init__()
        self.prior = vqvae.prior
        self.encode = vqvae.encode

    def log_prob(self, x: torch.Tensor, *, condition: torch.Tensor | None = None) -> torch.Tensor:
        with torch.no_grad():
            codes = self.encode(x)
        return self.prior.log_prob(codes.float())


@torch.no_grad()
def evaluate(model: nn.Module, test: HeldOut, batch: int = 100) -> dict:
    xb = data.fixed_binarization(test.x).to(model.device)
    recon = torch.cat([model.recon_bce(c) for c in xb.split(batch)])
    prior = torch.cat([-model.prior.log_prob(model.encode(c).float()) for c in xb.split(batch)])
    _, probs = classify(test.classifier(), sample_batched(model, test.samples))
    return {
        "recon_bce_nats": round(recon.mean().item(), 3),
        "prior_nll_nats": round(prior.mean().item(), 3),
        "nll_bound_nats": round((recon + prior).mean().item(), 3),
        "confident_samples": confident_share(probs),
        "class_histogram": class_histogram(probs),
    }


def badge(m: dict) -> str:
    parts = f"recon {m['recon_bce_nats']:.1f} + prior {m['prior_nll_nats']:.1f}"
    return f"NLL ≤ {m['nll_bound_nats']:.1f} nats ({parts}, test)"


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
    """Encode the known digit to its 7×7 code grid; every code whose 4×4 patch holds a hidden pixel is drawn again by
    the prior, in raster order given the codes before it (the cached sampler); decode, draw the hidden pixels from the
    decoder's Bernoulli means, put the known pixels back. Yields after each row of codes."""
    device = model.device
    observed = (known > 0.5).float().to(device).expand(n, -1, -1, -1)
    mask = mask.to(device)
    pixels = torch.rand(observed.shape, generator=generator).to(device)  # drawn first: the seed fixes everything
    code_mask = F.max_pool2d(mask.float(), 4).bool()
    rows = code_mask[0, 0].any(1).nonzero()
    total = int(rows[-1] - rows[0]) + 1
    codes = model.encode(observed).float()
    stream = sample_rows(model.prior, n, generator, temperature, mask=code_mask, known=codes)
    for done, grid in enumerate(stream, 1):
        draw = (pixels < model.decode(grid)).float()
        yield done, total, torch.where(mask.expand_as(draw), draw, observed)


def pre_quantisation(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """z_e (n, D, 7, 7): the encoder's output before it snaps to the codebook."""
    return model.encoder(x)


def decode_pre_quantisation(model: nn.Module, z_e: torch.Tensor) -> torch.Tensor:
    """Each z_e vector snapped to its nearest code, then decoded: the Bernoulli means."""
    return torch.sigmoid(model.decoder(model.quantizer.lookup(model.quantizer.indices(z_e))))


def draw_pre_quantisation(model: nn.Module, n: int, generator: torch.Generator) -> torch.Tensor:
    """Code grids from the PixelCNN prior, as their codebook vectors."""
    return model.quantizer.lookup(model.prior_sample(n, generator)[:, 0].long())


VQVAE = Recipe(
    "vqvae",
    train_vqvae,
    evaluate,
    badge,
    epochs=15,
    config=dict(prior_vertical_residual=True),
    tiny_config=dict(codes=8, code_dim=4, width=4, prior_channels=8, prior_layers=3, prior_vertical_residual=True),
    samples=True,
    encodes=True,
    likelihood="bound",
    temperature="t divides the logits of the prior over the 7×7 code grid: lower = the commonest code patterns.",
    complete=complete,
    completion="its prior redraws the codes under the hole in raster order given the codes before it, the decoder "
    "draws the pixels, and the known pixels are put back: blind to known codes after the hole, and coarse (a code is "
    "a 4×4 patch).",
    latent=LatentSpace(
        "z_e, the encoder's output before quantisation (7×7 vectors); every frame snaps each vector to its nearest "
        "code, so walks move in steps. Seeds are code grids drawn from the prior.",
        draw=draw_pre_quantisation,
        decode=decode_pre_quantisation,
        encode=pre_quantisation,
    ),
)
