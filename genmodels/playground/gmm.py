"""Gaussian mixture fitted by expectation-maximisation, one step at a time (Dempster, Laird & Rubin 1977).

E-step: responsibilities r_nk = π_k N(x_n; μ_k, Σ_k) / Σ_j π_j N(x_n; μ_j, Σ_j).
M-step: N_k = Σ_n r_nk, π_k = N_k / N, μ_k = Σ_n r_nk x_n / N_k, Σ_k = Σ_n r_nk (x_n − μ_k)(x_n − μ_k)ᵀ / N_k.
Each full step (E then M) never decreases the log-likelihood; the tests check it.

NOTE: a small ridge (`reg`, default 1e-6) is added to each covariance, as scikit-learn does, so a component that
      collapses onto one point cannot make the likelihood infinite. With it, EM is a generalised EM on a slightly
      regularised objective and monotonicity still holds up to round-off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class GMMState:
    """Parameters of a K-component mixture in d dimensions, plus the history of the fit."""

    weights: np.ndarray  # (K,)
    means: np.ndarray  # (K, d)
    covs: np.ndarray  # (K, d, d)
    log_likelihoods: list[float] = field(default_factory=list)
    steps: int = 0

    @property
    def k(self) -> int:
        return len(self.weights)


def log_gaussian(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """log N(x; mean, cov) for rows of x (n, d)."""
    d = x.shape[1]
    chol = np.linalg.cholesky(cov)
    sol = np.linalg.solve(chol, (x - mean).T)  # (d, n)
    return -0.5 * (sol**2).sum(0) - np.log(np.diag(chol)).sum() - 0.5 * d * math.log(2 * math.pi)


def component_log_probs(x: np.ndarray, state: GMMState) -> np.ndarray:
    """log π_k + log N(x_n; μ_k, Σ_k), shape (n, K)."""
    return np.stack(
        [np.log(state.weights[k]) + log_gaussian(x, state.means[k], state.covs[k]) for k in range(state.k)], 1
    )


def _logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    top = a.max(axis=axis, keepdims=True)
    return (top + np.log(np.exp(a - top).sum(axis=axis, keepdims=True))).squeeze(axis)


def log_likelihood(x: np.ndarray, state: GMMState) -> float:
    """Σ_n log p(x_n) under the mixture."""
    return float(_logsumexp(component_log_probs(x, state), 1).sum())


def init(x: np.ndarray, k: int, method: str = "kmeans++", seed: int = 0, reg: float = 1e-6) -> GMMState:
    """Equal weights, the data covariance for every component, and means chosen by `method`.

    "random": k distinct data points. "kmeans++" (Arthur & Vassilvitskii 2007): each next mean is a data point
    drawn with probability proportional to its squared distance to the nearest mean so far.
    """
    if method not in ("random", "kmeans++"):
        raise ValueError(f"Initialisation must be 'random' or 'kmeans++', got {method!r}.")
    if not 1 <= k <= len(x):
        raise ValueError(f"K must be from 1 to the number of points ({len(x)}), got {k}.")
    rng = np.random.default_rng(seed)
    if method == "random":
        means = x[rng.choice(len(x), k, replace=False)]
    else:
        means = [x[rng.integers(len(x))]]
        for _ in range(1, k):
            d2 = ((x[:, None, :] - np.asarray(means)[None]) ** 2).sum(-1).min(1)
            means.append(x[rng.choice(len(x), p=d2 / d2.sum())] if d2.sum() > 0 else x[rng.integers(len(x))])
        means = np.asarray(means)
    cov = np.cov(x.T) + reg * np.eye(x.shape[1])
    state = GMMState(np.full(k, 1.0 / k), np.array(means, dtype=float), np.repeat(cov[None], k, 0))
    state.log_likelihoods.append(log_likelihood(x, state))
    return state


def e_step(x: np.ndarray, state: GMMState) -> np.ndarray:
    """Responsibilities r (n, K): the posterior probability that component k produced x_n."""
    log_r = component_log_probs(x, state)
    return np.exp(log_r - _logsumexp(log_r, 1)[:, None])


def m_step(x: np.ndarray, resp: np.ndarray, reg: float = 1e-6) -> GMMState:
    """The parameters that maximise the expected complete-data log-likelihood under responsibilities `resp`."""
    nk = resp.sum(0) + 1e-12
    means = resp.T @ x / nk[:, None]
    covs = np.stack(
        [
            ((resp[:, k, None] * (x - means[k])).T @ (x - means[k])) / nk[k] + reg * np.eye(x.shape[1])
            for k in range(len(nk))
        ]
    )
    return GMMState(nk / nk.sum(), means, covs)


def em_step(x: np.ndarray, state: GMMState, reg: float = 1e-6) -> GMMState:
    """One E-step and one M-step; the new state carries the history plus the new log-likelihood."""
    new = m_step(x, e_step(x, state), reg)
    new.log_likelihoods = state.log_likelihoods + [log_likelihood(x, new)]
    new.steps = state.steps + 1
    return new


def fit(x: np.ndarray, state: GMMState, max_steps: int = 200, tol: float = 1e-6) -> GMMState:
    """EM until the per-point log-likelihood gains less than `tol`, or `max_steps`."""
    for _ in range(max_steps):
        new = em_step(x, state)
        gain = (new.log_likelihoods[-1] - state.log_likelihoods[-1]) / len(x)
        state = new
        if gain < tol:
            break
    return state


def n_parameters(k: int, d: int) -> int:
    """Free parameters of a full-covariance mixture: (k − 1) weights, k·d means, k·d(d+1)/2 covariances."""
    return (k - 1) + k * d + k * d * (d + 1) // 2


def bic(x: np.ndarray, state: GMMState) -> float:
    """Bayesian information criterion −2 log L + p ln n (lower is better)."""
    return -2 * log_likelihood(x, state) + n_parameters(state.k, x.shape[1]) * math.log(len(x))


def bic_curve(x: np.ndarray, ks: range, method: str = "kmeans++", seed: int = 0) -> list[tuple[int, float]]:
    """(K, BIC) of a converged fit for each K."""
    return [(k, bic(x, fit(x, init(x, k, method, seed)))) for k in ks if k <= len(x)]


def sample(state: GMMState, n: int, seed: int = 0) -> np.ndarray:
    """n points from the fitted mixture: a component by its weight, then its Gaussian."""
    rng = np.random.default_rng(seed)
    comp = rng.choice(state.k, n, p=state.weights / state.weights.sum())
    chols = np.linalg.cholesky(state.covs)
    eps = rng.standard_normal((n, state.means.shape[1]))
    return state.means[comp] + np.einsum("nij,nj->ni", chols[comp], eps)


def ellipse(mean: np.ndarray, cov: np.ndarray, n_std: float = 2.0, points: int = 60) -> np.ndarray:
    """Outline (points, 2) of the n_std-σ contour of a 2D Gaussian."""
    vals, vecs = np.linalg.eigh(cov)
    t = np.linspace(0, 2 * math.pi, points)
    circle = np.stack([np.cos(t), np.sin(t)], 1)
    return mean + n_std * circle * np.sqrt(np.maximum(vals, 0)) @ vecs.T
