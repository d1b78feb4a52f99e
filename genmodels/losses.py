"""The adversarial losses, written once: the image GANs' recipes and the 2D GAN lab both use them.

Scores are the discriminator's logits (GAN) or the critic's values (WGAN), one per example, shape (n,) or (n, 1).
- minimax and non-saturating GAN: Goodfellow et al. 2014, arXiv:1406.2661.
- WGAN: Arjovsky et al. 2017, arXiv:1701.07875; gradient penalty: Gulrajani et al. 2017, arXiv:1704.00028.
- least squares (LSGAN, as CycleGAN and StarGAN here use it): Mao et al. 2017, arXiv:1611.04076.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F


def discriminator_loss(real: torch.Tensor, fake: torch.Tensor, real_target: float = 1.0) -> torch.Tensor:
    """−[log D(x) + log(1 − D(G(z)))] with D = sigmoid(logit); `real_target` < 1 is one-sided label smoothing."""
    if real_target == 1.0:
        real_loss = F.softplus(-real).mean()
    else:
        real_loss = F.binary_cross_entropy_with_logits(real, torch.full_like(real, real_target))
    return real_loss + F.softplus(fake).mean()


def generator_loss(fake: torch.Tensor, kind: str = "non-saturating") -> torch.Tensor:
    """The generator's loss on D's scores of its samples.

    "minimax": minimise log(1 − D(G(z))) = −softplus(logit), which saturates when D wins early;
    "non-saturating": minimise −log D(G(z)) = softplus(−logit); "wasserstein": minimise −f(G(z)).
    """
    if kind == "minimax":
        return -F.softplus(fake).mean()
    if kind == "non-saturating":
        return F.softplus(-fake).mean()
    if kind == "wasserstein":
        return -fake.mean()
    raise ValueError(f"Unknown generator loss {kind!r}.")


def critic_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The WGAN critic minimises E f(G(z)) − E f(x), an estimate of −W1 when f is 1-Lipschitz."""
    return fake.mean() - real.mean()


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """E[(‖∇ D(x̂)‖₂ − 1)²] at random interpolates x̂ = ε x_real + (1 − ε) x_fake, ε ~ U(0, 1) per example.

    ε is drawn on the CPU from `generator` (one number per example) and moved to the data's device.
    """
    n = real.shape[0]
    eps = torch.rand(n, generator=generator).to(real.device).view(n, *[1] * (real.dim() - 1))
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


def least_squares(scores: torch.Tensor, real: bool) -> torch.Tensor:
    """LSGAN: (D − 1)² for real, D² for fake."""
    return (scores - float(real)).pow(2).mean()
