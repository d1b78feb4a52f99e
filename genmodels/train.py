"""Training loops for the catalogued models, and their CLI.

    python -m genmodels.train NAME --data-root DIR --out DIR [--epochs N] [--seed S]

Each loop trains on the `train` split only, writes config.json + model.safetensors (PyTorchModelHubMixin) and
training.json (data, epochs, wall time, final losses) into --out. `python -m genmodels.evaluate NAME --card` then adds
the held-out metrics and writes the model card.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from . import data, registry
from .models.base import cpu_generator, default_device
from .models.gan import GANDiscriminator

log = logging.getLogger(__name__)


def batches(n: int, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Shuffled index batches covering range(n) once (the last, smaller batch dropped)."""
    order = torch.randperm(n, generator=generator)
    for i in range(0, n - batch_size + 1, batch_size):
        yield order[i : i + batch_size]


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
    for epoch in range(epochs):
        model.train()
        total, correct = 0.0, 0
        for idx in batches(len(x), 128, g):
            xb, yb = random_affine(x[idx], g), y[idx]
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            correct += (logits.argmax(1) == yb).sum().item()
        log.info("epoch %d loss %.4f train-acc %.4f", epoch + 1, total / len(x), correct / len(x))
    return {"final_train_loss": total / len(x), "final_train_accuracy": correct / len(x)}


def train_vae(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int) -> dict:
    """Maximise the ELBO on fresh binarisations; keep the weights with the best ELBO on a held-out slice of train."""
    g = cpu_generator(seed)
    n_val = len(x) // 16
    x_train, x_val = x[n_val:], data.fixed_binarization(x[:n_val])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    best, best_state, best_epoch = -math.inf, None, 0
    for epoch in range(epochs):
        model.train()
        for idx in batches(len(x_train), 64, g):
            xb = data.binarize(x_train[idx], g)
            recon, kl = model.elbo_terms(xb, g)
            loss = (kl - recon).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sched.step()
        model.eval()
        with torch.no_grad():
            val = model.log_prob(x_val, cpu_generator(0)).mean().item()
        if val > best:
            best, best_epoch = val, epoch + 1
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        log.info(
            "epoch %d train-loss %.2f val-elbo %.2f (best %.2f @ %d)", epoch + 1, loss.item(), val, best, best_epoch
        )
    model.load_state_dict(best_state)
    return {"validation_images": n_val, "best_validation_elbo_nats": best, "best_epoch": best_epoch}


def _gan_loop(
    generator_net: nn.Module,
    critic: nn.Module,
    x: torch.Tensor,
    epochs: int,
    seed: int,
    critic_steps: int,
    lr: float,
    betas: tuple[float, float],
    critic_loss: Callable[[nn.Module, torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor],
    generator_loss: Callable[[torch.Tensor], torch.Tensor],
) -> dict:
    """Shared GAN loop: `critic_steps` discriminator updates per generator update, images in [-1, 1]."""
    g = cpu_generator(seed)
    x = x * 2 - 1
    opt_g = torch.optim.Adam(generator_net.parameters(), lr=lr, betas=betas)
    opt_d = torch.optim.Adam(critic.parameters(), lr=lr, betas=betas)
    batch, step = 64, 0
    g_loss = torch.tensor(float("nan"))  # until the first generator step
    for epoch in range(epochs):
        generator_net.train()
        critic.train()
        for idx in batches(len(x), batch, g):
            z = generator_net.prior_sample(batch, g)
            d_loss = critic_loss(critic, x[idx], generator_net(z).detach(), g)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            step += 1
            if step % critic_steps:
                continue
            g_loss = generator_loss(critic(generator_net(generator_net.prior_sample(batch, g))))
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


def _dcgan_d_loss(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    logits_real, logits_fake = critic(real), critic(fake)
    # One-sided label smoothing (Salimans et al. 2016): real targets 0.9 keep D from growing over-confident.
    real_loss = F.binary_cross_entropy_with_logits(logits_real, torch.full_like(logits_real, 0.9))
    fake_loss = F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake))
    return real_loss + fake_loss


def _dcgan_g_loss(logits_fake: torch.Tensor) -> torch.Tensor:
    # Non-saturating loss: maximise log D(G(z)) rather than minimise log(1 - D(G(z))).
    return F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like(logits_fake))


def train_dcgan(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int) -> dict:
    critic = GANDiscriminator(width=model.width, norm="batch").to(x.device)
    return _gan_loop(model, critic, x, epochs, seed, 1, 2e-4, (0.5, 0.999), _dcgan_d_loss, _dcgan_g_loss)


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """E[(‖∇ D(x̂)‖₂ − 1)²] at random interpolates x̂ = ε x_real + (1 − ε) x_fake, ε ~ U(0, 1) per sample."""
    eps = torch.rand(real.shape[0], 1, 1, 1, generator=g).to(real.device)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


def _wgan_gp_d_loss(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    return critic(fake).mean() - critic(real).mean() + 10.0 * gradient_penalty(critic, real, fake, g)


def train_wgan_gp(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int) -> dict:
    critic = GANDiscriminator(width=model.width, norm="layer").to(x.device)
    return _gan_loop(model, critic, x, epochs, seed, 5, 1e-4, (0.0, 0.9), _wgan_gp_d_loss, lambda s: -s.mean())


def _lsgan(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """Least-squares GAN loss (Mao et al. 2017), as CycleGAN uses: (D − 1)² for real, D² for fake."""
    return (logits - float(real)).pow(2).mean()


def _decay_over_second_half(optimizers: list[torch.optim.Optimizer], total_steps: int) -> list:
    """Schedulers that keep each learning rate for the first half of `total_steps`, then decay it linearly to 0."""
    decay = lambda step: min(1.0, 2 - 2 * step / total_steps)  # noqa: E731
    return [torch.optim.lr_scheduler.LambdaLR(o, decay) for o in optimizers]


def train_cyclegan(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int) -> dict:
    """CycleGAN on two unpaired stroke domains of MNIST: thinnest third ↔ thickest third of each digit class.

    Losses as in the paper: LSGAN for both directions, cycle consistency (L1, λ = 10) and identity (L1, λ = 5);
    Adam 2e-4, β = (0.5, 0.999), linear decay over the second half. No image pool (the batches are fresh each step).
    """
    from .models.cyclegan import PatchDiscriminator

    g = cpu_generator(seed)
    domain = data.stroke_domains(x, y)
    a, b = x[domain == 0] * 2 - 1, x[domain == 2] * 2 - 1
    d_a, d_b = (PatchDiscriminator(model.channels, 32, 2).to(x.device) for _ in range(2))
    opt_g = torch.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam([*d_a.parameters(), *d_b.parameters()], lr=2e-4, betas=(0.5, 0.999))
    per_epoch = min(len(a), len(b)) // 32
    scheds = _decay_over_second_half([opt_g, opt_d], epochs * per_epoch)
    for epoch in range(epochs):
        sums = torch.zeros(4)
        for ia, ib in zip(batches(len(a), 32, g), batches(len(b), 32, g), strict=False):
            real_a, real_b = a[ia], b[ib]
            fake_b, fake_a = model.g_ab(real_a), model.g_ba(real_b)
            d_a.requires_grad_(False)
            d_b.requires_grad_(False)
            adv = _lsgan(d_b(fake_b), True) + _lsgan(d_a(fake_a), True)
            cyc = (model.g_ba(fake_b) - real_a).abs().mean() + (model.g_ab(fake_a) - real_b).abs().mean()
            idt = (model.g_ab(real_b) - real_b).abs().mean() + (model.g_ba(real_a) - real_a).abs().mean()
            opt_g.zero_grad(set_to_none=True)
            (adv + 10 * cyc + 5 * idt).backward()
            opt_g.step()
            d_a.requires_grad_(True)
            d_b.requires_grad_(True)
            d_loss = 0.5 * (
                _lsgan(d_b(real_b), True)
                + _lsgan(d_b(fake_b.detach()), False)
                + _lsgan(d_a(real_a), True)
                + _lsgan(d_a(fake_a.detach()), False)
            )
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            for sched in scheds:
                sched.step()
            sums += torch.tensor([adv.item(), cyc.item(), idt.item(), d_loss.item()])
        mean = (sums / per_epoch).tolist()
        log.info("epoch %d adv %.3f cycle %.4f identity %.4f D %.3f", epoch + 1, *mean)
    return {
        "domains": {"A": "thin (lowest third of ink within each class)", "B": "thick (highest third)"},
        "train_images_per_domain": [len(a), len(b)],
        "final_losses": dict(zip(("adversarial", "cycle_l1", "identity_l1", "discriminator"), mean, strict=True)),
    }


def train_stargan(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int) -> dict:
    """StarGAN among the three stroke domains of MNIST (per-class thirds of ink: thin, medium, thick).

    Each step a random target domain per image; losses: least-squares adversarial, domain classification (λ = 1),
    reconstruction L1 (λ = 10). Adam 1e-4 (G) and 1e-4 (D), β = (0.5, 0.999), linear decay over the second half.
    """
    from .models.stargan import StarDiscriminator

    g = cpu_generator(seed)
    domain = data.stroke_domains(x, y)
    k = len(model.domains)
    disc = StarDiscriminator(model.channels, k, 32, x.shape[-1]).to(x.device)
    opt_g = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=1e-4, betas=(0.5, 0.999))
    per_epoch = len(x) // 32
    scheds = _decay_over_second_half([opt_g, opt_d], epochs * per_epoch)
    for epoch in range(epochs):
        sums = torch.zeros(4)
        for idx in batches(len(x), 32, g):
            real, source = x[idx] * 2 - 1, domain[idx]
            target = torch.randint(0, k, (len(idx),), generator=g).to(x.device)
            fake = model.generate(real, target)
            # discriminator: real vs fake patches, and the real pictures' domains
            src_real, cls_real = disc(real)
            src_fake, _ = disc(fake.detach())
            d_loss = _lsgan(src_real, True) + _lsgan(src_fake, False) + F.cross_entropy(cls_real, source)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            # generator: fool D, land in the target domain, come back to the source
            disc.requires_grad_(False)
            src_fake, cls_fake = disc(fake)
            rec = (model.generate(fake, source) - real).abs().mean()
            cls = F.cross_entropy(cls_fake, target)
            g_loss = _lsgan(src_fake, True) + cls + 10 * rec
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
            disc.requires_grad_(True)
            for sched in scheds:
                sched.step()
            sums += torch.tensor([g_loss.item(), cls.item(), rec.item(), d_loss.item()])
        mean = (sums / per_epoch).tolist()
        log.info("epoch %d G %.3f cls %.3f rec %.4f D %.3f", epoch + 1, *mean)
    return {
        "domains": {"thin": "lowest third of ink within each class", "medium": "middle third", "thick": "top third"},
        "train_images_per_domain": torch.bincount(domain, minlength=k).tolist(),
        "final_losses": dict(
            zip(("generator", "domain_classification", "reconstruction_l1", "discriminator"), mean, strict=True)
        ),
    }


def train_autoregressive(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int, lr: float = 1e-3
) -> dict:
    """Maximum likelihood on fresh binarisations each epoch; keep the weights with the best held-out NLL.

    A class-conditional model sees its label for 90 % of the images and "no class" (−1) for the rest, so it also
    samples unconditionally. Adam, batch 32, one-cycle schedule (5 % warm-up to `lr`, then cosine decay); 1/16 of
    the train split is held out for model selection.
    """
    g = cpu_generator(seed)
    n_val = len(x) // 16
    x_train, y_train = x[n_val:], y[n_val:]
    x_val, y_val = data.fixed_binarization(x[:n_val]), y[:n_val]
    conditional = getattr(model, "num_classes", 0) > 0
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * (len(x_train) // 32)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.05)
    best, best_state, best_epoch = math.inf, None, 0
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for idx in batches(len(x_train), 32, g):
            xb = data.binarize(x_train[idx], g)
            label = None
            if conditional:
                drop = torch.rand(len(idx), generator=g).to(x.device) < 0.1
                label = torch.where(drop, -1, y_train[idx])
            loss = -model.log_prob(xb, label).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        model.eval()
        with torch.no_grad():
            val = -model.log_prob(x_val, y_val if conditional else None).mean().item()
        if val < best:
            best, best_epoch = val, epoch + 1
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        log.info(
            "epoch %d train-nll %.2f val-nll %.2f (best %.2f @ %d)",
            epoch + 1,
            total / len(x_train),
            val,
            best,
            best_epoch,
        )
    model.load_state_dict(best_state)
    return {"validation_images": n_val, "best_validation_nll_nats": best, "best_epoch": best_epoch}


def train_vqvae(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int) -> dict:
    """Two stages, `epochs` each: the VQ-VAE on fresh binarisations, then its Gated PixelCNN prior on their codes.

    Stage 1: reconstruction BCE + codebook + commitment losses, Adam 1e-3 with cosine decay; after each epoch codes
    the encoder did not use are restarted at random encoder outputs. Stage 2: `train_autoregressive`'s recipe, on the
    code grids of freshly binarised training images (the autoencoder frozen).
    """
    g = cpu_generator(seed)
    opt = torch.optim.Adam([p for n, p in model.named_parameters() if not n.startswith("prior.")], lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    codes = model.quantizer.codebook.num_embeddings
    for epoch in range(epochs):
        model.train()
        used = torch.zeros(codes, dtype=torch.long, device=x.device)
        total = 0.0
        for idx in batches(len(x), 64, g):
            xb = data.binarize(x[idx], g)
            logits, code_idx, codebook_loss, commitment_loss = model(xb)
            bce = F.binary_cross_entropy_with_logits(logits, xb, reduction="none").flatten(1).sum(1).mean()
            loss = bce + (codebook_loss + commitment_loss) * xb[0].numel()  # per-pixel means, scaled like the BCE
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            used += torch.bincount(code_idx.flatten(), minlength=codes)
            total += bce.item() * len(idx)
        sched.step()
        dead = (used == 0).nonzero().squeeze(1)
        if len(dead):
            with torch.no_grad():
                z_e = model.encoder(xb).permute(0, 2, 3, 1).reshape(-1, model.quantizer.codebook.embedding_dim)
                pick = torch.randint(0, len(z_e), (len(dead),), generator=g).to(x.device)
                model.quantizer.codebook.weight[dead] = z_e[pick]
        log.info("vq epoch %d recon-bce %.2f codes used %d/%d", epoch + 1, total / len(x), (used > 0).sum(), codes)
    model.eval()
    stats = train_autoregressive(_CodePrior(model), x, y, epochs, seed)
    return {
        "vq_final_recon_bce_nats": total / len(x),
        "codes_used": int((used > 0).sum()),
        **{f"prior_{k}": v for k, v in stats.items()},
    }


class _CodePrior(nn.Module):
    """A VQ-VAE's prior seen as a model of binary images, log p(z(x)), so `train_autoregressive` can fit it.

    Only the prior is a submodule (its parameters are the ones trained); the encoder is called frozen.
    """

    num_classes = 0

    def __init__(self, vqvae: nn.Module):
        super().__init__()
        self.prior = vqvae.prior
        self.encode = vqvae.encode

    def log_prob(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        with torch.no_grad():
            codes = self.encode(x)
        return self.prior.log_prob(codes.float())


TRAINERS = {
    "dcgan-mnist": (train_dcgan, 60),
    "wgan-gp-mnist": (train_wgan_gp, 50),
    "vae-mnist": (train_vae, 80),
    "mnist-classifier": (train_classifier, 8),
    "cyclegan-mnist": (train_cyclegan, 20),
    "stargan-mnist": (train_stargan, 15),
    "pixelcnn-mnist": (train_autoregressive, 16),
    "gated-pixelcnn-mnist": (partial(train_autoregressive, lr=2e-3), 22),
    "pixelrnn-mnist": (train_autoregressive, 12),
    "vqvae-mnist": (train_vqvae, 15),
}
# Constructor kwargs where the class defaults are not what is trained here (CycleGAN's defaults are the paper's).
CONFIGS = {
    "cyclegan-mnist": dict(domains=["thin", "thick"], channels=1, ngf=16, n_blocks=4, native_size=28),
    "stargan-mnist": dict(domains=["thin", "medium", "thick"], channels=1, ngf=16, n_blocks=4, native_size=28),
    "gated-pixelcnn-mnist": dict(channels=48, layers=8, kernel=3, first_kernel=7, vertical_residual=True),
}


def train(
    name: str,
    data_root: str | Path,
    out: str | Path,
    epochs: int | None = None,
    seed: int = 0,
    config: dict | None = None,
    limit: int | None = None,
    resume: str | Path | None = None,
) -> nn.Module:
    """Train model `name` on MNIST's train split and save it (weights, config, training.json) into `out`.

    Args:
        config: constructor kwargs; the class defaults when None (tests pass the registry's tiny config).
        limit: use only the first `limit` training images (tests).
        resume: a checkpoint folder to continue from; `epochs` more are trained and the totals recorded.
    """
    entry = registry.get(name)
    fit, default_epochs = TRAINERS[name]
    epochs = default_epochs if epochs is None else epochs
    device = default_device()
    images, labels = data.load_mnist(data_root, "train")
    if limit:
        images, labels = images[:limit], labels[:limit]
    x, y = data.to_unit(images).to(device), labels.to(device)
    torch.manual_seed(seed)  # parameter initialisation only; all data randomness uses explicit generators
    previous = {}
    if resume:
        # Continue from a saved checkpoint (weights and config); GAN critics are not saved and start afresh.
        model = entry.cls.from_pretrained(resume, strict=True).to(device)
        previous = json.loads((Path(resume) / "training.json").read_text())
    else:
        model = entry.cls(**(config or CONFIGS.get(name, {}))).to(device)
    start = time.perf_counter()
    stats = fit(model, x, y, epochs, seed)
    wall = time.perf_counter() - start + previous.get("wall_time_s", 0.0)
    epochs += previous.get("epochs", 0)
    model.eval()
    out = Path(out)
    model.save_pretrained(out)
    info = {
        "model": name,
        "class": entry.cls.__name__,
        "data": f"MNIST train split at {Path(data_root).name}/MNIST/raw ({len(x)} images)",
        "train_images": len(x),
        "epochs": epochs,
        "seed": seed,
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
        "wall_time_s": round(wall, 1),
        **stats,
    }
    if previous:
        info["resumed_from"] = previous  # the earlier run's record; epochs and wall time above are totals
    (out / "training.json").write_text(json.dumps(info, indent=2) + "\n")
    return model


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=list(TRAINERS))
    parser.add_argument("--data-root", required=True, help="folder holding MNIST/raw/")
    parser.add_argument("--out", required=True, help="output folder, e.g. checkpoints/NAME")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--resume", default=None, help="checkpoint folder to continue training from")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    train(args.name, args.data_root, args.out, args.epochs, args.seed, resume=args.resume)


if __name__ == "__main__":
    main()
