"""The recommended pipelines: functionals + linear model, the log-mel CNN, or both."""

from __future__ import annotations

import inspect
from typing import Any

import sklearn
from sklearn.pipeline import Pipeline
from sklearn.utils.metaestimators import available_if

from .features import (
    FeatureStack,
    FunctionalsExtractor,
    MelSpectrogramExtractor,
    MFCCExtractor,
    SpectrogramExtractor,
)

__all__ = ["SERPipeline", "make_ser_pipeline"]

# The single inputs, and the combined ones as their parts (one encoder per part).
_SINGLE = ("logmel", "mfcc", "spectrogram", "llds")
_COMBINED = {"both": ("spectrogram", "mfcc"), "logmel+mfcc": ("logmel", "mfcc")}
_FEATURES = (*_SINGLE, *_COMBINED)
_BINS = {"logmel": 64, "mfcc": 40, "spectrogram": 512 // 2 + 1}
_MODELS = ("functionals", "cnn", "fusion")
# Chosen on inner speaker folds of the training speakers of both corpora
# (benchmarks/tune_functionals.py): the inverse regularisation of the linear model.
_FUNCTIONALS_C = 0.03


def _extractor(features: str, common: dict) -> Any:
    if features in _COMBINED:
        return FeatureStack([(part, _extractor(part, common)) for part in _COMBINED[features]])
    if features == "llds":
        from .features import FrameDescriptorExtractor

        fixed = {"sr": common["sr"], "n_jobs": common["n_jobs"], "verbose": common["verbose"]}
        return FrameDescriptorExtractor(max_frames=common["max_frames"] or 300, **fixed)
    if features == "logmel":
        return MelSpectrogramExtractor(n_mels=_BINS["logmel"], **common)
    if features == "mfcc":
        return MFCCExtractor(n_mfcc=_BINS["mfcc"], **common)
    return SpectrogramExtractor(n_fft=2 * (_BINS["spectrogram"] - 1), **common)


# The methods whose keyword arguments a Pipeline without routing passes to its final step.
_PASSED_TO_FINAL = ("predict", "predict_proba", "predict_log_proba", "decision_function")


def _final_has(method: str):
    def check(self: Pipeline) -> bool:
        final = self.steps[-1][1]
        return final in (None, "passthrough") or hasattr(final, method)

    return check


def _all_transform(self: Pipeline) -> bool:
    return all(
        step in (None, "passthrough") or hasattr(step, "transform") for _, step in self.steps
    )


class SERPipeline(Pipeline):
    """A :class:`~sklearn.pipeline.Pipeline` that says how to pass speaker ids.

    :func:`make_ser_pipeline` returns this class. It is a scikit-learn pipeline in every
    respect but one: given ``groups=`` while scikit-learn's metadata routing is off, it
    raises a :class:`TypeError` that names the fix
    (``sklearn.set_config(enable_metadata_routing=True)``) instead of passing the speaker
    ids to the final step alone, where they would either fail deep inside it (a
    :class:`~sklearn.linear_model.LogisticRegression` takes no ``groups``) or miss the
    speaker standardisation in the middle of the pipeline. Where the final step is the
    only one that uses speakers (the CNN pipeline), ``groups=`` keeps working without
    routing.

    Parameters
    ----------
    steps : list of (str, estimator)
        As :class:`~sklearn.pipeline.Pipeline`.
    memory : str, joblib.Memory or None, default=None
        As :class:`~sklearn.pipeline.Pipeline`.
    verbose : bool, default=False
        As :class:`~sklearn.pipeline.Pipeline`.

    See Also
    --------
    make_ser_pipeline : the recommended pipelines, of this class.

    Examples
    --------
    >>> from sklearn_ser import make_ser_pipeline
    >>> from sklearn_ser.datasets import make_emotional_speech
    >>> data = make_emotional_speech(n_speakers=2, n_utterances=2, duration=0.5, random_state=0)
    >>> pipe = make_ser_pipeline().fit(data.data, data.target, scaler__groups=data.speaker)
    >>> pipe.predict(data.data, groups=data.speaker)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: SERPipeline.predict: groups= ... sklearn.set_config(enable_metadata_routing=True) ...
    >>> import sklearn
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     pipe.predict(data.data, groups=data.speaker).shape
    (16,)
    """

    def _check_groups(self, method: str, params: dict) -> None:
        if "groups" not in params or sklearn.get_config()["enable_metadata_routing"]:
            return
        from .ensemble import wants_groups

        # Without routing a pipeline hands the keyword arguments of its predict methods to
        # the final step only (and drops or refuses those of the others): right where that
        # step is the only one that uses the speakers (the CNN pipeline), wrong otherwise.
        users = [
            name
            for name, step in self.steps
            if step not in (None, "passthrough") and wants_groups(step, "fit")
        ]
        if method in _PASSED_TO_FINAL:
            final = self.steps[-1][1]
            final_method = getattr(final, method, None)
            takes = final_method is not None and (
                "groups" in inspect.signature(final_method).parameters
            )
            if takes and users == [self.steps[-1][0]]:
                return
        if not method.startswith("fit"):
            alternative = "or leave groups out to predict each file alone"
        elif users:
            alternative = f"or pass them by step name ({', '.join(f'{n}__groups=' for n in users)})"
        else:
            alternative = "or leave groups out"
        raise TypeError(
            f"{type(self).__name__}.{method}: groups= reaches the steps that use speaker ids "
            "only through metadata routing, which is off. Enable it once with "
            "sklearn.set_config(enable_metadata_routing=True) (or within "
            f"sklearn.config_context(enable_metadata_routing=True)), {alternative}."
        )

    def fit(self, X: Any, y: Any = None, **params: Any) -> SERPipeline:
        """Fit every step; see :meth:`sklearn.pipeline.Pipeline.fit`.

        Parameters
        ----------
        X : iterable
            Training audio.
        y : iterable, default=None
            Labels.
        **params : dict
            ``groups=`` with metadata routing on, or ``<step>__<param>`` without.

        Returns
        -------
        self : SERPipeline
        """
        self._check_groups("fit", params)
        return super().fit(X, y, **params)

    @available_if(_final_has("fit_transform"))
    def fit_transform(self, X: Any, y: Any = None, **params: Any) -> Any:
        """Fit every step and transform; see :meth:`sklearn.pipeline.Pipeline.fit_transform`.

        Parameters
        ----------
        X : iterable
            Training audio.
        y : iterable, default=None
            Labels.
        **params : dict
            As :meth:`fit`.

        Returns
        -------
        Xt : ndarray
        """
        self._check_groups("fit_transform", params)
        return super().fit_transform(X, y, **params)

    @available_if(_final_has("predict"))
    def predict(self, X: Any, **params: Any) -> Any:
        """Predict labels; see :meth:`sklearn.pipeline.Pipeline.predict`.

        Parameters
        ----------
        X : iterable
            Audio.
        **params : dict
            ``groups=`` (speaker of each file) with metadata routing on.

        Returns
        -------
        y_pred : ndarray
        """
        self._check_groups("predict", params)
        return super().predict(X, **params)

    @available_if(_final_has("predict_proba"))
    def predict_proba(self, X: Any, **params: Any) -> Any:
        """Class probabilities; see :meth:`sklearn.pipeline.Pipeline.predict_proba`.

        Parameters
        ----------
        X : iterable
            Audio.
        **params : dict
            ``groups=`` (speaker of each file) with metadata routing on.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        self._check_groups("predict_proba", params)
        return super().predict_proba(X, **params)

    @available_if(_final_has("predict_log_proba"))
    def predict_log_proba(self, X: Any, **params: Any) -> Any:
        """Log class probabilities; see :meth:`sklearn.pipeline.Pipeline.predict_log_proba`.

        Parameters
        ----------
        X : iterable
            Audio.
        **params : dict
            ``groups=`` (speaker of each file) with metadata routing on.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        self._check_groups("predict_log_proba", params)
        return super().predict_log_proba(X, **params)

    @available_if(_final_has("decision_function"))
    def decision_function(self, X: Any, **params: Any) -> Any:
        """Decision function; see :meth:`sklearn.pipeline.Pipeline.decision_function`.

        Parameters
        ----------
        X : iterable
            Audio.
        **params : dict
            ``groups=`` (speaker of each file) with metadata routing on.

        Returns
        -------
        scores : ndarray
        """
        self._check_groups("decision_function", params)
        return super().decision_function(X, **params)

    @available_if(_all_transform)
    def transform(self, X: Any, **params: Any) -> Any:
        """Transform by every step; see :meth:`sklearn.pipeline.Pipeline.transform`.

        Parameters
        ----------
        X : iterable
            Audio.
        **params : dict
            ``groups=`` (speaker of each file) with metadata routing on.

        Returns
        -------
        Xt : ndarray
        """
        self._check_groups("transform", params)
        return super().transform(X, **params)

    @available_if(_final_has("score"))
    def score(self, X: Any, y: Any = None, sample_weight: Any = None, **params: Any) -> float:
        """Score of the final step; see :meth:`sklearn.pipeline.Pipeline.score`.

        Parameters
        ----------
        X : iterable
            Audio.
        y : iterable, default=None
            True labels.
        sample_weight : array-like, default=None
            Sample weights.
        **params : dict
            ``groups=`` (speaker of each file) with metadata routing on.

        Returns
        -------
        score : float
        """
        self._check_groups("score", params)
        return super().score(X, y, sample_weight=sample_weight, **params)


def make_ser_pipeline(
    model: str = "functionals",
    *,
    features: str | None = None,
    sr: int = 16000,
    max_frames: int | None = 300,
    n_jobs: int | None = None,
    memory: Any = None,
    random_state: Any = 0,
    augment: Any = False,
    verbose: int = 0,
    **classifier_params: Any,
) -> Any:
    """The recommended speech emotion recognition pipelines, with tuned defaults.

    Audio paths or waveforms in, emotions out. Three systems, chosen by ``model``:

    * ``"functionals"`` (default, the library's most accurate model on speakers never
      heard; about level with openSMILE's ComParE set through the same scaler and
      classifier):
      :class:`~sklearn_ser.FunctionalsExtractor` (the ``"extended"`` set of acoustic
      functionals over each whole utterance) ->
      :class:`~sklearn_ser.SpeakerStandardScaler` trained with random speaker context ->
      :class:`~sklearn.linear_model.LogisticRegression`. Steps ``"features"``,
      ``"scaler"``, ``"classifier"``. Trains in seconds.
    * ``"cnn"``: a 3 s log-mel map (long files covered whole, ``crop="cover"``) ->
      :class:`~sklearn_ser.SERClassifier`, the MultitaskCNN encoder trained 40 epochs with
      softmax cross-entropy and balanced class weights, each speaker standardised by its
      own statistics. Steps ``"features"`` and ``"classifier"``; ``transform`` gives
      embeddings. Center loss and reconstruction, which did not raise accuracy on held-out
      speakers, are one parameter away: ``make_ser_pipeline("cnn", lambda_center=0.01,
      lambda_recon=0.1)`` is Tripathi et al.'s multitask model.
    * ``"fusion"``: both, their probabilities averaged by a
      :class:`~sklearn_ser.ensemble.LateFusionClassifier` (members ``"functionals"`` and
      ``"cnn"``).

    The defaults were chosen on speaker folds for what generalises across speakers and
    corpora; the benchmarks page of the docs has every figure, under both protocols.

    **Speakers.** Every model standardises each speaker's features with that speaker's
    own statistics when it is told who the speakers are, and requests them through
    scikit-learn's metadata routing in ``fit``, ``predict``, ``predict_proba`` and
    ``score``. Enable it once (``sklearn.set_config(enable_metadata_routing=True)``), then
    pass ``fit(X, y, groups=speakers)`` and ``predict(X, groups=speakers)``, to the
    pipeline or to a search or ``cross_validate`` around it. Without routing, the
    ``"fusion"`` model takes ``groups=`` directly, the ``"cnn"`` pipeline
    ``fit(X, y, classifier__groups=speakers)``, and the ``"functionals"`` pipeline
    ``fit(X, y, scaler__groups=speakers)`` (its ``predict`` needs routing for speaker
    context). **Without** ``groups`` every file is predicted alone: its label never
    depends on the other files of the call, and the models are trained to work that way
    too (file alone), only better with context.

    Parameters
    ----------
    model : {"functionals", "cnn", "fusion"}, default="functionals"
        The system, see above.
    features : {"logmel", "mfcc", "spectrogram", "llds", "both", "logmel+mfcc"} or None, \
default=None
        The input of the CNN (``model="cnn"`` or ``"fusion"``; None means ``"logmel"``):
        a 64-band log-mel spectrogram, 40 MFCCs (of 64 mel bands), a log-power
        spectrogram, the spectrogram and MFCCs together (``"both"``, Tripathi et al.'s
        combined model: one encoder per feature kind), or log-mel and MFCCs together in
        the same way; or ``"llds"``, the frame-level descriptors of the functionals
        (pitch, voicing, level, spectral shape; speech frames only:
        :class:`~sklearn_ser.features.FrameDescriptorExtractor`). Log-mel did best
        averaged over the speaker folds of two corpora.
    sr : int, default=16000
        Sampling rate audio is resampled to (and that of waveform arrays).
    max_frames : int or None, default=300
        Frames per utterance of the CNN's input (10 ms each): 3 s. Longer files are
        reduced to their speech, then to evenly spaced pieces of it; shorter ones padded
        by repetition. The functionals always cover the whole utterance.
    n_jobs : int or None, default=None
        Parallel jobs of the feature extraction.
    memory : str, joblib.Memory or None, default=None
        Caches the fitted extractor (:class:`~sklearn.pipeline.Pipeline`'s ``memory``), so
        a grid search over classifier parameters computes features once.
    random_state : int, RandomState instance or None, default=0
        Seeds everything random in training: the scaler's random speaker contexts, the
        linear model, the network's initial weights and batches. The default 0 makes two
        identical calls give the same model (on the same machine and library versions);
        None draws fresh randomness at every fit.
    augment : bool or AudioAugmenter, default=False
        Multi-condition training, for recordings unlike the training corpus (noise,
        telephone, rooms, codecs, level; see :ref:`robustness`): True wraps the model in
        an :class:`~sklearn_ser.augment.AugmentedClassifier` that trains on the audio plus
        two perturbed copies of each file (:class:`~sklearn_ser.augment.AudioAugmenter`
        with the default perturbations, seeded by ``random_state``), each copy with its
        speaker; or pass your own augmenter. Needs the ``augment`` extra.
    verbose : int, default=0
        Progress bar for extraction, epoch table for training.
    **classifier_params : dict
        Parameters of the classifier that override the defaults: of
        :class:`~sklearn.linear_model.LogisticRegression` for ``"functionals"`` (e.g.
        ``C=0.1``; its ``random_state`` also seeds the scaler's random speaker contexts),
        of :class:`~sklearn_ser.SERClassifier` for ``"cnn"`` and ``"fusion"`` (e.g.
        ``max_epochs=60`` or ``device="cuda"``).

    Returns
    -------
    model : SERPipeline, LateFusionClassifier or AugmentedClassifier
        A pipeline for ``"functionals"`` and ``"cnn"`` (a scikit-learn
        :class:`~sklearn.pipeline.Pipeline` that names the fix when ``groups=`` is given
        while metadata routing is off, see :class:`SERPipeline`), a fusion of both for
        ``"fusion"``; with ``augment``, that model inside an
        :class:`~sklearn_ser.augment.AugmentedClassifier` (``estimator_`` once fitted).

    Examples
    --------
    >>> from sklearn_ser import make_ser_pipeline
    >>> pipe = make_ser_pipeline("cnn", max_epochs=5)
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
    >>> pipe = make_ser_pipeline("cnn", max_epochs=2, module__channels=(4,), random_state=0)
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
    if augment is not False:
        return _augmented(
            make_ser_pipeline(
                model,
                features=features,
                sr=sr,
                max_frames=max_frames,
                n_jobs=n_jobs,
                memory=memory,
                random_state=random_state,
                verbose=verbose,
                **classifier_params,
            ),
            augment,
            sr,
            n_jobs,
            random_state,
            verbose,
        )
    if model not in _MODELS:
        raise ValueError(
            f"make_ser_pipeline: model must be one of {_MODELS}, got {model!r} (the CNN's "
            "input is chosen by features=, e.g. make_ser_pipeline('cnn', features='mfcc'))."
        )
    if model == "functionals":
        if features is not None:
            raise ValueError(
                f"make_ser_pipeline: features={features!r} chooses the CNN's input; the "
                "functionals model computes its own. Use model='cnn' or 'fusion'."
            )
        return _functionals_pipeline(sr, n_jobs, memory, random_state, verbose, classifier_params)
    features = "logmel" if features is None else features
    cnn = _cnn_pipeline(
        features, sr, max_frames, n_jobs, memory, random_state, verbose, classifier_params
    )
    if model == "cnn":
        return cnn
    from .ensemble import LateFusionClassifier

    functionals = _functionals_pipeline(sr, n_jobs, memory, random_state, verbose, {})
    return LateFusionClassifier([("functionals", functionals), ("cnn", cnn)])


def _augmented(
    model: Any, augment: Any, sr: int, n_jobs: int | None, random_state: Any, verbose: int
) -> Any:
    from .augment import AudioAugmenter, AugmentedClassifier

    if augment is True:
        # Two copies per file (the augmenter's default): averaged over the speaker folds
        # of both corpora, more accurate than one on perturbed and on clean files
        # (benchmarks/robustness.py --select).
        augment = AudioAugmenter(
            sr=sr,
            random_state=random_state,
            n_jobs=n_jobs,
            verbose=verbose,
        )
    elif not hasattr(augment, "fit_resample"):
        raise ValueError(
            "make_ser_pipeline: augment must be True, False or an AudioAugmenter (perturbed "
            f"copies of the training audio), got {augment!r}. The CNN's own augmentation of "
            "its input (e.g. SpecAugment) is its classifier's: "
            "make_ser_pipeline('cnn').set_params(classifier__augment=...)."
        )
    return AugmentedClassifier(model, augment)


def _functionals_pipeline(
    sr: int,
    n_jobs: int | None,
    memory: Any,
    random_state: Any,
    verbose: int,
    classifier_params: dict,
) -> SERPipeline:
    from sklearn.linear_model import LogisticRegression

    from .preprocessing import SpeakerStandardScaler

    params = {
        "C": _FUNCTIONALS_C,
        "max_iter": 2000,
        "random_state": random_state,
        **classifier_params,
    }
    return SERPipeline(
        [
            ("features", FunctionalsExtractor(sr=sr, n_jobs=n_jobs, verbose=verbose)),
            # Random speaker context in training: one model for files alone and in context.
            (
                "scaler",
                SpeakerStandardScaler(training_context="random", random_state=random_state),
            ),
            ("classifier", LogisticRegression(**params)),
        ],
        memory=memory,
    )


def _cnn_pipeline(
    features: str,
    sr: int,
    max_frames: int | None,
    n_jobs: int | None,
    memory: Any,
    random_state: Any,
    verbose: int,
    classifier_params: dict,
) -> SERPipeline:
    from ._estimator import SERClassifier

    if features not in _FEATURES:
        raise ValueError(
            f"make_ser_pipeline: features must be one of {_FEATURES}, got {features!r}."
        )
    common = {
        "sr": sr,
        "max_frames": max_frames,
        "pad_mode": "wrap",
        "crop": "cover",
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
        "random_state": random_state,
        "verbose": verbose,
    }
    if features in _COMBINED:
        params["module__input_splits"] = tuple(_BINS[part] for part in _COMBINED[features])
    params.update(classifier_params)
    return SERPipeline(
        [("features", extractor), ("classifier", SERClassifier(**params))], memory=memory
    )
