"""AugmentedClassifier: a model trained on augmented audio, the copies' speakers routed."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ..ensemble import call_with_groups
from ._augmenter import AudioAugmenter

__all__ = ["AugmentedClassifier"]


def _estimator_has(method: str):
    def check(self: AugmentedClassifier) -> bool:
        est = getattr(self, "estimator_", self.estimator)
        return hasattr(est, method)

    return check


class AugmentedClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Train a classifier of audio on the audio plus perturbed copies of it.

    :meth:`fit` augments the training audio with ``augmenter`` (an
    :class:`AudioAugmenter`), then fits a clone of ``estimator`` on the originals and the
    copies, handing the copies' speaker ids to every step that asks for them (e.g. a
    :class:`~sklearn_ser.preprocessing.SpeakerStandardScaler`: each copy keeps its
    speaker, a speed copy gets a pseudo-speaker). Prediction is the fitted estimator's
    alone: nothing is augmented at test time.

    Why a wrapper and not a pipeline step: scikit-learn's pipelines keep the number of
    samples, and imbalanced-learn's (which allows ``fit_resample`` steps) routes ``groups``
    to the later steps as they were given, so a speaker-aware step after the augmenter
    would receive ids of the wrong length.

    Read more in the :ref:`User Guide <robustness>`.

    Parameters
    ----------
    estimator : estimator object
        A classifier of audio (paths or waveforms in), e.g.
        :func:`~sklearn_ser.make_ser_pipeline`; fitted as a clone.
    augmenter : AudioAugmenter or None, default=None
        The augmenter, fitted as a clone; None means ``AudioAugmenter()`` with its
        defaults. Its ``sr`` should be the estimator's.

    Attributes
    ----------
    estimator_ : estimator object
        The estimator fitted on the augmented data.
    augmenter_ : AudioAugmenter
        The fitted augmenter (``conditions_`` tells what each training utterance was).
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    See Also
    --------
    AudioAugmenter : the augmentation, also usable as an imbalanced-learn sampler.

    Examples
    --------
    >>> from sklearn_ser import make_ser_pipeline
    >>> from sklearn_ser.augment import AudioAugmenter, AugmentedClassifier
    >>> from sklearn_ser.datasets import make_emotional_speech
    >>> data = make_emotional_speech(n_speakers=3, n_utterances=1, random_state=0)
    >>> model = AugmentedClassifier(
    ...     make_ser_pipeline(),
    ...     AudioAugmenter(["gain", "noise", "babble"], n_copies=1, random_state=0),
    ... )
    >>> model = model.fit(data.data, data.target, groups=data.speaker)
    >>> model.augmenter_.conditions_.shape
    (24,)
    >>> model.estimator_.named_steps["scaler"].n_speakers_
    3
    >>> model.predict(data.data[:2]).shape
    (2,)
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimator": [HasMethods(["fit", "predict"])],
        "augmenter": [HasMethods(["fit_resample"]), None],
    }
    __metadata_request__fit: ClassVar[dict] = {"groups": True}
    __metadata_request__predict: ClassVar[dict] = {"groups": True}
    __metadata_request__predict_proba: ClassVar[dict] = {"groups": True}
    __metadata_request__score: ClassVar[dict] = {"groups": True}

    def __init__(self, estimator: Any, augmenter: Any = None):
        self.estimator = estimator
        self.augmenter = augmenter

    def fit(self, X: Any, y: Any, groups: Any = None) -> AugmentedClassifier:
        """Augment ``X`` and fit the estimator on the originals and their copies.

        Parameters
        ----------
        X : sequence of paths or waveforms
            Training audio.
        y : array-like of shape (n_samples,)
            Labels.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each utterance: for babble from other speakers, and for the
            estimator's steps that ask for speaker ids.

        Returns
        -------
        self : AugmentedClassifier
        """
        self._validate_params()
        augmenter = AudioAugmenter() if self.augmenter is None else self.augmenter
        self.augmenter_ = clone(augmenter)
        X_res, y_res = self.augmenter_.fit_resample(X, y, groups=groups)
        groups_res = getattr(self.augmenter_, "groups_", None)
        self.estimator_ = call_with_groups(
            clone(self.estimator), "fit", X_res, y_res, groups=groups_res
        )
        self.classes_ = self.estimator_.classes_
        return self

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X: Any, groups: Any = None) -> np.ndarray:
        """Class probabilities of the fitted estimator (``groups``: speaker context)."""
        check_is_fitted(self, "estimator_")
        return call_with_groups(self.estimator_, "predict_proba", X, groups=groups)

    def predict(self, X: Any, groups: Any = None) -> np.ndarray:
        """Labels of the fitted estimator (``groups``: speaker context)."""
        check_is_fitted(self, "estimator_")
        return call_with_groups(self.estimator_, "predict", X, groups=groups)

    def score(self, X: Any, y: Any, sample_weight: Any = None, groups: Any = None) -> float:
        """Accuracy (WA) of :meth:`predict`."""
        from sklearn.metrics import accuracy_score

        return float(accuracy_score(y, self.predict(X, groups=groups), sample_weight=sample_weight))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
