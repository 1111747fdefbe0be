"""The recommended pipeline: a log-mel extractor followed by SERClassifier."""

from __future__ import annotations

from typing import Any

from sklearn.pipeline import Pipeline

from .features import FeatureStack, MelSpectrogramExtractor, MFCCExtractor, SpectrogramExtractor

__all__ = ["make_ser_pipeline"]

# The single inputs, and the combined ones as their parts (one encoder per part).
_SINGLE = ("logmel", "mfcc", "spectrogram")
_COMBINED = {"both": ("spectrogram", "mfcc"), "logmel+mfcc": ("logmel", "mfcc")}
_FEATURES = (*_SINGLE, *_COMBINED)
_BINS = {"logmel": 64, "mfcc": 40, "spectrogram": 512 // 2 + 1}


def _extractor(features: str, common: dict) -> Any:
    if features in _COMBINED:
        return FeatureStack([(part, _extractor(part, common)) for part in _COMBINED[features]])
    if features == "logmel":
        return MelSpectrogramExtractor(n_mels=_BINS["logmel"], **common)
    if features == "mfcc":
        return MFCCExtractor(n_mfcc=_BINS["mfcc"], **common)
    return SpectrogramExtractor(n_fft=2 * (_BINS["spectrogram"] - 1), **common)


def make_ser_pipeline(
    features: str = "logmel",
    *,
    sr: int = 16000,
    max_frames: int | None = 300,
    n_jobs: int | None = None,
    memory: Any = None,
    verbose: int = 0,
    **classifier_params: Any,
) -> Pipeline:
    """The recommended speech emotion recognition pipeline, with tuned defaults.

    ``extractor -> SERClassifier``: audio paths or waveforms in, emotions out, embeddings
    from ``transform``. The defaults were chosen on speaker folds for what generalises
    across speakers and corpora (see the benchmarks page of the docs):
    a 3 s log-mel map, the MultitaskCNN encoder trained 40 epochs with softmax
    cross-entropy and balanced class weights. Center loss and reconstruction, which did not
    raise accuracy on held-out speakers there, are one parameter away:
    ``make_ser_pipeline(lambda_center=0.01, lambda_recon=0.1)`` is Tripathi et al.'s
    multitask model.

    The classifier standardises every speaker's features with that speaker's own
    statistics (``standardize="speaker"``, no labels needed), and its ``fit``,
    ``predict``, ``predict_proba``, ``transform`` and ``score`` request the speakers
    through scikit-learn's metadata routing. Enable it once
    (``sklearn.set_config(enable_metadata_routing=True)``), then pass
    ``fit(X, y, groups=speakers)`` and ``predict(X, groups=speakers)``, to the pipeline or
    to a search or ``cross_validate`` around it. Without routing, the legacy
    ``fit(X, y, classifier__groups=speakers)`` and ``predict(X, groups=speakers)`` work
    too. Without ``groups`` every file is predicted alone: its label never depends on the
    other files of the call. :func:`~sklearn_ser.model_selection.evaluate_speaker_independent`
    passes the speakers in both modes.

    Parameters
    ----------
    features : {"logmel", "mfcc", "spectrogram", "both", "logmel+mfcc"}, default="logmel"
        The input of the network: a 64-band log-mel spectrogram, 40 MFCCs (of 64 mel
        bands), a log-power spectrogram, the spectrogram and MFCCs together (``"both"``,
        Tripathi et al.'s combined model: one encoder per feature kind), or log-mel and
        MFCCs together in the same way. Log-mel did best averaged over the speaker folds of
        two corpora; MFCCs were better on one (EMOVO) and worse on the other (EmoDB); the
        combined log-mel + MFCC model was a little better on EmoDB at 1.6 times the cost.
        See the benchmarks page.
    sr : int, default=16000
        Sampling rate audio is resampled to.
    max_frames : int or None, default=300
        Frames per utterance (10 ms each): 3 s. Longer utterances are cropped around their
        centre, shorter ones padded by repetition. None: the longest training utterance.
    n_jobs : int or None, default=None
        Parallel jobs of the feature extraction.
    memory : str, joblib.Memory or None, default=None
        Caches the fitted extractor (:class:`~sklearn.pipeline.Pipeline`'s ``memory``), so
        a grid search over classifier parameters computes features once.
    verbose : int, default=0
        Progress bar for extraction, epoch table for training.
    **classifier_params : dict
        Parameters of :class:`~sklearn_ser.SERClassifier` that override the defaults, e.g.
        ``max_epochs=60`` or ``device="cuda"``.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Steps ``"features"`` and ``"classifier"``.

    Examples
    --------
    >>> from sklearn_ser import make_ser_pipeline
    >>> pipe = make_ser_pipeline(max_epochs=5)
    >>> [name for name, _ in pipe.steps]
    ['features', 'classifier']
    >>> clf = pipe.named_steps["classifier"]
    >>> clf.standardize, clf.lambda_center, clf.lambda_recon
    ('speaker', 0.0, 0.0)

    Fitting and predicting with speaker ids through metadata routing (here, synthetic
    speech of four speakers):

    >>> import sklearn
    >>> from sklearn_ser.datasets import make_emotional_speech
    >>> data = make_emotional_speech(n_speakers=4, n_utterances=4, random_state=0)
    >>> speakers = data.speaker
    >>> pipe = make_ser_pipeline(max_epochs=2, module__channels=(4,), random_state=0)
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     pipe = pipe.fit(data.data, data.target, groups=speakers)
    ...     pipe.predict(data.data[:3], groups=speakers[:3]).shape
    (3,)
    >>> pipe.named_steps["classifier"].scaler_.n_speakers_
    4

    Each file alone, without speaker ids: the same label whatever else is in the call.

    >>> alone = pipe.predict(data.data[:1])
    >>> bool(alone[0] == pipe.predict(data.data[:3])[0])
    True
    """
    from ._estimator import SERClassifier

    if features not in _FEATURES:
        raise ValueError(
            f"make_ser_pipeline: features must be one of {_FEATURES}, got {features!r}."
        )
    common = {
        "sr": sr,
        "max_frames": max_frames,
        "pad_mode": "wrap",
        "n_jobs": n_jobs,
        "verbose": verbose,
    }
    extractor = _extractor(features, common)
    # Chosen on speaker folds (benchmarks/tune_defaults.py): speaker standardisation
    # helped; random windows, SpecAugment and label smoothing did not; MFCC input helped on
    # EMOVO but lost more on EmoDB.
    # Center loss and reconstruction tied with softmax alone there (and did no better on
    # EmoDB); without them training is a quarter faster, so they are opt-in here.
    params: dict[str, Any] = {
        "standardize": "speaker",
        "lambda_center": 0.0,
        "lambda_recon": 0.0,
        "max_epochs": 40,
        "lr": 2e-3,
        "class_weight": "balanced",
        "module__channels": (8, 16, 32, 64),
        "verbose": verbose,
    }
    if features in _COMBINED:
        params["module__input_splits"] = tuple(_BINS[part] for part in _COMBINED[features])
    params.update(classifier_params)
    return Pipeline(
        [("features", extractor), ("classifier", SERClassifier(**params))], memory=memory
    )
