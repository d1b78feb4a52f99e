"""One module per tab: plain values in (str, int, float, PIL, numpy), plain values out; ValueError for bad input."""

from .sample import MAX_SAMPLES, sample_models, sampleable_models, summary

__all__ = ["MAX_SAMPLES", "sample_models", "sampleable_models", "summary"]
