"""One module per model family: its training loop, default config and epochs, metrics, badge and capabilities.

Each registry entry points to a `Recipe` defined here; `train.py`, `evaluate.py` and the app read the recipe and
never branch on a family.
"""

from .base import FD_SAMPLES, HeldOut, Recipe

__all__ = ["FD_SAMPLES", "HeldOut", "Recipe"]
