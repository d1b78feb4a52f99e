"""Divergences between distributions known only by samples, and the closed forms they are checked against.

- KL and JS: plug-in estimates on a shared 2D histogram. With no smoothing, KL(P‖Q) is ∞ as soon as P puts mass
  where Q has none, exactly the behaviour the parallel-lines example is about; JS is bounded by ln 2.
- Wasserstein-1: exact optimal transport between two equal-size minibatches (an assignment problem, solved by
  scipy's Hungarian-type solver), the estimator WGAN's critic approximates (Arjovsky, Chintala & Bottou 2017,
  arXiv:1701.07875, whose Example 1 is the parallel lines).
- Gaussians: KL in closed form; forward vs reverse KL when fitting one Gaussian to a mixture of two.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

LN2 = math.log(2.0)


def gaussian_kl(mu0: np.ndarray, cov0: np.ndarray, mu1: np.ndarray, cov1: np.ndarray) -> float:
    """KL(N(μ0, Σ0) ‖ N(μ1, Σ1)) = ½ [tr(Σ1⁻¹Σ0) + (μ1−μ0)ᵀΣ1⁻¹(μ1−μ0) − d + ln(det Σ1 / det Σ0)]."""
    mu0, mu1 = np.atleast_1d(np.asarray(mu0, float)), np.atleast_1d(np.asarray(mu1, float))
    cov0, cov1 = np.atleast_2d(np.asarray(cov0, float)), np.atleast_2d(np.asarray(cov1, float))
    inv1 = np.linalg.inv(cov1)
    diff = mu1 - mu0
    logdet = np.linalg.slogdet(cov1)[1] - np.linalg.slogdet(cov0)[1]
    return float(0.5 * (np.trace(inv1 @ cov0) + diff @ inv1 @ diff - len(mu0) + logdet))


def histograms(p: torch.Tensor, q: torch.Tensor, bins: int = 40, extent: float = 2.5) -> tuple[np.ndarray, np.ndarray]:
    """Normalised 2D histograms of samples p and q (n, 2) on the same bins over [-extent, extent]²."""
    edges = np.linspace(-extent, extent, bins + 1)

    def hist(x: torch.Tensor) -> np.ndarray:
        h, _, _ = np.histogram2d(x[:, 0].numpy(), x[:, 1].numpy(), bins=(edges, edges))
        return h.ravel()

    return hist(p.detach().cpu().double()), hist(q.detach().cpu().double())


def kl_from_counts(p: np.ndarray, q: np.ndarray, smoothing: float = 0.0) -> float:
    """Σ p log(p/q) over bins from counts (`smoothing` pseudo-counts added to each bin); ∞ where q = 0 < p."""
    p, q = p + smoothing, q + smoothing
    p, q = p / p.sum(), q / q.sum()
    support = p > 0
    if np.any(q[support] == 0):
        return math.inf
    return float(np.sum(p[support] * np.log(p[support] / q[support])))


def js_from_counts(p: np.ndarray, q: np.ndarray) -> float:
    """½ KL(P‖M) + ½ KL(Q‖M) with M = (P + Q)/2: symmetric, finite, and at most ln 2."""
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    return 0.5 * kl_from_counts(p, m) + 0.5 * kl_from_counts(q, m)


def kl(p: torch.Tensor, q: torch.Tensor, bins: int = 40, extent: float = 2.5, smoothing: float = 0.0) -> float:
    """Histogram estimate of KL(P‖Q) from samples."""
    return kl_from_counts(*histograms(p, q, bins, extent), smoothing=smoothing)


def js(p: torch.Tensor, q: torch.Tensor, bins: int = 40, extent: float = 2.5) -> float:
    """Histogram estimate of the Jensen-Shannon divergence from samples, in nats."""
    return js_from_counts(*histograms(p, q, bins, extent))


def wasserstein1(p: torch.Tensor, q: torch.Tensor) -> float:
    """Exact W1 between the empirical measures of two equal-size samples (n, d): the best matching's mean distance."""
    if p.shape != q.shape:
        n = min(len(p), len(q))
        p, q = p[:n], q[:n]
    cost = torch.cdist(p.detach().cpu().double(), q.detach().cpu().double()).numpy()
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


def parallel_lines(theta: float, n: int = 500, seed: int = 0, bins: int = 200) -> dict:
    """P = (0, U[0,1]) and Q = (θ, U[0,1]): the estimators beside the closed forms KL = ∞, JS = ln 2, W = |θ|.

    Both samples share their y-coordinates, so the optimal transport plan is the horizontal shift.
    Bins are 5/`bins` wide, so any |θ| ≥ 0.025 puts the two lines in different bins.
    """
    y = torch.rand(n, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    p = torch.stack([torch.zeros(n), y], 1)
    q = torch.stack([torch.full((n,), float(theta)), y], 1)
    counts = histograms(p, q, bins, 2.5)
    same = theta == 0
    return {
        "theta": float(theta),
        "estimate": {
            "kl_pq": kl_from_counts(*counts),
            "kl_qp": kl_from_counts(*counts[::-1]),
            "js": js_from_counts(*counts),
            "w1": wasserstein1(p, q),
        },
        "closed_form": {
            "kl_pq": 0.0 if same else math.inf,
            "kl_qp": 0.0 if same else math.inf,
            "js": 0.0 if same else LN2,
            "w1": abs(float(theta)),
        },
    }


def mixture_density(x: torch.Tensor, means: tuple[float, float], std: float) -> torch.Tensor:
    """½ N(x; m1, s²) + ½ N(x; m2, s²), in 1D."""
    comps = [torch.exp(-0.5 * ((x - m) / std) ** 2) / (std * math.sqrt(2 * math.pi)) for m in means]
    return 0.5 * (comps[0] + comps[1])


def fit_gaussian_to_mixture(separation: float = 4.0, std: float = 0.6, steps: int = 400) -> dict:
    """Fit q = N(μ, σ²) to a two-mode 1D mixture p by forward KL(p‖q) and by reverse KL(q‖p).

    Forward KL is minimised in closed form by moment matching (mass-covering); reverse KL is minimised by gradient
    descent on a quadrature grid from a start near one mode (mode-seeking).
    """
    return fit_gaussians_to_mixtures([separation], std, steps)[0]


def fit_gaussians_to_mixtures(separations: list[float], std: float = 0.6, steps: int = 400) -> list[dict]:
    """`fit_gaussian_to_mixture` for several separations in one batched descent: Adam updates each parameter on its
    own, so every fit follows the same path it would alone, at the cost of about one."""
    sep = torch.tensor(list(separations), dtype=torch.float64)[:, None]
    t = torch.linspace(0, 1, 2001, dtype=torch.float64)
    grid = (-sep - 6 * std) + (2 * sep + 12 * std) * t  # (B, 2001), one quadrature grid per mixture
    dx = grid[:, 1:2] - grid[:, 0:1]
    p = mixture_density(grid, (-sep / 2, sep / 2), std)
    lp = torch.log(p + 1e-300)
    mu = (sep[:, 0] / 2 * 0.8).clone().requires_grad_(True)
    log_sigma = torch.full_like(mu, math.log(std * 1.5)).requires_grad_(True)
    opt = torch.optim.Adam([mu, log_sigma], lr=0.05)

    def log_q(m: torch.Tensor, ls: torch.Tensor) -> torch.Tensor:
        return -0.5 * ((grid - m[:, None]) / ls.exp()[:, None]) ** 2 - ls[:, None] - 0.5 * math.log(2 * math.pi)

    for _ in range(steps):
        lq = log_q(mu, log_sigma)
        loss = ((lq.exp() * (lq - lp)).sum(1, keepdim=True) * dx).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()

    fits = []
    for i, s in enumerate(sep[:, 0].tolist()):
        means = (-s / 2, s / 2)

        def divergences(fit: dict, i: int = i, means: tuple = means) -> dict:
            lq = log_q(torch.full_like(mu, fit["mu"]), torch.full_like(mu, math.log(fit["sigma"])))[i]
            return {
                "kl_p_q": float((p[i] * (lp[i] - lq)).sum() * dx[i]),
                "kl_q_p": float((lq.exp() * (lq - lp[i])).sum() * dx[i]),
                "kl_q_to_each_mode": [gaussian_kl(fit["mu"], fit["sigma"] ** 2, m, std**2) for m in means],
            }

        forward = {"mu": 0.0, "sigma": math.sqrt(std**2 + (s / 2) ** 2)}
        reverse = {"mu": mu[i].item(), "sigma": log_sigma[i].exp().item()}
        fits.append(
            {
                "grid": grid[i].numpy(),
                "p": p[i].numpy(),
                "means": means,
                "std": std,
                "forward": forward | divergences(forward),
                "reverse": reverse | divergences(reverse),
            }
        )
    return fits
