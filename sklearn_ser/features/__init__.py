"""Feature transformers: audio in, ``(n_samples, n_bins, n_frames)`` arrays out.

:class:`PretrainedEmbeddingExtractor` needs the ``pretrained`` extra (transformers), which it
imports only when fitted.
"""

from ._base import BaseExtractor
from ._frame_descriptors import FrameDescriptorExtractor
from ._functionals import FrameAnalysis, FunctionalsExtractor, frame_descriptors, summarise_frames
from ._memmap import transform_to_memmap
from ._pooling import FeatureStatistics
from ._pretrained import PretrainedEmbeddingExtractor
from ._segment import Segmenter
from ._spectral import MelSpectrogramExtractor, MFCCExtractor, SpectrogramExtractor
from ._stack import FeatureStack

__all__ = [
    "BaseExtractor",
    "FeatureStack",
    "FeatureStatistics",
    "FrameAnalysis",
    "FrameDescriptorExtractor",
    "FunctionalsExtractor",
    "MFCCExtractor",
    "MelSpectrogramExtractor",
    "PretrainedEmbeddingExtractor",
    "Segmenter",
    "SpectrogramExtractor",
    "frame_descriptors",
    "summarise_frames",
    "transform_to_memmap",
]
