"""Per-speaker standardisation: the one place where speaker statistics are computed."""

from __future__ import annotations

import warnings
from numbers import Real
from typing import Any, ClassVar, NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._groups import check_groups

__all__ = [
    "DEFAULT_PRIOR_UTTERANCES",
    "SpeakerMoments",
    "SpeakerStandardScaler",
    "SpeakerStatistics",
]

_CHUNK = 256  # samples per pass when summing, so a memory map is never loaded whole
_MIN_SCALE = 1e-6
# Prior utterances of a speaker's spread, and the least of its mean's, with "auto".
_SCALE_PRIOR = 5.0  # = DEFAULT_PRIOR_UTTERANCES
_MAX_PRIOR = 1e4


class SpeakerStatistics(NamedTuple):
    """Each sample's speaker (``codes``, rows of ``mean`` and ``scale``) and its statistics.

    ``mean`` and ``scale`` have shape ``(n_speakers, n_features)``: standardise sample ``i``
    by ``(X[i] - mean[codes[i]]) / scale[codes[i]]`` along the feature axis.
    """

    codes: np.ndarray
    mean: np.ndarray
    scale: np.ndarray


class SpeakerMoments(NamedTuple):
    """Sufficient statistics of each group's features: what speaker statistics are made of.

    Computed by :meth:`SpeakerStandardScaler.moments` in one pass over ``X``; turned into
    each group's shrunk statistics by :meth:`SpeakerStandardScaler.statistics_from_moments`.
    Moments of the same groups add up, so statistics over data seen in pieces (the windows
    of a long recording, batch by batch) are those of the whole (:meth:`merge`).

    ``codes`` has shape ``(n_samples,)``: the group (row of the other fields) of each
    sample. ``total`` and ``total_sq`` have shape ``(n_groups, n_features)``: the sums of
    the values of each feature and of their squares (float64); ``count`` has shape
    ``(n_groups,)``: how many values of one feature each group summed.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.preprocessing import SpeakerStandardScaler
    >>> m = SpeakerStandardScaler.moments(np.array([[1.0], [3.0], [10.0]]), [0, 0, 1])
    >>> m.total.ravel().tolist(), m.count.tolist()
    ([4.0, 10.0], [2.0, 1.0])
    """

    codes: np.ndarray
    total: np.ndarray
    total_sq: np.ndarray
    count: np.ndarray

    def merge(self, other: SpeakerMoments) -> SpeakerMoments:
        """The moments of the samples of both, group by group (the same codes, the same group).

        Parameters
        ----------
        other : SpeakerMoments
            Moments of more samples, with group codes of the same meaning.

        Returns
        -------
        merged : SpeakerMoments
            ``codes`` concatenated, sums added per group.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_ser.preprocessing import SpeakerStandardScaler
        >>> X = np.array([[1.0], [3.0], [5.0]])
        >>> one = np.zeros(3, dtype=int)
        >>> a = SpeakerStandardScaler.moments(X[:2], one[:2])
        >>> b = SpeakerStandardScaler.moments(X[2:], one[2:])
        >>> a.merge(b).total.tolist() == SpeakerStandardScaler.moments(X, one).total.tolist()
        True
        """
        n = max(len(self.count), len(other.count))

        def grow(a: np.ndarray) -> np.ndarray:
            return np.concatenate([a, np.zeros((n - len(a), *a.shape[1:]))]) if len(a) < n else a

        return SpeakerMoments(
            np.concatenate([self.codes, other.codes]),
            grow(self.total) + grow(other.total),
            grow(self.total_sq) + grow(other.total_sq),
            grow(self.count) + grow(other.count),
        )


# Utterances of the training average each speaker's statistics are shrunk toward, by
# default: SERClassifier's (standardize="speaker") and the model files'; the scaler's
# default prior_utterances="auto" is at least this, per feature.
DEFAULT_PRIOR_UTTERANCES = 5.0

_Moments = SpeakerMoments  # the former name, where SERClassifiers pickled before find it


def _feature_axis(ndim: int) -> int:
    """Axis of the features: columns of a 2-D matrix, bins (axis -2) of spectrogram-like arrays."""
    return 1 if ndim == 2 else ndim - 2


def _random_subsets(
    codes: np.ndarray, rng: np.random.Generator, labels: np.ndarray | None = None
) -> list[np.ndarray]:
    """For each row, itself first and then a random sample of the other rows of its group.

    The size of each subset is drawn uniformly from 1 to the size of the group. With
    ``labels``, half of the subsets (at random) are drawn from the rows of one label of
    the group (a random one, the row's own or another) instead, of a size drawn uniformly
    from 1 to all of them and the row.
    """
    subsets: list = [None] * len(codes)
    for code in np.unique(codes):
        rows = np.flatnonzero(codes == code)
        for i in rows:
            others = rows[rows != i]
            if labels is not None and rng.random() < 0.5:
                others = others[labels[others] == rng.choice(np.unique(labels[rows]))]
            k = int(rng.integers(1, len(others) + 2))
            subsets[i] = np.concatenate([[i], rng.choice(others, k - 1, replace=False)])
    return subsets


class SpeakerStandardScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardise each speaker's features with that speaker's own mean and spread.

    What tells speakers apart (vocal tract, pitch range, level, microphone) shifts every
    feature of their recordings; emotion is what varies *within* a speaker. Standardising
    each speaker's features with the statistics of that speaker's (unlabelled) recordings
    removes much of the first and keeps the second, and is the largest single gain on
    speakers never heard (Schuller et al.; Keesing et al., Interspeech 2021).

    Each speaker's statistics are shrunk toward the training set's as if the speaker had
    ``prior_utterances`` more utterances of the training average, so a speaker with few
    recordings is standardised mostly like a plain :class:`~sklearn.preprocessing.StandardScaler`
    would, and one with many mostly by its own statistics. By default that prior is set
    per feature from the training speakers (at least 5 utterances; more for features that
    vary more within a speaker than between speakers), so that a small or one-sided
    context (a speaker's neutral recordings only) does not pull the emotion-bearing
    features toward itself; see :ref:`evaluation_protocols` for what context pays.

    Speakers are given by ``groups`` in :meth:`fit` and :meth:`transform`. **Without
    groups, every sample is standardised on its own**: the output for a sample never
    depends on the other samples of ``X``. With scikit-learn's metadata routing enabled
    (``sklearn.set_config(enable_metadata_routing=True)``) the scaler requests ``groups`` in
    ``fit`` and ``transform`` by default, so speaker ids passed to a
    :class:`~sklearn.pipeline.Pipeline`, :class:`~sklearn.model_selection.GridSearchCV`
    or :func:`~sklearn.model_selection.cross_validate` reach it.

    2-D input ``(n_samples, n_features)`` is standardised per column (e.g. functionals);
    spectrogram-like input ``(n_samples, n_bins, n_frames)`` or
    ``(n_samples, n_segments, n_bins, n_frames)`` per bin (axis -2), over all the frames of
    a speaker's utterances.

    Parameters
    ----------
    prior_utterances : float or "auto", default="auto"
        Weight of the training statistics, in utterances, when estimating a speaker's. 0
        gives the plain per-speaker z-score (each speaker by its own statistics alone).
        "auto": one weight per feature for the speaker's mean (empirical Bayes): the
        within-speaker variance over the variance of the speakers' means, both measured
        on the training speakers. A feature that mostly tells speakers apart (e.g. the
        pitch level) then takes the speaker's own mean from a few utterances, while one
        that mostly varies with what is said or felt keeps close to the training mean
        unless the context is large, so that a small or one-sided context (a speaker's
        calm recordings only) shifts it little. Each weight is at least 5 utterances (as
        the default), and the spread is shrunk with 5.
    training_context : {"full", "random", "unbalanced"}, default="full"
        How :meth:`fit_transform` (the training data of a pipeline) standardises each
        sample. "full": with the statistics of all its speaker's samples, as
        :meth:`transform` does. "random": with those of a random subset of its speaker's
        samples that contains it, of a size drawn uniformly from 1 to all, so that a model
        trained on the output has seen every amount of speaker context, from a file alone
        to all of its speaker's files, and works under both (see
        :ref:`evaluation_protocols`). "unbalanced": as "random", but half of the subsets
        (at random) come from the speaker's samples of one label (drawn at random, the
        sample's own or another; labels are ``y`` of :meth:`fit_transform`), so that the
        model has also seen one-sided contexts, as a user's recordings of one mood.
        :meth:`transform` is the same for all.
    clip : float or None, default=5.0
        Bound of the standardised values: outputs are clipped to ``[-clip, clip]``, so
        that a file far outside the training range (very short, silent, noise: z-scores
        in the thousands) cannot dominate a linear model by a few features. 5 leaves
        99.9 % of the standardised functionals of EmoDB's files as they are. None: no
        bound.
    random_state : int, RandomState instance or None, default=None
        Seeds the subsets of ``training_context="random"`` and ``"unbalanced"``.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Mean of each feature over the training data.
    scale_ : ndarray of shape (n_features,)
        Standard deviation of each feature over the training data.
    speaker_scale_ : ndarray of shape (n_features,)
        Standard deviation of each feature within a speaker, pooled over the training
        speakers: what a speaker's own spread is shrunk toward. Equal to ``scale_`` when
        fitted without ``groups``.
    speaker_mean_scale_ : ndarray of shape (n_features,)
        Standard deviation of the speakers' means around the training mean (less their
        sampling noise), what ``prior_utterances="auto"`` weighs against
        ``speaker_scale_``. Equal to ``scale_`` when fitted without ``groups``.
    n_speakers_ : int
        Number of training speakers (0 when fitted without ``groups``).
    n_features_in_ : int
        Size of the feature axis seen in :meth:`fit` (axis 1 of 2-D input, else axis -2).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names of a 2-D ``X`` given as a DataFrame with string column names.

    See Also
    --------
    sklearn.preprocessing.StandardScaler : the same with the training set's statistics only.
    sklearn_ser.SERClassifier : ``standardize="speaker"`` applies this scaler inside the
        network's input pipeline.

    Examples
    --------
    Two speakers whose features differ by an offset: after per-speaker standardisation
    their emotion contrast is on the same scale.

    >>> import numpy as np
    >>> from sklearn_ser.preprocessing import SpeakerStandardScaler
    >>> X = np.array([[1.0], [3.0], [11.0], [13.0]])
    >>> speakers = ["a", "a", "b", "b"]
    >>> scaler = SpeakerStandardScaler(prior_utterances=0).fit(X, groups=speakers)
    >>> scaler.transform(X, groups=speakers).ravel().tolist()
    [-1.0, 1.0, -1.0, 1.0]

    Without ``groups`` each sample is standardised alone, the same whatever else is in X:

    >>> scaler = SpeakerStandardScaler().fit(X, groups=speakers)
    >>> alone = scaler.transform(X[:1])
    >>> bool(np.allclose(alone, scaler.transform(X)[:1]))
    True

    In a pipeline, with metadata routing:

    >>> import sklearn
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.svm import SVC
    >>> y = ["calm", "angry", "calm", "angry"]
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     pipe = make_pipeline(SpeakerStandardScaler(), SVC()).fit(X, y, groups=speakers)
    ...     pipe.predict(X, groups=speakers).tolist()
    ['calm', 'angry', 'calm', 'angry']
    """

    # Speaker ids flow to fit and transform by default once routing is enabled.
    __metadata_request__fit: ClassVar[dict] = {"groups": True}
    __metadata_request__transform: ClassVar[dict] = {"groups": True}

    _parameter_constraints: ClassVar[dict] = {
        "prior_utterances": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "training_context": [StrOptions({"full", "random", "unbalanced"})],
        "clip": [Interval(Real, 0, None, closed="neither"), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        prior_utterances: float | str = "auto",
        training_context: str = "full",
        clip: float | None = 5.0,
        random_state: Any = None,
    ):
        self.prior_utterances = prior_utterances
        self.training_context = training_context
        self.clip = clip
        self.random_state = random_state

    def _validate(self, X: Any, reset: bool) -> np.ndarray:
        kwargs = {"allow_nd": True, "dtype": [np.float64, np.float32]}
        if not reset and len(getattr(X, "shape", ())) > 3:
            # validate_data would compare axis 1 (segments) with n_features_in_ (bins).
            X = check_array(X, **kwargs)
        else:
            X = validate_data(self, X, reset=reset, skip_check_array=False, **kwargs)
        if X.ndim < 2:
            raise ValueError(f"SpeakerStandardScaler needs 2-D or higher X, got shape {X.shape}.")
        n_features = X.shape[_feature_axis(X.ndim)]
        if reset:
            # validate_data counts axis 1; spectrogram-like input has its features on axis -2.
            self.n_features_in_ = n_features
        elif n_features != self.n_features_in_:
            raise ValueError(
                f"X has {n_features} features (axis {_feature_axis(X.ndim)}), but "
                f"SpeakerStandardScaler was fitted with {self.n_features_in_}."
            )
        return X

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None, groups: Any = None) -> SpeakerStandardScaler:
        """Learn the training statistics the speakers' own are shrunk toward.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ..., n_bins, n_frames)
            Training features.
        y : None
            Ignored.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample. Without it, the spread within a speaker cannot be
            measured and is taken as the overall spread, with a warning.

        Returns
        -------
        self : SpeakerStandardScaler
        """
        X = self._validate(X, reset=True)
        groups = check_groups(groups, X.shape[0])
        self.fit_moments(self.moments(X, groups), with_groups=groups is not None)
        if groups is None:
            warnings.warn(
                "SpeakerStandardScaler was fitted without groups, so it cannot tell speakers "
                "apart: pass fit(X, groups=speaker_ids), or in a pipeline or search enable "
                "metadata routing (sklearn.set_config(enable_metadata_routing=True)) and pass "
                "groups=speaker_ids to its fit.",
                UserWarning,
                stacklevel=3,  # the caller of fit, past the _fit_context wrapper
            )
        return self

    @staticmethod
    def moments(X: Any, groups: Any = None) -> SpeakerMoments:
        """Each group's sums of its features: the moments statistics are computed from.

        Accumulated in float64 over chunks of samples, so a memory map is read once, in
        pieces. Needs no fitting.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ..., n_bins, n_frames)
            Features (not validated: pass what :meth:`transform` would get).
        groups : array-like of shape (n_samples,), default=None
            Group (speaker) of each sample; None: every sample its own group.

        Returns
        -------
        moments : SpeakerMoments
            ``codes`` numbers the sorted distinct groups from 0.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_ser.preprocessing import SpeakerStandardScaler
        >>> m = SpeakerStandardScaler.moments(np.array([[1.0], [3.0], [11.0]]), ["a", "a", "b"])
        >>> m.codes.tolist(), m.total.ravel().tolist(), m.count.tolist()
        ([0, 0, 1], [4.0, 11.0], [2.0, 1.0])
        """
        n_samples = X.shape[0]
        groups = check_groups(groups, n_samples)
        if groups is None:
            codes = np.arange(n_samples)
        else:
            codes = np.unique(groups, return_inverse=True)[1].ravel()
        n_groups = int(codes.max()) + 1 if n_samples else 0
        axis = _feature_axis(X.ndim)
        others = tuple(i for i in range(1, X.ndim) if i != axis)
        n_features = X.shape[axis]
        total, total_sq = np.zeros((n_groups, n_features)), np.zeros((n_groups, n_features))
        for start in range(0, n_samples, _CHUNK):
            part = np.asarray(X[start : start + _CHUNK], dtype=np.float64)
            part_codes = codes[start : start + _CHUNK]
            np.add.at(total, part_codes, part.sum(axis=others))
            np.add.at(total_sq, part_codes, np.square(part).sum(axis=others))
        cells = int(np.prod(X.shape[1:])) // max(n_features, 1)  # values of a feature per sample
        count = np.bincount(codes, minlength=n_groups).astype(np.float64) * cells
        return SpeakerMoments(codes, total, total_sq, count)

    def fit_moments(self, moments: SpeakerMoments, *, with_groups: bool = True):
        """Learn the training statistics from moments computed elsewhere.

        What :meth:`fit` does after its pass over ``X``; for a caller that computes the
        moments in a pass of its own (:class:`~sklearn_ser.SERClassifier`, whose pass also
        gives each speaker's).

        Parameters
        ----------
        moments : SpeakerMoments
            From :meth:`moments` of the training features.
        with_groups : bool, default=True
            Whether the groups of ``moments`` are speakers (False: every sample its own
            group, and the spread within a speaker is taken as the overall spread).

        Returns
        -------
        self : SpeakerStandardScaler

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_ser.preprocessing import SpeakerStandardScaler
        >>> X, speakers = np.array([[1.0], [3.0], [11.0], [13.0]]), [0, 0, 1, 1]
        >>> scaler = SpeakerStandardScaler().fit_moments(SpeakerStandardScaler.moments(X, speakers))
        >>> scaler.mean_.tolist(), scaler.speaker_scale_.tolist(), scaler.n_speakers_
        ([7.0], [1.0], 2)
        """
        total, total_sq, count = moments.total, moments.total_sq, moments.count
        mean = total.sum(0) / count.sum()
        std = np.sqrt(np.maximum(total_sq.sum(0) / count.sum() - mean**2, 0.0))
        self.n_features_in_ = total.shape[1]
        self.mean_ = mean
        self.scale_ = np.maximum(std, _MIN_SCALE)
        self.n_samples_seen_ = len(moments.codes)
        if with_groups:
            group_mean = total / count[:, None]
            within = (total_sq - count[:, None] * group_mean**2).sum(0) / count.sum()
            self.speaker_scale_ = np.maximum(np.sqrt(np.maximum(within, 0.0)), _MIN_SCALE)
            self.n_speakers_ = len(count)
            # Spread of the speakers' means, less what their own sampling noise adds.
            between = (count[:, None] * (group_mean - mean) ** 2).sum(0) / count.sum()
            noise = within * len(count) / count.sum()
            self.speaker_mean_scale_ = np.sqrt(np.maximum(between - noise, _MIN_SCALE**2))
        else:
            self.speaker_scale_ = self.scale_.copy()
            self.speaker_mean_scale_ = self.scale_.copy()
            self.n_speakers_ = 0
        return self

    def speaker_statistics(self, X: Any, groups: Any = None) -> SpeakerStatistics:
        """Each speaker's shrunk mean and scale, without standardising ``X``.

        ``statistics_from_moments(moments(X, groups))``: used where ``X`` is too large to
        copy (a memory map standardised batch by batch).

        Parameters
        ----------
        X : array-like
            Features of the shape seen in :meth:`fit` (not validated again: pass the
            array :meth:`transform` would get).
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample; None: every sample alone.

        Returns
        -------
        statistics : SpeakerStatistics
            ``codes`` (n_samples,), ``mean`` and ``scale`` (n_speakers, n_features).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_ser.preprocessing import SpeakerStandardScaler
        >>> X = np.array([[1.0], [3.0], [11.0], [13.0]])
        >>> scaler = SpeakerStandardScaler(prior_utterances=0).fit(X, groups=[0, 0, 1, 1])
        >>> stats = scaler.speaker_statistics(X, groups=[0, 0, 1, 1])
        >>> stats.codes.tolist(), stats.mean.ravel().tolist()
        ([0, 0, 1, 1], [2.0, 12.0])
        """
        check_is_fitted(self, "mean_")
        return self.statistics_from_moments(self.moments(X, groups))

    def _prior_counts(self) -> float | np.ndarray:
        """Weight of the training mean, in utterances: one number, or one per feature."""
        if self.prior_utterances != "auto":
            return self.prior_utterances
        # Empirical Bayes: a speaker's mean from n utterances weighs n / (n + n0) with
        # n0 = within-speaker variance / variance of the speakers' means, per feature; at
        # least _SCALE_PRIOR, so that a file alone is standardised as with the fixed prior.
        ratio = (self.speaker_scale_ / self.speaker_mean_scale_) ** 2
        return np.clip(ratio, _SCALE_PRIOR, _MAX_PRIOR)

    def statistics_from_moments(self, moments: SpeakerMoments) -> SpeakerStatistics:
        """Each group's statistics from its moments, shrunk toward the training ones.

        The statistics :meth:`transform` standardises with: a group of ``n`` samples gets
        the weight ``n / (n + prior_utterances)`` on its own mean and variance, the rest on
        the training mean and the pooled within-speaker variance.

        Parameters
        ----------
        moments : SpeakerMoments
            From :meth:`moments` (or several merged with :meth:`SpeakerMoments.merge`).

        Returns
        -------
        statistics : SpeakerStatistics
            ``codes`` of ``moments``; ``mean`` and ``scale`` of shape (n_groups, n_features).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_ser.preprocessing import SpeakerStandardScaler
        >>> X, speakers = np.array([[1.0], [3.0], [11.0], [13.0]]), [0, 0, 1, 1]
        >>> scaler = SpeakerStandardScaler(prior_utterances=2).fit(X, groups=speakers)
        >>> stats = scaler.statistics_from_moments(scaler.moments(X, speakers))
        >>> stats.mean.ravel().tolist()  # half their own mean, half the training mean
        [4.5, 9.5]
        """
        check_is_fitted(self, "mean_")
        total, total_sq, count = moments.total, moments.total_sq, moments.count
        own_mean = total / count[:, None]
        own_var = np.maximum(total_sq / count[:, None] - own_mean**2, 0.0)
        cells = count.sum() / max(len(moments.codes), 1)  # values of a feature in one sample
        count = count[:, None]
        weight = count / (count + self._prior_counts() * cells)
        mean = weight * own_mean + (1 - weight) * self.mean_
        scale_prior = _SCALE_PRIOR if self.prior_utterances == "auto" else self.prior_utterances
        weight = count / (count + scale_prior * cells)
        var = weight * own_var + (1 - weight) * self.speaker_scale_**2
        return SpeakerStatistics(moments.codes, mean, np.maximum(np.sqrt(var), _MIN_SCALE))

    def transform(self, X: Any, groups: Any = None) -> np.ndarray:
        """Standardise each speaker's samples with that speaker's (shrunk) statistics.

        Parameters
        ----------
        X : array-like of the shape seen in :meth:`fit`
            Features.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample. None: every sample is standardised alone, so its
            output does not depend on the rest of ``X``.

        Returns
        -------
        X_new : ndarray of the shape and dtype of ``X``
            Standardised features.
        """
        check_is_fitted(self, "mean_")
        X = self._validate(X, reset=False)
        return self.standardize(X, self.speaker_statistics(X, groups))

    def standardize(self, X: np.ndarray, statistics: SpeakerStatistics) -> np.ndarray:
        """``(X - mean[codes]) / scale[codes]`` along the feature axis, chunk by chunk.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features) or (n_samples, ..., n_bins, n_frames)
            Features (not validated).
        statistics : SpeakerStatistics
            ``codes`` of shape (n_samples,) indexing the rows of ``mean`` and ``scale``.

        Returns
        -------
        X_new : ndarray of the shape and dtype of ``X``

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_ser.preprocessing import SpeakerStandardScaler, SpeakerStatistics
        >>> stats = SpeakerStatistics(np.array([0, 1]), np.array([[1.0], [10.0]]),
        ...                           np.array([[2.0], [5.0]]))
        >>> SpeakerStandardScaler().standardize(np.array([[3.0], [20.0]]), stats).ravel().tolist()
        [1.0, 2.0]
        """
        codes, mean, scale = statistics
        axis = _feature_axis(X.ndim)
        shape = [len(mean)] + [1] * (X.ndim - 1)
        shape[axis] = -1
        mean, scale = mean.reshape(shape), scale.reshape(shape)
        out = np.empty(X.shape, dtype=X.dtype)
        # In chunks of samples: the gathered statistics never take the size of X.
        for start in range(0, X.shape[0], _CHUNK):
            rows = slice(start, start + _CHUNK)
            out[rows] = (X[rows] - mean[codes[rows]]) / scale[codes[rows]]
        if self.clip is not None:
            np.clip(out, -self.clip, self.clip, out=out)
        return out

    def fit_transform(self, X: Any, y: Any = None, groups: Any = None) -> np.ndarray:
        """Fit, then standardise ``X``: as :meth:`transform`, or with random contexts.

        Parameters
        ----------
        X : array-like
            Training features.
        y : array-like of shape (n_samples,) or None, default=None
            Labels, used only by ``training_context="unbalanced"`` (to draw contexts of
            one label).
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample, for :meth:`fit` and the standardisation.

        Returns
        -------
        X_new : ndarray of the shape and dtype of ``X``
            With ``training_context="random"`` or ``"unbalanced"`` and ``groups``, each
            sample standardised with a random subset of its speaker's samples (see
            ``training_context``).
        """
        self.fit(X, y, groups=groups)
        if self.training_context == "full" or groups is None:
            return self.transform(X, groups=groups)
        X = self._validate(X, reset=False)
        groups = check_groups(groups, X.shape[0])
        codes = np.unique(groups, return_inverse=True)[1].ravel()
        labels = None
        if self.training_context == "unbalanced":
            if y is None:
                raise ValueError(
                    'SpeakerStandardScaler: training_context="unbalanced" draws contexts of '
                    "one label and needs y in fit_transform, got y=None."
                )
            labels = np.asarray(y)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        rng = np.random.default_rng(seed)
        stats = self.random_context_statistics(self.moments(X, None), codes, rng, labels)
        return self.standardize(X, stats)

    def random_context_statistics(
        self,
        row_moments: SpeakerMoments,
        codes: np.ndarray,
        rng: np.random.Generator,
        labels: np.ndarray | None = None,
    ) -> SpeakerStatistics:
        """Each row's statistics over a random subset of its speaker's rows containing it.

        The subset's size is drawn uniformly from 1 to all of the speaker's rows; the
        statistics are shrunk as in :meth:`statistics_from_moments`. What
        ``training_context="random"`` (and ``SERClassifier(speaker_context="random")``,
        anew every epoch) standardises the training rows with.

        Parameters
        ----------
        row_moments : SpeakerMoments
            Moments of ``X`` with every row its own group (``moments(X, None)``): computed
            once, a new draw only sums them.
        codes : ndarray of shape (n_samples,)
            Speaker of each row, as integer codes.
        rng : numpy.random.Generator
            Source of the draws.
        labels : ndarray of shape (n_samples,) or None, default=None
            With labels, half of the subsets come from one label of the speaker's rows.

        Returns
        -------
        statistics : SpeakerStatistics
            One row of statistics per sample (``codes`` is ``arange(n_samples)``).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_ser.preprocessing import SpeakerStandardScaler
        >>> X, speakers = np.arange(6.0)[:, None], np.array([0, 0, 0, 1, 1, 1])
        >>> scaler = SpeakerStandardScaler().fit(X, groups=speakers)
        >>> stats = scaler.random_context_statistics(
        ...     scaler.moments(X), speakers, np.random.default_rng(0))
        >>> stats.mean.shape
        (6, 1)
        """
        check_is_fitted(self, "mean_")
        total, total_sq, count = row_moments.total, row_moments.total_sq, row_moments.count
        subsets = _random_subsets(codes, rng, labels)
        moments = SpeakerMoments(
            np.arange(len(subsets)),
            np.stack([total[rows].sum(0) for rows in subsets]),
            np.stack([total_sq[rows].sum(0) for rows in subsets]),
            np.array([count[rows].sum() for rows in subsets]),
        )
        return self.statistics_from_moments(moments)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
