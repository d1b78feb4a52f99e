"""One module per tab: Gradio layout and wiring only, over `genmodels.tasks` (no tensors, no model code here)."""
