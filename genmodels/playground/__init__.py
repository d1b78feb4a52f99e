"""The 2D playground: densities and divergences you can watch. Pure torch/numpy; figures in `figures.py`."""
