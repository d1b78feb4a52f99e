"""One module per tab: plain values in (str, int, float, PIL, numpy), plain values out; ValueError for bad input."""

from . import receptive
from .receptive import receptive_fields
from .sample import DEFAULT_MODELS, MAX_SAMPLES, sample_models, sample_stream, sampleable_models, summary

__all__ = [
    "DEFAULT_MODELS",
    "MAX_SAMPLES",
    "receptive",
    "receptive_fields",
    "sample_models",
    "sample_stream",
    "sampleable_models",
    "summary",
]
