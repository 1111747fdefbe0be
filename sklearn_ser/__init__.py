"""sklearn-ser: speech emotion recognition for scikit-learn.

Feature transformers (librosa-compatible spectrograms, log-mel spectrograms and MFCCs), a
skorch-trained multitask CNN with center loss and reconstruction, 3D CNNs over spectrogram
segments, corpus loaders and speaker-independent evaluation.

Public names are imported lazily, so ``import sklearn_ser`` (and the command line) does not
pay for torch until a model is used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "load_audio": "._audio",
    "audio_durations": "._audio",
    "as_audio_sources": "._audio",
    "detect_speech": "._audio",
    "speech_activity": "._audio",
    "has_speech": "._audio",
    "NoSpeechWarning": "._audio",
    "predict_timeline": "._timeline",
    "Timeline": "._timeline",
    "SpectrogramExtractor": ".features",
    "MelSpectrogramExtractor": ".features",
    "MFCCExtractor": ".features",
    "FeatureStatistics": ".features",
    "FunctionalsExtractor": ".features",
    "PretrainedEmbeddingExtractor": ".features",
    "FeatureStack": ".features",
    "Segmenter": ".features",
    "transform_to_memmap": ".features",
    "SpeakerStandardScaler": ".preprocessing",
    "LateFusionClassifier": ".ensemble",
    "SERClassifier": "._estimator",
    "make_ser_pipeline": "._pipeline",
    "SERPipeline": "._pipeline",
    "save_model": "._persistence",
    "load_model": "._persistence",
}
_SUBMODULES = {
    "augment",
    "datasets",
    "ensemble",
    "features",
    "metrics",
    "model_selection",
    "models",
    "plotting",
    "preprocessing",
}

__all__ = sorted([*_LAZY, *_SUBMODULES, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
