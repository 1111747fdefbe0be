"""Stack several extractors' outputs along the bin axis (the combined model's input)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import TransformerMixin, _fit_context, clone
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.validation import check_is_fitted

from .._param_validation import Satisfies

__all__ = ["FeatureStack"]


def _is_extractor_list(val: Any) -> bool:
    """A non-empty list (or tuple) of ``(name, object with a transform method)`` pairs."""
    return (
        isinstance(val, (list, tuple))
        and len(val) > 0
        and all(
            isinstance(pair, (list, tuple))
            and len(pair) == 2
            and isinstance(pair[0], str)
            and callable(getattr(pair[1], "transform", None))
            for pair in val
        )
    )


class FeatureStack(TransformerMixin, _BaseComposition, auto_wrap_output_keys=None):
    """Concatenate the 3-D outputs of several extractors along the bin axis.

    scikit-learn's :class:`~sklearn.pipeline.FeatureUnion` only joins 2-D outputs; this is
    its counterpart for ``(n_samples, n_bins, n_frames)`` features, e.g. a spectrogram and
    MFCCs computed with the same hop and ``max_frames``. ``bin_splits_`` gives the bins of
    each part, which is what :class:`~sklearn_ser.models.MultitaskCNN` takes as
    ``input_splits`` to give each feature kind its own encoder (Tripathi et al.'s
    combined model). Nested parameters are reachable as ``<name>__<param>``.

    Parameters
    ----------
    extractors : list of (str, transformer)
        The named extractors. All must produce the same number of frames.

    Attributes
    ----------
    bin_splits_ : tuple of int
        Number of bins of each extractor's output, in order.
    extractors_ : list of (str, transformer)
        The fitted extractors.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser import FeatureStack, MFCCExtractor, SpectrogramExtractor
    >>> waves = np.random.default_rng(0).normal(size=(2, 8000))
    >>> stack = FeatureStack([("spec", SpectrogramExtractor(max_frames=40)),
    ...                       ("mfcc", MFCCExtractor(n_mfcc=20, max_frames=40))])
    >>> stack.fit_transform(waves).shape, stack.bin_splits_
    ((2, 277, 40), (257, 20))
    """

    _required_parameters = ("extractors",)
    _parameter_constraints: ClassVar[dict] = {
        "extractors": [
            Satisfies(
                _is_extractor_list,
                "a non-empty list of (name, transformer) pairs, each transformer having "
                "a transform method",
            )
        ],
    }

    def __init__(self, extractors: list):
        self.extractors = extractors

    def get_params(self, deep: bool = True) -> dict:
        """Parameters, with nested ones as ``<name>__<param>`` when ``deep``."""
        return self._get_params("extractors", deep=deep)

    def set_params(self, **params: Any) -> FeatureStack:
        """Set parameters, including nested ``<name>__<param>`` ones."""
        self._set_params("extractors", **params)
        return self

    # The extractors are the user's estimators: their own fit validates their parameters.
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: Any, y: Any = None) -> FeatureStack:
        """Fit every extractor.

        Parameters
        ----------
        X : audio paths or waveforms
            Training audio.
        y : None
            Ignored.

        Returns
        -------
        self : FeatureStack
        """
        # The names against each other and the parameters (unique, no "__"): sklearn's check.
        self._validate_names([name for name, _ in self.extractors])
        self.extractors_ = [(name, clone(est).fit(X, y)) for name, est in self.extractors]
        self.bin_splits_ = tuple(len(est.get_feature_names_out()) for _, est in self.extractors_)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Compute each extractor's features and stack them along the bins.

        Parameters
        ----------
        X : audio paths or waveforms

        Returns
        -------
        features : ndarray of shape (n_samples, ``sum(bin_splits_)``, n_frames)
        """
        check_is_fitted(self, "extractors_")
        parts = [est.transform(X) for _, est in self.extractors_]
        self._check_frames(parts)
        return np.concatenate(parts, axis=1)

    def _check_frames(self, parts: list) -> None:
        frames = {p.shape[-1] for p in parts}
        if len(frames) != 1:
            detail = ", ".join(f"{n}: {p.shape[-1]}" for (n, _), p in zip(self.extractors_, parts))
            raise ValueError(
                f"FeatureStack: extractors produce different numbers of frames ({detail}); "
                "give them the same hop_length and max_frames."
            )

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit the extractors and return the stacked features."""
        return self.fit(X, y).transform(X)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Bin names, prefixed by extractor name: ``spec__spec0``, ``mfcc__mfcc0``..."""
        check_is_fitted(self, "extractors_")
        return np.asarray(
            [f"{name}__{b}" for name, est in self.extractors_ for b in est.get_feature_names_out()],
            dtype=object,
        )
