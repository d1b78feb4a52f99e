"""Plotly figures for the playground. Every figure is square-ish, legend below, so it reads at 390 px wide too."""

from __future__ import annotations

import base64
import json
import math

import numpy as np
import torch

from . import gmm as gmm_lib
from .flow2d import FlowTrainer
from .gan2d import GAN2D, optimal_discriminator
from .ppca import PPCA

EXTENT = 2.5
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
REAL, FAKE = "#1f77b4", "#d62728"


# numpy dtypes plotly.js reads as typed arrays ({"dtype", "bdata"}: base64 of the raw bytes, no text per number)
TYPED_ARRAYS = {"int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4", "uint32": "u4"}
TYPED_ARRAYS |= {"float32": "f4", "float64": "f8"}


def _plain(value: object) -> object:
    """`value` as JSON-ready data for plotly.js: arrays as typed arrays, numpy scalars as numbers, NaN/inf as null
    (a gap)."""
    if isinstance(value, dict):  # an unset property (None) is left out, as plotly does
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "iub":  # plotly.js has no 64-bit or boolean typed arrays
            value = value.astype(np.int32 if value.dtype.kind != "b" else np.uint8)
        elif value.dtype.kind == "f" and value.dtype not in (np.float32, np.float64):
            value = value.astype(np.float64)
        if value.dtype.name not in TYPED_ARRAYS:
            return [_plain(v) for v in value.tolist()]
        spec = {"dtype": TYPED_ARRAYS[value.dtype.name], "bdata": base64.b64encode(value.tobytes()).decode("ascii")}
        return spec | ({"shape": ", ".join(map(str, value.shape))} if value.ndim > 1 else {})
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class Figure:
    """A plotly figure as plain data, `data` (traces, dicts) and `layout` (a dict), sent to plotly.js as JSON.

    A go.Figure validated every property on every frame, and its `to_json` walked the whole figure again: ~13 ms of
    CPU a figure, most of what a playground click cost a loaded server. Here nothing is checked per request; a test
    hands every playground figure to plotly's own validators once (`validated`). Gradio's Plot sends `to_json()`.
    """

    def __init__(self, data: list[dict], layout: dict):
        self.data, self.layout = data, layout

    def to_dict(self) -> dict:
        return {"data": _plain(self.data), "layout": _plain(self.layout)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    def validated(self):
        """The same figure as a plotly `go.Figure`, which raises on any property plotly.js does not know."""
        import plotly.graph_objects as go

        return go.Figure(json.loads(self.to_json()))


def _np(points: torch.Tensor | np.ndarray) -> np.ndarray:
    return points.detach().cpu().numpy() if isinstance(points, torch.Tensor) else np.asarray(points)


def figure(
    traces: list,
    title: str,
    square: bool = True,
    height: int = 380,
    xtitle: str = "",
    ytitle: str = "",
    top: int = 36,
    **extra,
) -> Figure:
    """A figure with the playground's layout: traces are plain dicts, arrays numpy (sent as typed arrays)."""
    axis = dict(showgrid=False, zeroline=False)
    xaxis, yaxis = dict(title=xtitle, automargin=True), dict(title=ytitle, automargin=True)  # labels never clipped
    if square:
        xaxis |= axis | dict(range=[-EXTENT, EXTENT], constrain="domain")
        yaxis |= axis | dict(range=[-EXTENT, EXTENT], scaleanchor="x", scaleratio=1)
    return Figure(
        traces,
        dict(
            title=dict(text=title, font=dict(size=14), x=0.02),
            height=height,
            margin=dict(l=8, r=8, t=top, b=8),
            legend=dict(orientation="h", x=0, font=dict(size=11)),  # plotly puts it below the axis labels
            plot_bgcolor="white",
            uirevision="keep",  # keep the user's zoom while training streams updates
            xaxis=xaxis,
            yaxis=yaxis,
            **extra,
        ),
    )


def polylines(lines, name: str, color: str, width: int = 1, showlegend: bool = False) -> dict:
    """Many polylines (each (points, 2)) as one trace, separated by NaN gaps: one trace of arrays is cheap to draw."""
    gaps = [np.concatenate([np.asarray(line, dtype=float), np.full((1, 2), np.nan)]) for line in lines]
    xy = np.concatenate(gaps) if gaps else np.zeros((0, 2))
    return dict(
        type="scatter",
        x=xy[:, 0],
        y=xy[:, 1],
        mode="lines",
        name=name,
        line=dict(color=color, width=width),
        showlegend=showlegend,
        hoverinfo="skip",
    )


def scatter(points: torch.Tensor | np.ndarray, name: str, color: str, size: int = 4, opacity: float = 0.6) -> dict:
    p = _np(points)
    return dict(
        type="scatter",
        x=p[:, 0],
        y=p[:, 1],
        mode="markers",
        name=name,
        marker=dict(size=size, color=color, opacity=opacity),
    )


def curve(xs, ys, name: str, color: str | None = None, dash: str | None = None) -> dict:
    # float arrays, not lists: plotly checks a list element by element; None (not finite) becomes a NaN gap
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    return dict(type="scatter", x=xs, y=ys, mode="lines", name=name, line=dict(color=color, dash=dash, width=2))


def colorbar(title: str) -> dict:
    """Every heatmap's colour bar: thin, beside the plot, titled with what the colour measures."""
    return dict(title=dict(text=title, side="right"), thickness=10, len=0.9, outlinewidth=0)


def grid_axes(n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    xs = np.linspace(-EXTENT, EXTENT, n)
    return xs, xs.copy()


def data_figure(points: torch.Tensor, title: str = "Data") -> Figure:
    return figure([scatter(points, "data", REAL, size=3)], title, height=300)  # beside the data controls


# --- GMM ------------------------------------------------------------------------------------------------------------


def gmm_figure(x: np.ndarray, state: gmm_lib.GMMState, samples: np.ndarray | None = None) -> Figure:
    """Points coloured by their responsibilities (a blend of component colours) and 2σ ellipses."""
    resp = gmm_lib.e_step(x, state)
    rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in PALETTE])[np.arange(state.k) % len(PALETTE)]
    mixed = resp @ rgb
    colors = [f"rgb({r:.0f},{g:.0f},{b:.0f})" for r, g, b in mixed]
    traces = [
        dict(
            type="scatter",
            x=x[:, 0],
            y=x[:, 1],
            mode="markers",
            name="data (colour = responsibility)",
            marker=dict(size=4, color=colors, opacity=0.7),
        )
    ]
    for k in range(state.k):
        e = gmm_lib.ellipse(state.means[k], state.covs[k])
        traces.append(
            dict(
                type="scatter",
                x=e[:, 0],
                y=e[:, 1],
                mode="lines",
                line=dict(color=PALETTE[k % len(PALETTE)], width=2),
                name=f"π={state.weights[k]:.2f}",
                showlegend=state.k <= 6,
            )
        )
    if samples is not None:
        traces.append(scatter(samples, "samples from the mixture", "black", size=3, opacity=0.5))
    return figure(traces, f"GMM, K={state.k}, after {state.steps} EM steps")


def loglik_figure(values: list[float], title: str = "log-likelihood per EM step") -> Figure:
    trace = dict(type="scatter", x=list(range(len(values))), y=values, mode="lines+markers", name="log-likelihood")
    return figure([trace], title, square=False, height=280, xtitle="EM step")


def bic_figure(curve_points: list[tuple[int, float]]) -> Figure:
    ks, vals = zip(*curve_points, strict=True)
    best = ks[int(np.argmin(vals))]
    line = dict(type="line", xref="x", yref="paper", x0=best, x1=best, y0=0, y1=1, line=dict(dash="dot", width=1))
    label = dict(x=best, xref="x", y=1, yref="paper", text=f"best K={best}", showarrow=False, xanchor="left")
    return figure(
        [dict(type="scatter", x=ks, y=vals, mode="lines+markers", name="BIC")],
        "BIC over K (lower is better)",
        False,
        280,
        "K",
        shapes=[line],
        annotations=[label],
    )


# --- PPCA -----------------------------------------------------------------------------------------------------------


def ppca_figure(x: np.ndarray, model: PPCA, pca_dir: np.ndarray, samples: np.ndarray) -> Figure:
    """Data, the PCA line, PPCA's W (mean ± 2 columns), its σ noise circle around the mean, and samples."""
    mu = model.mean
    span = np.linspace(-3, 3, 2)[:, None] * pca_dir[:, 0] * math.sqrt(max(np.var(x @ pca_dir[:, 0]), 1e-12)) + mu
    w = model.W[:, 0]
    t = np.linspace(0, 2 * math.pi, 60)
    noise = mu + 2 * math.sqrt(model.sigma2) * np.stack([np.cos(t), np.sin(t)], 1)
    cov = gmm_lib.ellipse(mu, model.covariance)
    traces = [
        scatter(x, "data", REAL),
        scatter(samples, "PPCA samples", "#2ca02c", size=3, opacity=0.5),
        dict(
            type="scatter",
            x=span[:, 0],
            y=span[:, 1],
            mode="lines",
            name="PCA line",
            line=dict(color="black", dash="dash"),
        ),
        dict(
            type="scatter",
            x=[mu[0] - 2 * w[0], mu[0] + 2 * w[0]],
            y=[mu[1] - 2 * w[1], mu[1] + 2 * w[1]],
            mode="lines",
            name="μ ± 2W",
            line=dict(color="#ff7f0e", width=4),
        ),
        dict(type="scatter", x=noise[:, 0], y=noise[:, 1], mode="lines", name="2σ noise", line=dict(color="#9467bd")),
        dict(
            type="scatter",
            x=cov[:, 0],
            y=cov[:, 1],
            mode="lines",
            name="2σ of C = WWᵀ+σ²I",
            line=dict(color="#8c564b", dash="dot"),
        ),
    ]
    return figure(traces, f"PPCA vs PCA: σ² = {model.sigma2:.3f}")


# --- 2D flow --------------------------------------------------------------------------------------------------------


def flow_density_figure(trainer: FlowTrainer, n: int = 60) -> Figure:
    xs, ys = grid_axes(n)
    grid = torch.tensor(np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2), dtype=torch.float32)
    with torch.no_grad():
        dens = trainer.flow.log_prob(grid).exp().reshape(n, n).numpy()
    samples = trainer.flow.sample(400, torch.Generator().manual_seed(0))
    traces = [
        dict(type="heatmap", x=xs, y=ys, z=dens, colorscale="Viridis", colorbar=colorbar("p(x)"), name="p(x)"),
        scatter(samples, "flow samples", "white", size=3, opacity=0.7),
    ]
    return figure(traces, f"Flow density after {trainer.steps} steps")


def flow_warp_figure(trainer: FlowTrainer, lines: int = 13, points: int = 60) -> Figure:
    """The latent grid pushed through the inverse flow: how N(0, I)'s square grid bends into the data."""
    t = torch.linspace(-2.5, 2.5, points)
    grid_lines = []
    for c in torch.linspace(-2.5, 2.5, lines):
        grid_lines += [torch.stack([t, torch.full_like(t, c)], 1), torch.stack([torch.full_like(t, c), t], 1)]
    with torch.no_grad():
        warped = trainer.flow.inverse(torch.cat(grid_lines)).reshape(len(grid_lines), points, 2).numpy()
    traces = [scatter(trainer.data[:600], "data", REAL, size=3, opacity=0.3), polylines(warped, "latent grid", "#444")]
    return figure(traces, "Warped grid: latent lines in data space")


def thin(xs, ys, most: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """At most `most` evenly spaced points of a curve (always keeping the last), so long runs stay cheap to draw."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if len(xs) <= most:
        return xs, ys
    idx = np.unique(np.linspace(0, len(xs) - 1, most).round().astype(int))
    return xs[idx], ys[idx]


def history_figure(series: dict[str, tuple[list, list]], title: str, ytitle: str = "") -> Figure:
    traces = [curve(*thin(x, y), name, PALETTE[i % len(PALETTE)]) for i, (name, (x, y)) in enumerate(series.items())]
    # "by step" in the title, not an x-axis title: a phone-width legend of two rows would sit on top of it. Each
    # pair of series adds a legend row at 390 px, so the figure grows by a row's height: the plot keeps ~180 px.
    height = 260 + 30 * math.ceil(len(series) / 2)
    return figure(traces, f"{title}, by step", square=False, height=height, ytitle=ytitle)


# --- GAN lab --------------------------------------------------------------------------------------------------------


def gan_figure(
    gan: GAN2D, real: torch.Tensor, modes: tuple[torch.Tensor, np.ndarray] | None = None, n: int = 40
) -> Figure:
    """Critic/D heatmap, G's image of a noise grid, real and generated points; with `modes` (centres, reached),
    every mode G misses is marked with a cross, so mode collapse shows at a glance."""
    xs, ys = grid_axes(n)
    fake = gan.samples(len(real))
    label = "critic f(x)" if gan.is_wasserstein else "D(x) = P(real)"
    traces = [
        dict(
            type="heatmap",
            x=xs,
            y=ys,
            z=gan.critic_map(xs, ys),
            colorscale="RdBu",
            reversescale=True,
            colorbar=colorbar("critic" if gan.is_wasserstein else "D(x)"),
            name=label,
            zmid=None if gan.is_wasserstein else 0.5,
        )
    ]
    traces.append(polylines(gan.noise_grid_image(), "G(noise grid)", "rgba(60,60,60,0.35)", showlegend=True))
    traces += [scatter(real, "real", REAL, size=4, opacity=0.7), scatter(fake, "generated", FAKE, size=4, opacity=0.7)]
    title = f"{gan.loss} · step {gan.steps}"
    if modes is not None:
        centres, reached = _np(modes[0]), np.asarray(modes[1], dtype=bool)
        missed = centres[~reached]
        traces.append(
            dict(
                type="scatter",
                x=missed[:, 0],
                y=missed[:, 1],
                mode="markers",
                name="mode G misses",
                marker=dict(symbol="x-thin", size=14, line=dict(width=3, color="black")),
            )
        )
        title += f" · modes reached {int(reached.sum())}/{len(reached)}"
    # two lines, so the title fits a phone's width
    return figure(traces, f"{title}<br><span style='font-size:11px'>heatmap: {label}</span>", top=54)


def optimal_d_figure(gan: GAN2D, real: torch.Tensor, n: int = 50) -> Figure:
    xs, ys = grid_axes(n)
    d_star = optimal_discriminator(real, gan.samples(len(real)), xs, ys)
    heat = dict(
        type="heatmap",
        x=xs,
        y=ys,
        z=d_star,
        colorscale="RdBu",
        reversescale=True,
        zmin=0,
        zmax=1,
        colorbar=colorbar("D*"),
    )
    return figure([heat], "Optimal D*(x) = p_data / (p_data + p_G) (KDE)")


# --- divergence lab -------------------------------------------------------------------------------------------------


def parallel_lines_figure(theta: float) -> Figure:
    y = [-1, 1]
    traces = [
        dict(type="scatter", x=[0, 0], y=y, mode="lines", name="P: x = 0", line=dict(color=REAL, width=5)),
        dict(
            type="scatter",
            x=[theta, theta],
            y=y,
            mode="lines",
            name=f"Q: x = θ = {theta:g}",
            line=dict(color=FAKE, width=5),
        ),
    ]
    return figure(traces, "Parallel lines (Arjovsky et al. 2017, Example 1)")


def fit_figure(result: dict) -> Figure:
    grid, p = result["grid"][::4], result["p"][::4]  # 501 of the 2,001 quadrature points draw the same curves

    def normal(fit: dict) -> np.ndarray:
        return np.exp(-0.5 * ((grid - fit["mu"]) / fit["sigma"]) ** 2) / (fit["sigma"] * math.sqrt(2 * math.pi))

    traces = [
        dict(
            type="scatter",
            x=grid,
            y=p,
            mode="lines",
            name="p: two-mode mixture",
            line=dict(color="black", width=3),
        ),
        dict(
            type="scatter",
            x=grid,
            y=normal(result["forward"]),
            mode="lines",
            name="argmin KL(p‖q): covers mass",
            line=dict(color=REAL, dash="dash"),
        ),
        dict(
            type="scatter",
            x=grid,
            y=normal(result["reverse"]),
            mode="lines",
            name="argmin KL(q‖p): seeks a mode",
            line=dict(color=FAKE, dash="dot"),
        ),
    ]
    return figure(traces, "Forward vs reverse KL, one Gaussian q", square=False, height=320)
