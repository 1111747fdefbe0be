"""Feature transformers: audio in, ``(n_samples, n_bins, n_frames)`` arrays out."""

from ._base import BaseExtractor
from ._functionals import FunctionalsExtractor
from ._memmap import transform_to_memmap
from ._pooling import FeatureStatistics
from ._segment import Segmenter
from ._spectral import MelSpectrogramExtractor, MFCCExtractor, SpectrogramExtractor
from ._stack import FeatureStack

__all__ = [
    "BaseExtractor",
    "FeatureStack",
    "FeatureStatistics",
    "FunctionalsExtractor",
    "MFCCExtractor",
    "MelSpectrogramExtractor",
    "Segmenter",
    "SpectrogramExtractor",
    "transform_to_memmap",
]
