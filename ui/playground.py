"""The 2D playground tab: GMM + EM, PPCA, a 2D flow, the GAN lab and the divergence lab, on one data set."""

from __future__ import annotations

import functools

import gradio as gr

from genmodels.tasks import playground as pg
from genmodels.tasks.common import as_choice, as_int, as_seed

from . import share
from .common import control, uploads_only, user_errors

# Concurrency groups are shared by every user. A mixture, a flow and a GAN each guard their own session with a lock (a
# click that starts while the previous one runs waits for it and sees its result), so several users' sessions may
# work at once; a GMM step takes ~20 ms, a flow or GAN step much longer.
SESSIONS_AT_ONCE = 2
GMM_AT_ONCE = 4

# What every number in the playground's panels means, in words and units (the panels keep the API's short keys).
GLOSSARY = {
    "gmm": "`log_likelihood`: Σ log p(x) over the points, nats (`_per_point`: its mean) · `bic`: Bayesian "
    "information criterion, lower is better · `weights`: the mixing proportions π_k · `em_steps`: E + M steps so far",
    "ppca": "`W`: the loading vector (2 × 1) · `sigma2`: σ², the isotropic noise variance · `max_difference_in_C`: "
    "largest gap between the two fits' covariances W Wᵀ + σ²I · `pca_eigenvalues`: of the sample covariance · "
    "`log_likelihood_per_point`: nats",
    "flow": "`mean_log_likelihood`: mean log p(x) of the data under the flow, nats · `run_steps_done` of "
    "`run_steps`: this run's progress · `seconds_left`: estimated from the pace so far",
    "gan": "`kl_data_g`, `kl_g_data`: KL(data ‖ G) and KL(G ‖ data), nats, from 24 × 24 histograms · `js`: "
    "Jensen–Shannon divergence, nats (at most ln 2 ≈ 0.693) · `w1`: Wasserstein-1 distance by exact optimal transport "
    "of 256 points each · `modes_reached` of `modes`: modes that get at least a quarter of their share of samples · "
    "`estimates_at_step`: the step those were measured at",
    "divergence": "`kl_pq`, `kl_qp`: KL(P ‖ Q), KL(Q ‖ P), nats · `js`: Jensen–Shannon, nats · `w1`: "
    "Wasserstein-1 · `estimate`: from 500 samples each · `closed_form`: the exact value",
    "kl": "`mu`, `sigma`: the fitted Gaussian · `kl_p_q`, `kl_q_p`: KL(p ‖ q), KL(q ‖ p), nats · "
    "`kl_q_to_each_mode`: KL from the fit to each mode · `mode_means`, `mode_std`: the mixture's",
}


def glossary(key: str) -> gr.Markdown:
    """The words behind a panel's keys, under it, in small print."""
    return gr.Markdown(GLOSSARY[key], elem_classes="glossary")


CSV_HELP = """A CSV file: one point per line, `x,y` (a header line is fine), e.g.
```
x,y
0.5,-1.2
1.0,0.3
```
The points are scaled into the square [−2, 2]² the tools draw."""

PLAYGROUND_HELP = """Theory on 2D data, live. Pick or make a data set, then fit it five ways below.
Every action is also an API endpoint (`playground_*`, listed in the README)."""


@user_errors
def load_data(source, preset, n, seed, sketch, csv_file) -> tuple:
    """ "Use this data" and `api_name="playground_data"`: the drawing is the editor's composite picture."""
    drawing = sketch.get("composite") if isinstance(sketch, dict) else sketch
    return pg.make_data(source, preset, n, seed, drawing, csv_file)


def points_file(data) -> str | None:
    """The current data set as a CSV file to download."""
    return pg.points_csv(data) if data is not None else None


TRAINING_PROGRESS = gr.Progress()


def unchanged_skipped(frame: tuple, last: tuple, slots: range) -> list:
    """The frame with gr.skip() in `slots` wherever the figure is the very object the last frame sent."""
    return [gr.skip() if i in slots and i < len(last) and out is last[i] else out for i, out in enumerate(frame)]


@user_errors
def flow_train(trainer, steps: float, progress=TRAINING_PROGRESS):
    """Train, with a progress bar (steps done, and Gradio's time estimate from the pace); the density and the
    warped grid are sent only when redrawn."""
    last: tuple = ()
    for frame in pg.flow_train(trainer, steps):
        info = frame[-1]
        progress((info["run_steps_done"], info["run_steps"]), desc="training", unit="steps")
        yield unchanged_skipped(frame, last, range(1, 3))
        last = frame


@user_errors
def gan_play(session, speed: float):
    """Stream the GAN views; figures the task did not redraw this frame are not sent again."""
    last: tuple = ()
    for frame in pg.gan_play(session, speed):
        yield unchanged_skipped(frame, last, range(1, 5))
        last = frame


def playground_first_views() -> tuple:
    """What the playground shows before anyone clicks: the default data set, a mixture initialised on it (the first
    tool's view) and both divergence examples."""
    data, data_plot = pg.make_data()
    return (data, data_plot, *pg.gmm_start(data), *pg.divergence(), *pg.kl_fit())


def build(demo: gr.Blocks) -> None:
    with share.tab(gr.Tab("2D playground", id="playground"), "playground"):
        data = gr.State(None)
        with gr.Row():
            with gr.Column(scale=1, min_width=260):
                source = gr.Radio(list(pg.SOURCES), value="preset", label="Data source", elem_id="pg-source")
                preset = gr.Dropdown(list(pg.PRESETS), value="8 Gaussians (ring)", label="Preset", elem_id="pg-preset")
                n_points = gr.Slider(50, 5000, value=1000, step=50, label="Points")
                seed = gr.Number(0, label="Seed")
                share.shared(preset, "preset", lambda t: as_choice(t, "Preset", pg.PRESETS))
                share.shared(n_points, "points", lambda t: as_int(t, "Points", 50, 5000))
                share.shared(seed, "pg_seed", as_seed)
                load = gr.Button("Use this data", variant="primary", elem_id="pg-load")
                data_plot = gr.Plot(show_label=False, elem_id="pg-data-plot")
                points_csv = gr.DownloadButton("Download these points (CSV)", size="sm", elem_id="pg-download")
                with gr.Accordion("Draw or upload your own", open=False):
                    sketch = uploads_only(
                        gr.Sketchpad(
                            label="Draw: ink becomes density",
                            height=300,
                            canvas_size=(400, 400),
                            brush=gr.Brush(default_size=12, colors=["#000000"], color_mode="fixed"),
                            elem_id="pg-sketch",
                            elem_classes="brush-first",  # the brush is chosen for the user (ui.common.BRUSH_FIRST)
                        ),
                        "The drawing",
                    )
                    csv_file = uploads_only(
                        gr.File(label="CSV of x,y rows", file_types=[".csv", ".txt"], type="filepath"), "The CSV"
                    )
                    gr.Markdown(CSV_HELP)
            with gr.Column(scale=3, elem_classes="result-first"):
                with gr.Tabs():
                    with gr.Tab("GMM + EM", id="pg-gmm"):
                        gmm = gr.State(None)
                        with gr.Row():
                            k = gr.Slider(1, 20, value=8, step=1, label="K")
                            init = gr.Radio(["kmeans++", "random"], value="kmeans++", label="Initialisation")
                        with gr.Row():
                            init_btn = control("Initialise", elem_id="gmm-init")
                            e_btn, m_btn = control("E-step"), control("M-step")
                            em_btn = control("E + M", elem_id="gmm-em")
                            conv_btn = control("Converge", variant="primary", elem_id="gmm-converge")
                            bic_btn = control("BIC vs K")
                        with gr.Row():
                            gmm_plot = gr.Plot(label="Mixture", elem_id="gmm-plot")
                            with gr.Column():
                                gmm_ll = gr.Plot(label="Log-likelihood")
                                bic_plot = gr.Plot(label="BIC")
                        gmm_info = gr.JSON(label="Fit")
                        glossary("gmm")
                        gmm_out = [gmm, gmm_plot, gmm_ll, gmm_info]
                        init_btn.click(
                            user_errors(pg.gmm_start),
                            [data, k, init, seed],
                            gmm_out,
                            api_name="playground_gmm_init",
                            preprocess=False,
                            concurrency_id="gmm",
                            concurrency_limit=GMM_AT_ONCE,
                        )
                        for button, action in ((e_btn, "E"), (m_btn, "M"), (em_btn, "EM"), (conv_btn, "converge")):
                            button.click(
                                user_errors(functools.partial(pg.gmm_step, action=action)),
                                [data, gmm],
                                gmm_out,
                                api_name=f"playground_gmm_{action.lower()}",
                                preprocess=False,
                                concurrency_id="gmm",
                                concurrency_limit=GMM_AT_ONCE,
                            )
                        bic_btn.click(
                            user_errors(pg.gmm_bic),
                            [data, gr.State(10), init, seed],
                            [bic_plot, gmm_info],
                            api_name="playground_gmm_bic",
                            preprocess=False,
                        )

                    with gr.Tab("PPCA", id="pg-ppca"):
                        ppca_btn = gr.Button(
                            "Fit PPCA (closed form and EM) and PCA", variant="primary", elem_id="ppca-fit"
                        )
                        with gr.Row():
                            ppca_plot = gr.Plot(label="PPCA vs PCA", elem_id="ppca-plot")
                            ppca_ll = gr.Plot(label="EM log-likelihood")
                        ppca_info = gr.JSON(label="Closed form vs EM")
                        glossary("ppca")
                        ppca_btn.click(
                            user_errors(pg.ppca_view),
                            [data, seed],
                            [ppca_plot, ppca_ll, ppca_info],
                            api_name="playground_ppca",
                            preprocess=False,
                        )

                    with gr.Tab("Flow", id="pg-flow"):
                        flow = gr.State(None)
                        with gr.Row():
                            coupling = gr.Radio(
                                [("spline (Neural Spline Flow)", "spline"), ("affine (RealNVP)", "affine")],
                                value="spline",
                                label="Coupling",
                                elem_id="flow-coupling",
                            )
                            layers = gr.Slider(2, 16, value=4, step=1, label="Coupling layers")
                            flow_steps = gr.Slider(
                                100, 5000, value=1000, step=100, label="Steps per run", elem_id="flow-steps"
                            )
                        with gr.Row():
                            flow_new = control("New flow", elem_id="flow-new")
                            flow_run = control("Train", variant="primary", elem_id="flow-train")
                            flow_stop = control("Stop", elem_id="flow-stop")
                        with gr.Row():
                            flow_density = gr.Plot(label="Density", elem_id="flow-density")
                            flow_warp = gr.Plot(label="Warped grid")
                        flow_ll = gr.Plot(label="Log-likelihood")
                        flow_info = gr.JSON(label="Flow", elem_id="flow-info")
                        glossary("flow")
                        flow_views = [flow_density, flow_warp, flow_ll, flow_info]
                        flow_new.click(
                            user_errors(pg.flow_start),
                            [data, seed, layers, coupling],
                            [flow, *flow_views],
                            api_name="playground_flow_new",
                            preprocess=False,
                            concurrency_id="flow",
                            concurrency_limit=SESSIONS_AT_ONCE,
                        )
                        training = flow_run.click(
                            flow_train,
                            [flow, flow_steps],
                            [flow, *flow_views],
                            api_name="playground_flow_train",
                            preprocess=False,
                            show_progress_on=[flow_info],
                            concurrency_id="flow",
                            concurrency_limit=SESSIONS_AT_ONCE,
                        )
                        # Stop: at once, no queue; the flow keeps what it learnt so far (Train goes on from there)
                        flow_stop.click(None, None, None, api_name=False, queue=False, cancels=[training])

                    with gr.Tab("GAN lab", id="pg-gan"):
                        gan = gr.State(None)
                        with gr.Row():
                            loss = gr.Radio(list(pg.LOSSES), value="wgan-gp", label="Loss", elem_id="gan-loss")
                            share.shared(loss, "loss", lambda t: as_choice(t, "Loss", pg.LOSSES))
                            speed = gr.Slider(
                                1,
                                pg.MAX_SPEED,
                                value=pg.MAX_SPEED,
                                step=1,
                                label="Speed: at most this many training steps per frame",
                            )
                        with gr.Row():
                            gan_new = control("New GAN", elem_id="gan-new")
                            gan_play_btn = control("Play", variant="primary", elem_id="gan-play")
                            gan_pause_btn = control("Pause", elem_id="gan-pause")
                            gan_step_btn = control("Step", elem_id="gan-step")
                        with gr.Row():
                            gan_plot = gr.Plot(label="Real, generated, D / critic", elem_id="gan-plot")
                            gan_optimal = gr.Plot(label="Optimal discriminator", elem_id="gan-optimal")
                        with gr.Row():
                            gan_losses = gr.Plot(label="Losses")
                            gan_divs = gr.Plot(label="Divergences", elem_id="gan-divs")
                        gan_info = gr.JSON(label="Now", elem_id="gan-info")
                        glossary("gan")
                        gan_views = [gan, gan_plot, gan_losses, gan_divs, gan_optimal, gan_info]
                        gan_new.click(
                            user_errors(pg.gan_start),
                            [data, loss, seed],
                            gan_views,
                            api_name="playground_gan_new",
                            preprocess=False,
                            concurrency_id="gan",
                            concurrency_limit=SESSIONS_AT_ONCE,
                        )
                        # The frames are the progress: no overlay and elapsed-time counter redrawn on six outputs
                        # ten times a second, which on a busy laptop kept the page seconds behind the stream.
                        playing = gan_play_btn.click(
                            gan_play,
                            [gan, speed],
                            gan_views,
                            api_name="playground_gan_play",
                            preprocess=False,
                            show_progress="hidden",
                        )
                        # Pause answers at once (no queue) and cancels the stream: the page stops taking frames on
                        # the click, even when the server or the browser is busy; training stops after its frame.
                        gan_pause_btn.click(
                            user_errors(pg.gan_pause),
                            [gan],
                            None,
                            api_name="playground_gan_pause",
                            preprocess=False,
                            queue=False,
                            cancels=[playing],
                        )
                        gan_step_btn.click(
                            user_errors(pg.gan_step),
                            [gan, gr.State(1)],
                            gan_views,
                            api_name="playground_gan_step",
                            preprocess=False,
                            concurrency_id="gan",
                            concurrency_limit=SESSIONS_AT_ONCE,
                        )

                    with gr.Tab("Divergences", id="pg-div"):
                        gr.Markdown(
                            "P is the line x = 0, Q the line x = θ, both uniform in y. For θ ≠ 0: KL = ∞, JS = ln 2, "
                            "W = |θ|; only the Wasserstein distance tells how far apart they are."
                        )
                        theta = gr.Slider(-2, 2, value=0.5, step=0.05, label="θ", elem_id="div-theta")
                        with gr.Row():
                            lines_plot = gr.Plot(label="Parallel lines", elem_id="div-plot")
                            div_info = gr.JSON(label="Estimators vs closed forms", elem_id="div-json")
                        glossary("divergence")
                        separation = gr.Slider(0.5, 8, value=4, step=0.5, label="Distance between the two modes")
                        with gr.Row():
                            fit_plot = gr.Plot(label="Forward vs reverse KL", elem_id="kl-fit-plot")
                            fit_info = gr.JSON(label="Fits")
                        glossary("kl")
                        for slider, task, views, name in (
                            (theta, pg.divergence, [lines_plot, div_info], "playground_divergence"),
                            (separation, pg.kl_fit, [fit_plot, fit_info], "playground_kl_fit"),
                        ):
                            slider.change(user_errors(task), [slider], views, api_name=name, preprocess=False)
        with gr.Accordion("About the playground", open=False):
            gr.Markdown(PLAYGROUND_HELP)
        data_inputs = [source, preset, n_points, seed, sketch, csv_file]
        for loaded in (
            load.click(load_data, data_inputs, [data, data_plot], api_name="playground_data", preprocess=False),
            preset.change(load_data, data_inputs, [data, data_plot], api_name=False, preprocess=False),
        ):
            loaded.success(points_file, [data], [points_csv], api_name=False, preprocess=False)
        demo.load(
            playground_first_views,
            None,
            [data, data_plot, *gmm_out, lines_plot, div_info, fit_plot, fit_info],
            api_name=False,
            preprocess=False,
        ).success(points_file, [data], [points_csv], api_name=False, preprocess=False)
