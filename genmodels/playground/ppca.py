"""Probabilistic PCA (Tipping & Bishop 1999, J. R. Stat. Soc. B 61(3)) beside plain PCA.

Model: z ~ N(0, I_q), x = W z + μ + ε, ε ~ N(0, σ² I_d), so x ~ N(μ, C) with C = W Wᵀ + σ² I.
Maximum likelihood in closed form, from the eigen-decomposition S = U Λ Uᵀ of the sample covariance:
    σ² = mean of the d − q discarded eigenvalues,  W = U_q (Λ_q − σ² I)^½  (up to a rotation R, here I).
The EM algorithm of the same paper reaches the same C and σ²; the tests check it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class PPCA:
    mean: np.ndarray  # (d,)
    W: np.ndarray  # (d, q)
    sigma2: float

    @property
    def covariance(self) -> np.ndarray:
        """C = W Wᵀ + σ² I."""
        return self.W @ self.W.T + self.sigma2 * np.eye(len(self.mean))

    def log_likelihood(self, x: np.ndarray) -> float:
        d = x.shape[1]
        c = self.covariance
        diff = x - self.mean
        sol = np.linalg.solve(c, diff.T)
        return float(-0.5 * (len(x) * (d * math.log(2 * math.pi) + np.linalg.slogdet(c)[1]) + (diff.T * sol).sum()))

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        rng = np.random.default_rng(seed)
        z = rng.standard_normal((n, self.W.shape[1]))
        return z @ self.W.T + self.mean + math.sqrt(self.sigma2) * rng.standard_normal((n, len(self.mean)))


def _check(x: np.ndarray, q: int) -> None:
    if x.ndim != 2 or len(x) < 2:
        raise ValueError("PPCA needs at least two points.")
    if not 1 <= q < x.shape[1]:
        raise ValueError(f"The latent dimension q must be from 1 to {x.shape[1] - 1}, got {q}.")


def pca(x: np.ndarray, q: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, the top-q principal directions (d, q) and all eigenvalues of the sample covariance (descending)."""
    mean = x.mean(0)
    vals, vecs = np.linalg.eigh(np.cov(x.T, bias=True))
    order = np.argsort(vals)[::-1]
    return mean, vecs[:, order[:q]], vals[order]


def noise_floor(x: np.ndarray) -> float:
    """The smallest σ² a fit may take: 1e-6 of the data's total variance (points on a line have σ² = 0, and a
    covariance WWᵀ + 0·I of rank q < d has no density)."""
    return max(1e-6 * float(np.var(x, axis=0).sum()), 1e-12)


def fit_closed_form(x: np.ndarray, q: int = 1) -> PPCA:
    """The maximum-likelihood PPCA of Tipping & Bishop, eqs. (7) and (8); σ² at least `noise_floor`."""
    _check(x, q)
    mean, directions, vals = pca(x, q)
    sigma2 = max(float(vals[q:].mean()), noise_floor(x))
    return PPCA(mean, directions * np.sqrt(np.maximum(vals[:q] - sigma2, 0.0)), sigma2)


def fit_em(x: np.ndarray, q: int = 1, steps: int = 500, seed: int = 0, tol: float = 1e-10) -> tuple[PPCA, list[float]]:
    """PPCA by EM from a random W; returns the fit and its log-likelihood after each step (σ² ≥ `noise_floor`).

    The paper's EM written with the sample covariance S (Tipping & Bishop, eqs. (29) and (30)), so a step costs the
    same for ten points or ten thousand: with M = WᵀW + σ²I,
        W ← S W (σ²I + M⁻¹WᵀSW)⁻¹,   σ² ← tr(S − S W M⁻¹ W_newᵀ) / d,
    and the log-likelihood is −N/2 {d ln 2π + ln|C| + tr(C⁻¹S)}.
    """
    _check(x, q)
    n, d = x.shape
    rng = np.random.default_rng(seed)
    mean = x.mean(0)
    xc = x - mean
    S = xc.T @ xc / n
    floor = noise_floor(x)
    W = rng.standard_normal((d, q))
    sigma2 = float(np.trace(S)) / d
    history: list[float] = []
    for _ in range(steps):
        m_inv = np.linalg.inv(W.T @ W + sigma2 * np.eye(q))
        sw = S @ W
        W_new = sw @ np.linalg.inv(sigma2 * np.eye(q) + m_inv @ W.T @ sw)
        sigma2 = max(float(np.trace(S - sw @ m_inv @ W_new.T)) / d, floor)
        W = W_new
        c = W @ W.T + sigma2 * np.eye(d)
        log_det = np.linalg.slogdet(c)[1]
        history.append(float(-0.5 * n * (d * math.log(2 * math.pi) + log_det + np.trace(np.linalg.solve(c, S)))))
        if len(history) > 1 and abs(history[-1] - history[-2]) < tol * n:
            break
    return PPCA(mean, W, sigma2), history
