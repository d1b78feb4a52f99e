"""genmodels: deep generative models you can explore in the browser (see DESIGN.md)."""

__version__ = "0.1.0"
