"""One module per tab: plain values in (str, int, float, PIL, numpy), plain values out; ValueError for bad input."""

from . import playground, receptive, sample, status, translate
from .receptive import receptive_fields
from .sample import DEFAULT_MODELS, MAX_SAMPLES, sample_models, sample_stream, sampleable_models, summary

__all__ = [
    "DEFAULT_MODELS",
    "MAX_SAMPLES",
    "playground",
    "receptive",
    "receptive_fields",
    "sample",
    "sample_models",
    "sample_stream",
    "status",
    "sampleable_models",
    "summary",
    "translate",
]
