"""Pooling of frame-level features into utterance-level functionals."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np
from scipy import stats as _stats
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils.validation import check_is_fitted, validate_data

from .._param_validation import Satisfies

__all__ = ["FeatureStatistics"]


def _skew(x: np.ndarray) -> np.ndarray:
    # Constant bins (silence at the log floor) have no skew: report 0, not NaN.
    return np.nan_to_num(_stats.skew(x, axis=-1), nan=0.0)


def _kurtosis(x: np.ndarray) -> np.ndarray:
    return np.nan_to_num(_stats.kurtosis(x, axis=-1), nan=0.0)


def _slope(x: np.ndarray) -> np.ndarray:
    # Least-squares slope per frame: cov(t, x) / var(t), in closed form.
    t = np.arange(x.shape[-1], dtype=np.float64)
    t -= t.mean()
    denom = max(float(t @ t), 1.0)
    return (x @ t) / denom


_STATISTICS = {
    "mean": lambda x: x.mean(axis=-1),
    "std": lambda x: x.std(axis=-1),
    "min": lambda x: x.min(axis=-1),
    "max": lambda x: x.max(axis=-1),
    "median": lambda x: np.median(x, axis=-1),
    "range": lambda x: np.ptp(x, axis=-1),
    "iqr": lambda x: np.subtract(*np.percentile(x, [75, 25], axis=-1)),
    "skew": _skew,
    "kurtosis": _kurtosis,
    "slope": _slope,
}


def _is_statistics(val: Any) -> bool:
    """A statistic's name, or a non-empty sequence of names."""
    if isinstance(val, str):
        return val in _STATISTICS
    if not isinstance(val, Iterable):
        return False
    names = list(val)
    return bool(names) and all(isinstance(s, str) and s in _STATISTICS for s in names)


class FeatureStatistics(TransformerMixin, BaseEstimator):
    """Pool frame-level features over time into utterance-level functionals.

    Turns the ``(n_samples, n_bins, n_frames)`` output of an extractor into a 2-D
    ``(n_samples, n_bins * len(statistics))`` array, so a classic estimator (SVC,
    LogisticRegression) can follow an extractor in a :class:`~sklearn.pipeline.Pipeline`.
    Columns are grouped by statistic: all bins' means, then all bins' standard deviations...

    Parameters
    ----------
    statistics : sequence of str, default=("mean", "std")
        Functionals to compute for every bin, among "mean", "std", "min", "max",
        "median", "range", "iqr" (inter-quartile range), "skew", "kurtosis" and "slope"
        (least-squares linear trend per frame).

    Attributes
    ----------
    n_features_in_ : int
        Number of bins of the input (a 2-D input counts as one bin).
    feature_names_in_ : ndarray of str
        Names of the input bins, when the input had them (a DataFrame).

    See Also
    --------
    MFCCExtractor : a usual input, e.g. with ``deltas=1``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.svm import SVC
    >>> from sklearn_ser import FeatureStatistics, MFCCExtractor
    >>> rng = np.random.default_rng(0)
    >>> waves, labels = rng.normal(size=(6, 8000)), ["a", "b"] * 3
    >>> pipe = make_pipeline(MFCCExtractor(n_mfcc=13), FeatureStatistics(), SVC())
    >>> pipe.fit(waves, labels).predict(waves).shape
    (6,)
    >>> FeatureStatistics().fit(np.zeros((2, 3, 5))).get_feature_names_out()[[0, 3]]
    array(['x0_mean', 'x0_std'], dtype=object)
    """

    _parameter_constraints: ClassVar[dict] = {
        "statistics": [
            Satisfies(
                _is_statistics,
                f"one of {sorted(_STATISTICS)} or a non-empty sequence of them",
            ),
        ],
    }

    def __init__(self, statistics: Any = ("mean", "std")):
        self.statistics = statistics

    def _statistics(self) -> list[str]:
        """The names of the statistics, as a list (one name may be given alone)."""
        return [self.statistics] if isinstance(self.statistics, str) else list(self.statistics)

    def _validate(self, X: Any, reset: bool) -> np.ndarray:
        X = validate_data(self, X, reset=reset, allow_nd=True, dtype=[np.float64, np.float32])
        if X.ndim == 2:
            X = X[:, np.newaxis, :] if not reset else X
        if X.ndim not in (2, 3):
            raise ValueError(
                f"FeatureStatistics expects a 3-D array (n_samples, n_bins, n_frames), "
                f"got shape {X.shape}."
            )
        return X

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> FeatureStatistics:
        """Validate the statistics and record the number of input bins.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bins, n_frames) or (n_samples, n_frames)
            Frame-level features; a 2-D array is one bin per sample.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        X = self._validate(X, reset=True)
        self._n_bins = 1 if X.ndim == 2 else X.shape[1]
        # validate_data sets n_features_in_ to X.shape[1]: frames for 2-D input, bins for 3-D.
        self._input_ndim = X.ndim
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Pool every bin over time.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bins, n_frames) or (n_samples, n_frames)

        Returns
        -------
        X_pooled : ndarray of shape (n_samples, n_bins * len(statistics))
        """
        check_is_fitted(self, "_n_bins")
        stats = self._statistics()
        X = self._validate(X, reset=False)
        if X.ndim == 2:
            X = X[:, np.newaxis, :]
        if X.ndim != self._input_ndim + (1 if self._input_ndim == 2 else 0):
            raise ValueError(
                f"FeatureStatistics was fitted on {self._input_ndim}-D input and got "
                f"{X.ndim}-D input of shape {X.shape}."
            )
        if X.shape[-1] == 0:
            raise ValueError("FeatureStatistics: X has 0 frames.")
        return np.concatenate([_STATISTICS[s](X) for s in stats], axis=1).astype(
            X.dtype, copy=False
        )

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output names ``<bin>_<statistic>``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Names of the input bins, e.g. an extractor's ``get_feature_names_out()``.
            None uses ``feature_names_in_`` if defined, else ``x0, x1, ...``.

        Returns
        -------
        names : ndarray of str of shape (n_bins * len(statistics),)
        """
        check_is_fitted(self, "_n_bins")
        if input_features is None:
            input_features = getattr(
                self, "feature_names_in_", [f"x{i}" for i in range(self._n_bins)]
            )
        input_features = list(input_features)
        if self._input_ndim == 2:
            input_features = input_features[:1] if len(input_features) == 1 else ["x0"]
        if len(input_features) != self._n_bins:
            raise ValueError(
                f"input_features should have length {self._n_bins} (the number of bins), "
                f"got {len(input_features)}."
            )
        return np.asarray(
            [f"{b}_{s}" for s in self._statistics() for b in input_features], dtype=object
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
