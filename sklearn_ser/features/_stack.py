"""Stack several extractors' outputs along the bin axis (the combined model's input)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import TransformerMixin, clone
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.validation import check_is_fitted

__all__ = ["FeatureStack"]


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

    def __init__(self, extractors: list):
        self.extractors = extractors

    def get_params(self, deep: bool = True) -> dict:
        """Parameters, with nested ones as ``<name>__<param>`` when ``deep``."""
        return self._get_params("extractors", deep=deep)

    def set_params(self, **params: Any) -> FeatureStack:
        """Set parameters, including nested ``<name>__<param>`` ones."""
        self._set_params("extractors", **params)
        return self

    def _validate_extractors(self) -> None:
        try:
            names, steps = zip(*self.extractors)
        except (TypeError, ValueError):
            raise ValueError(
                f"FeatureStack: extractors must be a non-empty list of (name, transformer) "
                f"pairs, got {self.extractors!r}."
            ) from None
        self._validate_names(names)
        for name, step in zip(names, steps):
            if not hasattr(step, "transform"):
                raise ValueError(
                    f"FeatureStack: extractor {name!r} has no transform method: {step!r}."
                )

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
        self._validate_extractors()
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
