"""Corpus loaders, synthetic emotional speech and multi-corpus pooling.

Loaders read the public emotional speech corpora in the layout they are distributed in and
return a :class:`~sklearn.utils.Bunch` whose ``filenames`` can be used directly as ``X``,
``target`` as ``y`` and ``speaker`` as ``groups`` for speaker-independent cross-validation.
"""

from ._base import BASIC_EMOTIONS, EMOTIONS, get_data_home
from ._combine import combine_corpora
from ._cremad import load_cremad
from ._emodb import load_emodb
from ._emovo import load_emovo
from ._iemocap import load_iemocap
from ._ravdess import load_ravdess
from ._savee import load_savee
from ._synthetic import make_emotional_speech
from ._tess import load_tess

__all__ = [
    "BASIC_EMOTIONS",
    "EMOTIONS",
    "combine_corpora",
    "get_data_home",
    "load_cremad",
    "load_emodb",
    "load_emovo",
    "load_iemocap",
    "load_ravdess",
    "load_savee",
    "load_tess",
    "make_emotional_speech",
]
