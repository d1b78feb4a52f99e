"""The 2D playground tab: plain values in, plotly figures and JSON-able dicts out; ValueError for bad input.

Training state (a GMM fit, a flow, a GAN) lives in a small object the app keeps per browser session and passes back
in; everything else is recomputed from the data points.
"""

from __future__ import annotations

import hashlib
import math
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..models.base import one_intra_op_thread
from ..playground import datasets, divergences, figures, gan2d, gmm, ppca
from ..playground.flow2d import FlowTrainer
from .common import as_choice, as_float, as_int, as_seed, file_path, open_image, readable, write_once

SOURCES = ("preset", "drawing", "csv")
PRESETS = tuple(datasets.PRESETS)  # the data sets a user can pick
LOSSES = gan2d.LOSSES  # the GAN lab's losses
INITS = ("kmeans++", "random")  # how a mixture starts
MAX_DRAWING_PIXELS = 4_000_000  # a drawing is a sketch, not a photo: larger is refused before it is decoded
MAX_PLAY_SECONDS = 120.0
# Training time per figure update: 2 updates a second. A browser redraws the GAN view in ~170 ms on a 2-core laptop
# (Chromium, measured): at 5 updates a second it fell seconds behind the stream, and kept drawing after Pause.
FRAME_SECONDS = 0.5
MAX_SPEED = 600  # steps per frame at most: more than any loss trains in 0.5 s (bench: WGAN 1,079 steps/s)


@dataclass
class Data:
    """The current 2D data set: points to plot and fit, and a sampler for fresh minibatches."""

    points: torch.Tensor  # (n, 2)
    description: str
    preset: str | None = None

    def sampler(self, n: int, g: torch.Generator) -> torch.Tensor:
        if self.preset is not None:
            return datasets.PRESETS[self.preset](n, g)
        return self.points[torch.randint(0, len(self.points), (n,), generator=g)]


def make_data(
    source: object = "preset",
    preset: object = "8 Gaussians (ring)",
    n: object = 1000,
    seed: object = 0,
    sketch: object = None,
    csv_path: object = None,
) -> tuple[Data, object]:
    """The data set chosen by the user, and its scatter plot.

    Args:
        sketch: the drawing, as a picture file (a path or an upload payload), a PIL image or an array.
        csv_path: a CSV file of x,y rows (a path or an upload payload).
    """
    source = as_choice(source, "Data source", SOURCES)
    n = as_int(n, "Number of points", 50, datasets.MAX_POINTS)
    seed = as_seed(seed)
    if source == "preset":
        preset = as_choice(preset, "Preset", PRESETS)
        data = Data(datasets.preset(preset, n, seed), f"{preset}: {n} points, seed {seed}", preset)
    elif source == "drawing":
        if isinstance(sketch, dict) or isinstance(sketch, (str, Path)):
            sketch = file_path(sketch, "The drawing")
        if sketch is None:
            raise ValueError("Draw something on the sketchpad first.")
        drawing = np.asarray(open_image(sketch, max_pixels=MAX_DRAWING_PIXELS))
        data = Data(datasets.from_sketch(drawing, n, seed), f"your drawing: {n} points")
    else:
        path = file_path(csv_path, "The CSV")
        if path is None:
            raise ValueError("Upload a CSV file with x,y rows first.")
        path = Path(path)
        if path.stat().st_size > datasets.MAX_CSV_BYTES:
            raise ValueError(f"The CSV is larger than {datasets.MAX_CSV_BYTES // 1_000_000} MB.")
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            raise ValueError("The file is not a text CSV.") from None
        points = datasets.from_csv(text)
        data = Data(points, f"{path.name}: {len(points)} points")
    return data, figures.data_figure(data.points, data.description)


def points_csv(data: Data) -> str:
    """The data set's points as a CSV file (x,y rows), written once per distinct data set; its path."""
    text = "x,y\n" + "".join(f"{x:.6g},{y:.6g}\n" for x, y in data.points.tolist())
    name = f"points-{hashlib.sha256(text.encode()).hexdigest()[:16]}.csv"
    return write_once(Path(tempfile.gettempdir()) / "genmodels-points", name, lambda f: f.write(text.encode()))


def _need(data: Data | None) -> Data:
    """The session's data; before any is chosen (a click racing the page load), the default preset the page shows."""
    return make_data()[0] if data is None else data


# --- GMM + EM -------------------------------------------------------------------------------------------------------


@dataclass
class GMMSession:
    """A mixture being fitted. Steps change it in place under its lock, so a click that starts while the previous one
    runs waits for it and then sees its result (no global one-at-a-time queue across users is needed)."""

    state: gmm.GMMState
    resp: np.ndarray | None = None  # responsibilities from the last E-step not yet used by an M-step
    lock: threading.Lock = field(default_factory=threading.Lock)


def gmm_start(data: Data | None, k: object = 8, init: str = "kmeans++", seed: object = 0) -> tuple:
    """A fresh mixture: (session, mixture figure, log-likelihood figure, info)."""
    data = _need(data)
    x = data.points.double().numpy()
    k = as_int(k, "K", 1, 20)
    session = GMMSession(gmm.init(x, k, as_choice(init, "Initialisation", INITS), as_seed(seed)))
    return (session, *gmm_views(data, session))


def gmm_step(data: Data | None, session: GMMSession | None, action: str) -> tuple:
    """action: "E" (responsibilities only), "M" (parameters from the last E-step), "EM" (one step), "converge"."""
    if session is None:
        raise ValueError("Initialise the mixture first.")
    if action not in ("E", "M", "EM", "converge"):
        raise ValueError(f"Unknown EM action {action!r}; use E, M, EM or converge.")
    data = _need(data)
    x = data.points.double().numpy()
    with session.lock:
        if action == "E":
            session.resp = gmm.e_step(x, session.state)
            return (session, *gmm_views(data, session))
        if action == "M":
            resp = session.resp if session.resp is not None else gmm.e_step(x, session.state)
            new = gmm.m_step(x, resp)
            new.log_likelihoods = session.state.log_likelihoods + [gmm.log_likelihood(x, new)]
            new.steps = session.state.steps + 1
        elif action == "EM":
            new = gmm.em_step(x, session.state)
        else:
            new = gmm.fit(x, session.state)
        session.state, session.resp = new, None
        return (session, *gmm_views(data, session))


def gmm_views(data: Data, session: GMMSession) -> tuple:
    x = data.points.double().numpy()
    state = session.state
    samples = gmm.sample(state, 300, seed=1)
    info = {
        "k": state.k,
        "em_steps": state.steps,
        "log_likelihood": state.log_likelihoods[-1],
        "log_likelihood_per_point": state.log_likelihoods[-1] / len(x),
        "bic": gmm.bic(x, state),
        "weights": [float(w) for w in state.weights],
    }
    return figures.gmm_figure(x, state, samples), figures.loglik_figure(state.log_likelihoods), readable(info)


def gmm_bic(data: Data | None, max_k: object = 10, init: str = "kmeans++", seed: object = 0) -> tuple:
    data = _need(data)
    x = data.points.double().numpy()
    ks = range(1, as_int(max_k, "Largest K", 1, 15) + 1)
    curve = gmm.bic_curve(x, ks, as_choice(init, "Initialisation", INITS), as_seed(seed))
    # JSON object keys are strings: Gradio's JSON output refuses int keys at run time
    info = {"bic": {str(k): v for k, v in curve}, "best_k": min(curve, key=lambda kv: kv[1])[0]}
    return figures.bic_figure(curve), readable(info)


# --- PPCA -----------------------------------------------------------------------------------------------------------


def ppca_view(data: Data | None, seed: object = 0) -> tuple:
    data = _need(data)
    x = data.points.double().numpy()
    closed = ppca.fit_closed_form(x)
    em, history = ppca.fit_em(x, seed=as_seed(seed))
    _, direction, eigenvalues = ppca.pca(x)
    info = {
        "closed_form": {"W": closed.W.ravel().tolist(), "sigma2": closed.sigma2},
        "em": {"W": em.W.ravel().tolist(), "sigma2": em.sigma2, "steps": len(history)},
        "max_difference_in_C": float(np.abs(closed.covariance - em.covariance).max()),
        "pca_eigenvalues": eigenvalues.tolist(),
        "log_likelihood_per_point": closed.log_likelihood(x) / len(x),
    }
    return (
        figures.ppca_figure(x, closed, direction, closed.sample(400, seed=1)),
        figures.loglik_figure(history, "PPCA EM: log-likelihood per step"),
        readable(info),
    )


# --- 2D flow --------------------------------------------------------------------------------------------------------


COUPLINGS = ("spline", "affine")  # a 2D flow's layers: rational-quadratic splines (NSF) or RealNVP's affine maps
FLOW_LR = 3e-3


def flow_start(data: Data | None, seed: object = 0, layers: object = 4, coupling: object = "spline") -> tuple:
    """A fresh 2D flow. The default (4 spline couplings, 1,000 steps) fits the ring of 8 Gaussians to within 0.3 nats
    of its true density (a test holds it); affine couplings (RealNVP) need many more layers and steps for sharp
    modes."""
    coupling = as_choice(coupling, "Coupling", COUPLINGS)
    trainer = FlowTrainer(
        _need(data).points, as_seed(seed), as_int(layers, "Layers", 2, 16), lr=FLOW_LR, coupling=coupling
    )
    trainer.step(0)
    return (trainer, *flow_views(trainer))


def flow_views(trainer: FlowTrainer, previous: tuple = ()) -> tuple:
    """Density, warped grid, log-likelihood curve and the JSON. With `previous` (the last frame's views, while
    training) the density and the warped grid are those same objects: the page skips them and only redraws them
    every FLOW_REDRAW_FRAMES frames."""
    steps, ll = zip(*trainer.history, strict=True)
    info = {"steps": trainer.steps, "mean_log_likelihood": ll[-1]}
    heavy = previous[:2] or (figures.flow_density_figure(trainer), figures.flow_warp_figure(trainer))
    return (
        *heavy,
        figures.history_figure({"mean log p(x)": (steps, ll)}, "Flow: log-likelihood of the data"),
        readable(info),
    )


# A frame's density and warped grid are ~65 kB of Plotly JSON, most of what the browser redraws while training runs
# beside it (the GAN lab's browser fell seconds behind at 5 frames a second); the curve and the JSON still come with
# every frame.
FLOW_REDRAW_FRAMES = 4


def flow_train(trainer: FlowTrainer | None, steps: object = 500) -> Iterator[tuple]:
    """Train `steps` more steps, yielding the views every FRAME_SECONDS (the density and warped grid every
    FLOW_REDRAW_FRAMES-th frame and the last, else the previous frame's objects); the JSON tells how far this run is
    (`run_steps_done` of `run_steps`) and, from the pace so far, about how long it has left (`seconds_left`)."""
    if trainer is None:
        raise ValueError("Create the flow first.")
    total = as_int(steps, "Steps", 1, 20000)
    remaining, began, views, frame = total, time.perf_counter(), (), 0
    while remaining > 0:
        start = time.perf_counter()
        with trainer.lock, one_intra_op_thread():
            while True:  # at least one batch of 10 steps a frame
                trainer.step(min(10, remaining))
                remaining -= min(10, remaining)
                if remaining == 0 or time.perf_counter() - start >= FRAME_SECONDS:
                    break
        redraw = frame % FLOW_REDRAW_FRAMES == 0 or remaining == 0
        *views, info = flow_views(trainer, () if redraw else tuple(views))
        done, spent, frame = total - remaining, time.perf_counter() - began, frame + 1
        info |= {"run_steps_done": done, "run_steps": total, "seconds_left": round(spent / done * remaining, 1)}
        yield (trainer, *views, info)


# --- GAN lab --------------------------------------------------------------------------------------------------------


@dataclass
class GANSession:
    gan: gan2d.GAN2D
    data: Data
    estimates: list[dict] = field(default_factory=list)  # running divergence estimates with their step
    cached: dict = field(default_factory=dict)  # the slow figures, redrawn only every few frames while playing
    lock: threading.Lock = field(default_factory=threading.Lock)  # held by whoever changes the networks


def gan_start(data: Data | None, loss: object = "wgan-gp", seed: object = 0) -> tuple:
    data = _need(data)
    session = GANSession(gan2d.GAN2D(data.sampler, as_choice(loss, "Loss", LOSSES), as_seed(seed)), data)
    return (session, *gan_views(session))


def _estimates(session: GANSession) -> dict:
    """Divergence estimates at the current step, and for presets made of modes, how many of them G reaches."""
    gan = session.gan
    est = {"step": gan.steps, **gan.estimates()}
    if session.data.preset in datasets.MODES:
        centres, radius = datasets.MODES[session.data.preset]
        reached = gan2d.modes_reached(gan.samples(1000, seed=3), centres, radius)
        est |= {"modes_reached": int(reached.sum()), "modes": len(reached)}
        session.cached["modes"] = (centres, reached)
    return est


def _history_figures(session: GANSession, gan: gan2d.GAN2D) -> tuple:
    e = session.estimates
    steps = [h[0] for h in gan.history]
    losses = figures.history_figure(
        {"D / critic loss": (steps, [h[1] for h in gan.history]), "G loss": (steps, [h[2] for h in gan.history])},
        "Losses",
    )
    finite = lambda key: [v[key] if math.isfinite(v[key]) else None for v in e]  # noqa: E731
    divs = figures.history_figure(
        {
            "KL(data‖G)": ([v["step"] for v in e], finite("kl_data_g")),
            "KL(G‖data)": ([v["step"] for v in e], finite("kl_g_data")),
            "JS": ([v["step"] for v in e], finite("js")),
            "W1 (exact OT)": ([v["step"] for v in e], finite("w1")),
        }
        | (
            {"share of modes reached": ([v["step"] for v in e], [v["modes_reached"] / v["modes"] for v in e])}
            if e and "modes" in e[-1]
            else {}
        ),
        "Running estimates (data vs G)",
    )
    return losses, divs


def gan_views(session: GANSession, frame: int | None = None) -> tuple:
    """GAN view, losses, divergences, optimal D* and the JSON.

    While playing (`frame` given) the main view is redrawn every frame, the estimates and their curves every third
    frame (an exact transport problem), and D* every sixth (a KDE), never on the same frame; unchanged figures are the
    same objects as before.
    """
    gan, real = (
        session.gan,
        session.data.points[:200],
    )  # 200 real and 200 generated points: enough to see, quick to draw
    if frame is None or frame % 3 == 0 or not session.estimates:
        if not session.estimates or session.estimates[-1]["step"] != gan.steps:
            session.estimates.append(_estimates(session))
        session.cached["history"] = _history_figures(session, gan)
    if frame is None or frame % 6 == 1 or "optimal" not in session.cached:
        session.cached["optimal"] = figures.optimal_d_figure(gan, real)
    est = session.estimates[-1]
    info = {"loss": gan.loss, "step": gan.steps, "estimates_at_step": est["step"]}
    info |= {k: v for k, v in est.items() if k != "step"}
    losses, divs = session.cached["history"]
    modes = session.cached.get("modes")
    return figures.gan_figure(gan, real, modes), losses, divs, session.cached["optimal"], readable(info)


def gan_play(session: GANSession | None, speed: object = MAX_SPEED) -> Iterator[tuple]:
    """Train until paused (or MAX_PLAY_SECONDS), yielding the views after each FRAME_SECONDS of training.

    Once paused it yields nothing more, so no frame reaches the page after the Pause: the page keeps the last frame
    it showed (the model may be up to one frame's steps further, which the next Step or Play shows).

    `speed`: at most this many training steps per frame (1..MAX_SPEED): 1 shows every step, the most trains as fast
    as the frame rate allows. Training, drawing and sending a frame take turns rather than overlap: on a 2-core laptop
    that also runs the browser, overlapping them starved the browser, which then fell seconds behind the frames.
    """
    if session is None:
        raise ValueError("Create the GAN first.")
    most = as_int(speed, "Speed", 1, MAX_SPEED)
    gan = session.gan
    gan.running = True
    began = time.perf_counter()
    frame = 0
    while gan.running and time.perf_counter() - began < MAX_PLAY_SECONDS:
        start, done = time.perf_counter(), 0
        with session.lock, one_intra_op_thread():
            while gan.running and done < most and time.perf_counter() - start < FRAME_SECONDS:
                gan.step(1)
                done += 1
        # A slow speed still waits out the frame, so the browser gets 2 updates a second, never a flood.
        time.sleep(max(0.0, FRAME_SECONDS - (time.perf_counter() - start)))
        frame += 1
        views = gan_views(session, frame) if gan.running else None
        if not gan.running:  # paused while training or drawing: the page keeps the frame it showed at the click
            return
        yield (session, *views)
    if gan.running:  # out of time, not paused: show everything once more, estimates included
        gan.running = False
        yield (session, *gan_views(session))


def gan_pause(session: GANSession | None) -> None:
    """Stop a running `gan_play` after its current frame."""
    if session is not None:
        session.gan.running = False


def gan_step(session: GANSession | None, steps: object = 1) -> tuple:
    if session is None:
        raise ValueError("Create the GAN first.")
    steps = as_int(steps, "Steps", 1, 5000)
    with session.lock, one_intra_op_thread():
        session.gan.step(steps)
    return (session, *gan_views(session))


# --- divergence lab -------------------------------------------------------------------------------------------------


KL_SEPARATIONS = tuple(0.5 * i for i in range(1, 17))  # the slider's stops, 0.5 … 8
MAX_KL_FITS = 256  # fits kept: the slider's stops and the first other separations asked through the API
_kl_fits: dict[float, dict] = {}
_kl_lock = threading.Lock()  # one fit at a time: users asking at once for a new one wait for it, not compute it twice


def _kl_fit(separation: float) -> dict:
    """The fit depends on the separation alone (400 Adam steps): each is computed once per process, on one intra-op
    thread (tiny tensors), and shared by every user who asks for it."""
    fit = _kl_fits.get(separation)
    if fit is None:
        with _kl_lock, one_intra_op_thread():
            fit = _kl_fits.get(separation)  # computed meanwhile by whoever held the lock
            if fit is None:
                fit = divergences.fit_gaussian_to_mixture(separation)
                if len(_kl_fits) < MAX_KL_FITS:
                    _kl_fits[separation] = fit
    return fit


def warm_kl_fits() -> None:
    """Fit every separation the slider offers in one batched descent (~0.3 s), once, at start-up."""
    with _kl_lock, one_intra_op_thread():
        fits = divergences.fit_gaussians_to_mixtures(KL_SEPARATIONS)
        _kl_fits.update(zip(KL_SEPARATIONS, fits, strict=True))


def divergence(theta: object = 0.5) -> tuple:
    """The parallel-lines example at θ: figure and the estimators beside the closed forms (JSON)."""
    theta = as_float(theta, "θ", -2.0, 2.0)
    result = divergences.parallel_lines(theta)
    shown = {
        kind: {k: ("∞" if v == math.inf else round(v, 6)) for k, v in values.items()}
        for kind, values in result.items()
        if kind != "theta"
    }
    return figures.parallel_lines_figure(theta), readable({"theta": theta, **shown})


def kl_fit(separation: object = 4.0) -> tuple:
    """Forward vs reverse KL fits of one Gaussian to a two-mode mixture."""
    result = _kl_fit(as_float(separation, "Separation", 0.5, 8.0))
    info = {k: result[k] for k in ("forward", "reverse")} | {
        "mode_means": list(result["means"]),
        "mode_std": result["std"],
    }
    return figures.fit_figure(result), readable(info)
