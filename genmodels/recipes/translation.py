"""Unpaired translation on MNIST stroke styles: CycleGAN (Zhu et al. 2017) and StarGAN (Choi et al. 2018), and the
real horse ↔ zebra CycleGAN from the Hub (not trained or measured here).

Domains: each digit class split in thirds by ink (thin, medium, thick; `data.stroke_domains`), so every domain holds
every digit and no pairs are formed.
CycleGAN: LSGAN both ways, cycle consistency (L1, λ = 10) and identity (L1, λ = 5); Adam 2e-4, β = (0.5, 0.999),
linear decay over the second half; no image pool (the batches are fresh each step).
StarGAN: a random target domain per image each step; least-squares adversarial, domain classification (λ = 1),
reconstruction L1 (λ = 10); Adam 1e-4, β = (0.5, 0.999), linear decay over the second half.
Metrics, on the test split's thin and thick thirds: class kept (the classifier reads the same digit after
translating), cycle L1 (mean |x − G_BA(G_AB(x))| per pixel in [0, 1]) and ink (mean intensity before and after).
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from torch import nn

from .. import data
from ..losses import least_squares
from ..models.base import cpu_generator, init_parameters
from ..models.cyclegan import PatchDiscriminator
from ..models.stargan import StarDiscriminator
from .base import HeldOut, Recipe
from .common import batches, classify, data_parallel, decay_over_second_half, shard

log = logging.getLogger(__name__)

FAMILY = "translation"


def train_cyclegan(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int) -> dict:
    """CycleGAN between the thinnest and the thickest third of each digit class."""
    g = cpu_generator(seed)
    domain = data.stroke_domains(x, y)
    a, b = x[domain == 0] * 2 - 1, x[domain == 2] * 2 - 1
    d_a, d_b = (init_parameters(PatchDiscriminator(model.channels, 32, 2), g).to(x.device) for _ in range(2))
    opt_g = torch.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam([*d_a.parameters(), *d_b.parameters()], lr=2e-4, betas=(0.5, 0.999))
    per_epoch = min(len(a), len(b)) // 32
    scheds = decay_over_second_half([opt_g, opt_d], epochs * per_epoch)

    def generator_losses(m: nn.Module, real_a: torch.Tensor, real_b: torch.Tensor) -> tuple[torch.Tensor, ...]:
        fake_b, fake_a = m.g_ab(real_a), m.g_ba(real_b)
        adv = least_squares(d_b(fake_b), True) + least_squares(d_a(fake_a), True)
        cyc = (m.g_ba(fake_b) - real_a).abs().mean() + (m.g_ab(fake_a) - real_b).abs().mean()
        idt = (m.g_ab(real_b) - real_b).abs().mean() + (m.g_ba(real_a) - real_a).abs().mean()
        return adv, cyc, idt, fake_a, fake_b

    def critic_loss(ds: nn.ModuleList, real_a, real_b, fake_a, fake_b) -> torch.Tensor:
        d_a, d_b = ds
        return 0.5 * (
            least_squares(d_b(real_b), True)
            + least_squares(d_b(fake_b), False)
            + least_squares(d_a(real_a), True)
            + least_squares(d_a(fake_a), False)
        )

    g_step = data_parallel(model, generator_losses)
    d_step = data_parallel(nn.ModuleList([d_a, d_b]), critic_loss)
    for epoch in range(epochs):
        sums = torch.zeros(4)
        for ia, ib in zip(batches(len(a), 32, g), batches(len(b), 32, g), strict=False):
            real_a, real_b = a[ia], b[ib]
            d_a.requires_grad_(False)
            d_b.requires_grad_(False)
            adv, cyc, idt, fake_a, fake_b = g_step(real_a, real_b)
            opt_g.zero_grad(set_to_none=True)
            (adv + 10 * cyc + 5 * idt).backward()
            opt_g.step()
            d_a.requires_grad_(True)
            d_b.requires_grad_(True)
            d_loss = d_step(real_a, real_b, fake_a.detach(), fake_b.detach())
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
    """StarGAN among the three stroke domains (thin, medium, thick)."""
    g = cpu_generator(seed)
    domain = data.stroke_domains(x, y)
    k = len(model.domains)
    disc = init_parameters(StarDiscriminator(model.channels, k, 32, x.shape[-1]), g).to(x.device)
    opt_g = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=1e-4, betas=(0.5, 0.999))
    per_epoch = len(x) // 32
    scheds = decay_over_second_half([opt_g, opt_d], epochs * per_epoch)

    def critic_loss(d: nn.Module, real: torch.Tensor, fake: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        """Real vs fake patches, and the real pictures' domains."""
        (src_real, cls_real), (src_fake, _) = d(real), d(fake)
        return least_squares(src_real, True) + least_squares(src_fake, False) + F.cross_entropy(cls_real, source)

    generate = data_parallel(model, lambda m, real, target: m.generate(real, target))
    d_step = data_parallel(disc, critic_loss)
    for epoch in range(epochs):
        sums = torch.zeros(4)
        for idx in batches(len(x), 32, g):
            real, source = x[idx] * 2 - 1, domain[idx]
            target = shard(torch.randint(0, k, (32,), generator=g)).to(x.device)
            fake = generate(real, target)
            d_loss = d_step(real, fake.detach(), source)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            # generator: fool D, land in the target domain, come back to the source
            disc.requires_grad_(False)
            src_fake, cls_fake = disc(fake)
            rec = (model.generate(fake, source) - real).abs().mean()
            cls = F.cross_entropy(cls_fake, target)
            g_loss = least_squares(src_fake, True) + cls + 10 * rec
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


@torch.no_grad()
def evaluate(model: nn.Module, test: HeldOut, batch: int = 250) -> dict:
    """thin → thick and thick → thin on the test split's thin and thick thirds (split per class, as in training)."""
    domain = data.stroke_domains(test.x, test.y)
    a_name, b_name = model.domains[0], model.domains[-1]  # thin and thick (StarGAN also knows medium)

    def run(t: torch.Tensor, source: str, target: str) -> torch.Tensor:
        return torch.cat([model.translate(c.to(model.device), source, target).cpu() for c in t.split(batch)])

    out: dict = {}
    for (src, dst), d in (((a_name, b_name), 0), ((b_name, a_name), 2)):
        x = test.x[domain == d]
        y = run(x, src, dst)
        back = run(y, dst, src)
        _, p_x = classify(test.classifier(), x)
        _, p_y = classify(test.classifier(), y)
        key = f"{src}_to_{dst}"
        out[f"class_kept_{key}"] = round((p_y.argmax(1) == p_x.argmax(1)).double().mean().item(), 4)
        out[f"cycle_l1_{src}_{dst}_{src}"] = round((back - x).abs().mean().item(), 4)
        out[f"ink_{src}"] = round(x.mean().item(), 4)
        out[f"ink_{key}"] = round(y.mean().item(), 4)
        out[f"images_{src}"] = len(x)
    return out


def badge(m: dict) -> str:
    return f"class kept {m['class_kept_thin_to_thick']:.1%} / {m['class_kept_thick_to_thin']:.1%} (test)"


def no_metrics(m: dict) -> str:
    return "not measured here (third-party weights)"


_MNIST = dict(channels=1, native_size=28)
CYCLEGAN = Recipe(
    FAMILY,
    train_cyclegan,
    evaluate,
    badge,
    epochs=20,
    config=dict(domains=["thin", "thick"], ngf=16, n_blocks=4, **_MNIST),
    tiny_config=dict(domains=["thin", "thick"], ngf=4, n_blocks=1, **_MNIST),
    translates=True,
)
STARGAN = Recipe(
    FAMILY,
    train_stargan,
    evaluate,
    badge,
    epochs=15,
    config=dict(domains=["thin", "medium", "thick"], ngf=16, n_blocks=4, **_MNIST),
    tiny_config=dict(domains=["thin", "medium", "thick"], ngf=4, n_blocks=1, **_MNIST),
    translates=True,
)
HORSE2ZEBRA = Recipe(
    FAMILY,
    None,
    None,
    no_metrics,
    config=dict(domains=["horse", "zebra"], channels=3),  # the paper's generator (ngf 64, 9 blocks)
    tiny_config=dict(domains=["horse", "zebra"], channels=3, ngf=4, n_blocks=1),
    translates=True,
)
