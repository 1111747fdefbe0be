"""Late fusion of classifiers that see different views of the same recordings."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.metrics import accuracy_score
from sklearn.utils import Bunch
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ._groups import call_with_groups, wants_groups

__all__ = ["LateFusionClassifier", "call_with_groups", "wants_groups"]


class LateFusionClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Average the class probabilities of several classifiers, speaker ids passed to all.

    Each member is usually a whole pipeline from audio, e.g. a CNN over log-mel
    spectrograms and an SVM over acoustic functionals: two views of the same recordings
    whose errors differ, so that their averaged probabilities are right more often than
    either alone (soft voting, as :class:`~sklearn.ensemble.VotingClassifier`).

    Unlike :class:`~sklearn.ensemble.VotingClassifier`, whose ``predict`` takes no
    metadata, this classifier hands the speaker ids ``groups`` of :meth:`fit`,
    :meth:`predict`, :meth:`predict_proba` and :meth:`score` to every step of every member
    that asks for them (through scikit-learn's metadata routing, enabled for the members'
    calls whatever the global setting), e.g. a
    :class:`~sklearn_ser.preprocessing.SpeakerStandardScaler` in the middle of a
    pipeline. Without ``groups`` every sample is predicted on its own.

    Parameters
    ----------
    estimators : list of (str, estimator)
        The members: names and classifiers with ``predict_proba``, fitted as clones.
    weights : array-like of shape (n_estimators,) or None, default=None
        Weight of each member's probabilities; None weighs them equally.

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted members.
    named_estimators_ : Bunch
        The fitted members by name.
    classes_ : ndarray of shape (n_classes,)
        Class labels, the same for every member.

    See Also
    --------
    sklearn.ensemble.VotingClassifier : soft voting without speaker ids at prediction.
    sklearn_ser.make_ser_pipeline : the recommended system, built on this class.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_ser.ensemble import LateFusionClassifier
    >>> from sklearn_ser.preprocessing import SpeakerStandardScaler
    >>> rng = np.random.default_rng(0)
    >>> speakers = np.repeat([0, 1, 2], 20)
    >>> y = np.tile(["calm", "angry"], 30)
    >>> X = rng.normal(size=(60, 4)) + (y == "angry")[:, None] + 3 * speakers[:, None]
    >>> fusion = LateFusionClassifier([
    ...     ("lr", LogisticRegression()),
    ...     ("per_speaker", make_pipeline(SpeakerStandardScaler(), LogisticRegression())),
    ... ]).fit(X, y, groups=speakers)
    >>> fusion.predict_proba(X[:2], groups=speakers[:2]).shape
    (2, 2)
    """

    __metadata_request__fit: ClassVar[dict] = {"groups": True}
    __metadata_request__predict: ClassVar[dict] = {"groups": True}
    __metadata_request__predict_proba: ClassVar[dict] = {"groups": True}
    __metadata_request__score: ClassVar[dict] = {"groups": True}

    _parameter_constraints: ClassVar[dict] = {
        "estimators": [list],
        "weights": ["array-like", None],
    }

    def __init__(self, estimators: list, *, weights: Any = None):
        self.estimators = estimators
        self.weights = weights

    def _check_members(self) -> None:
        if not self.estimators:
            raise ValueError("LateFusionClassifier: estimators must be a non-empty list.")
        names = []
        for item in self.estimators:
            if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
                raise ValueError(
                    "LateFusionClassifier: estimators must be a list of (name, estimator) "
                    f"tuples, got {item!r}."
                )
            name, est = item
            if not HasMethods(["fit", "predict_proba"]).is_satisfied_by(est):
                raise ValueError(
                    f"LateFusionClassifier: estimator {name!r} must have fit and "
                    f"predict_proba, got {type(est).__name__}."
                )
            names.append(name)
        if len(set(names)) != len(names):
            raise ValueError(f"LateFusionClassifier: estimator names must be unique, got {names}.")
        if self.weights is not None:
            weights = np.asarray(self.weights, dtype=float)
            if weights.shape != (len(names),) or np.any(weights < 0) or weights.sum() <= 0:
                raise ValueError(
                    f"LateFusionClassifier: weights must be {len(names)} non-negative numbers "
                    f"with a positive sum, got {self.weights!r}."
                )

    def fit(self, X: Any, y: Any, groups: Any = None) -> LateFusionClassifier:
        """Fit every member on ``X``.

        Parameters
        ----------
        X : array-like or list
            Input of the members, e.g. audio paths.
        y : array-like of shape (n_samples,)
            Labels.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample, for the members' steps that ask for it.

        Returns
        -------
        self : LateFusionClassifier
        """
        self._validate_params()
        self._check_members()
        check_classification_targets(y)
        self.estimators_ = [
            call_with_groups(clone(est), "fit", X, y, groups=groups) for _, est in self.estimators
        ]
        classes = [np.asarray(est.classes_) for est in self.estimators_]
        if any(not np.array_equal(c, classes[0]) for c in classes[1:]):
            raise ValueError(
                "LateFusionClassifier: the members learned different classes: "
                f"{[c.tolist() for c in classes]}."
            )
        self.classes_ = classes[0]
        self.named_estimators_ = Bunch(
            **{name: est for (name, _), est in zip(self.estimators, self.estimators_)}
        )
        return self

    def predict_proba(self, X: Any, groups: Any = None) -> np.ndarray:
        """Weighted average of the members' class probabilities.

        Parameters
        ----------
        X : array-like or list
            Input of the members.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample; None: every sample on its own.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self, "estimators_")
        probas = [
            call_with_groups(est, "predict_proba", X, groups=groups) for est in self.estimators_
        ]
        return np.average(np.stack(probas), axis=0, weights=self.weights)

    def predict(self, X: Any, groups: Any = None) -> np.ndarray:
        """Class with the highest averaged probability.

        Parameters
        ----------
        X : array-like or list
            Input of the members.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample; None: every sample on its own.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X, groups=groups)
        return self.classes_[proba.argmax(axis=1)]

    def score(self, X: Any, y: Any, sample_weight: Any = None, groups: Any = None) -> float:
        """Accuracy (WA); use :func:`~sklearn_ser.metrics.unweighted_accuracy` for UA.

        Parameters
        ----------
        X : array-like or list
            Input of the members.
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample.

        Returns
        -------
        score : float
        """
        return float(accuracy_score(y, self.predict(X, groups), sample_weight=sample_weight))

    @property
    def n_features_in_(self) -> int:
        """Number of features seen by the first member in :meth:`fit`."""
        check_is_fitted(self, "estimators_")
        return self.estimators_[0].n_features_in_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags
