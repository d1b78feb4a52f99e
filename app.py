"""genmodels: deep generative models in the browser. Layout and wiring only; the work is in genmodels.tasks.

python app.py            # honours GRADIO_SERVER_NAME / GRADIO_SERVER_PORT
"""

from __future__ import annotations

import logging

import gradio as gr

from genmodels import registry, tasks

CSS = """
.slot-image img { image-rendering: pixelated; }
"""
SAMPLE_HELP = """Every model draws from the **same seed**, so changing one control changes one thing.
**Temperature** scales the spread of every model's latent prior (lower = cleaner, less varied).
**Truncation** (GANs) redraws each latent coordinate into [−t, t]; 0 turns it off.
The badge is the model's held-out score on the test split; the caption under each grid lists the digits the
project's classifier sees. *Nearest training image* puts beside every sample the closest of the 8,000 training
images (L2 in pixels): a sample that equals its neighbour was memorised."""


def _slot_updates(result: dict | None) -> list:
    """Outputs of one model's slot: column visibility, grid, caption, nearest-neighbour grid."""
    if result is None:
        return [gr.update(visible=False), None, "", gr.update(visible=False, value=None)]
    if "error" in result:
        return [gr.update(visible=True), None, f"**{result['title']}**: ⚠️ {result['error']}", gr.update(visible=False)]
    timing = f"{result['sample_s'] * 1000:.0f} ms" + (
        f" (+ load {result['load_s']:.2f} s)" if result["load_s"] > 0.05 else ""
    )
    lines = [f"**{result['title']}** · {timing}", f"`{result['badge']}`"]
    if result.get("labels") is not None:
        lines.append("classifier: " + " ".join(str(c) for c in result["labels"]))
    nearest = gr.update(visible=False, value=None)
    if "nearest_grid" in result:
        lines.append(f"mean L2 to nearest training image: {result['nearest_l2_mean']:.2f}")
        nearest = gr.update(visible=True, value=result["nearest_grid"])
    elif "nearest_error" in result:
        lines.append(f"⚠️ {result['nearest_error']}")
    return [gr.update(visible=True), result["grid"], "\n\n".join(lines), nearest]


def run_sample(models: list[str], n: float, seed: float, temperature: float, truncation: float, nearest: bool) -> list:
    """The Sample button and `api_name=\"sample\"`: one grid, caption and nearest view per model, then the JSON."""
    try:
        results = tasks.sample_models(models, n, seed, temperature, truncation, nearest)
    except ValueError as exc:
        raise gr.Error(str(exc)) from None
    by_name = {r["model"]: r for r in results}
    outputs = []
    for name in tasks.sampleable_models():
        outputs += _slot_updates(by_name.get(name))
    return outputs + [tasks.summary(results)]


with gr.Blocks(title="genmodels") as demo:
    gr.Markdown("# genmodels\nDeep generative models you can explore in the browser, each trained on real data.")
    with gr.Tab("Sample", id="sample"):
        gr.Markdown(SAMPLE_HELP)
        with gr.Row():
            with gr.Column(scale=1, min_width=240):
                choices = [(registry.get(n).title, n) for n in tasks.sampleable_models()]
                models = gr.CheckboxGroup(
                    choices, value=[c[1] for c in choices], label="Models", elem_id="sample-models"
                )
                n = gr.Slider(1, tasks.MAX_SAMPLES, value=16, step=1, label="Samples per model", elem_id="sample-n")
                seed = gr.Number(0, label="Seed", elem_id="sample-seed")
                temperature = gr.Slider(0.05, 2.0, value=1.0, step=0.05, label="Temperature (prior scale)")
                truncation = gr.Slider(0.0, 4.0, value=0.0, step=0.1, label="Truncation (GAN latent; 0 = off)")
                nearest = gr.Checkbox(
                    False, label="Nearest training image (memorisation check)", elem_id="sample-nearest"
                )
                button = gr.Button("Sample", variant="primary", elem_id="sample-button")
            with gr.Column(scale=4):
                slot_outputs = []
                with gr.Row(equal_height=False):
                    for name in tasks.sampleable_models():
                        with gr.Column(visible=False, min_width=220, elem_id=f"slot-{name}") as column:
                            grid = gr.Image(
                                label=registry.get(name).title,
                                format="png",
                                buttons=["download"],
                                interactive=False,
                                elem_id=f"grid-{name}",
                                elem_classes="slot-image",
                            )
                            caption = gr.Markdown(elem_id=f"caption-{name}")
                            neighbours = gr.Image(
                                label="sample | nearest training image",
                                format="png",
                                buttons=["download"],
                                interactive=False,
                                visible=False,
                                elem_classes="slot-image",
                            )
                        slot_outputs += [column, grid, caption, neighbours]
                with gr.Accordion("Details (JSON)", open=False):
                    details = gr.JSON(elem_id="sample-json")
        # preprocess=False: raw values reach the task, which checks them all and says what is wrong in words.
        button.click(
            run_sample,
            [models, n, seed, temperature, truncation, nearest],
            slot_outputs + [details],
            api_name="sample",
            preprocess=False,
        )


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    demo.queue(default_concurrency_limit=2).launch(css=CSS, show_error=True)
