"""Split frame-level features into a stack of fixed-length segments."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._param_validation import Int

__all__ = ["Segmenter"]


def n_segments_for(n_frames: int, segment_frames: int, hop_frames: int) -> int:
    """Number of segments covering ``n_frames`` frames (the last one possibly padded)."""
    if n_frames <= segment_frames:
        return 1
    return 1 + -(-(n_frames - segment_frames) // hop_frames)


class Segmenter(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Cut each utterance's spectrogram into a stack of short segments.

    Turns the ``(n_samples, n_bins, n_frames)`` output of an extractor into a 4-D
    ``(n_samples, n_segments, n_bins, segment_frames)`` array, the input of the 3-D CNN
    (:class:`~sklearn_ser.models.CNN3D`) and of the CNN-LSTM hybrid
    (:class:`~sklearn_ser.models.CNNLSTM`) of Kim et al. (2017). Segment ``i`` holds the
    frames ``[i * hop_frames, i * hop_frames + segment_frames)`` of the utterance.

    The number of segments is ``1 + ceil((n_frames - segment_frames) / hop_frames)`` (one
    when ``n_frames <= segment_frames``), so every frame lies in a segment; the frames of
    the last segment that run past the end of the utterance are padded as ``pad_mode`` says.

    Parameters
    ----------
    segment_frames : int, default=32
        Frames per segment (32 frames of 10 ms make 320 ms segments).
    hop_frames : int or None, default=None
        Frames between the starts of consecutive segments, at most ``segment_frames``.
        None means ``segment_frames``: contiguous segments without overlap. A smaller hop
        makes segments overlap by ``segment_frames - hop_frames`` frames.
    pad_mode : {"constant", "edge", "wrap"}, default="constant"
        How the last segment is completed past the end of the utterance:

        - "constant": with the utterance's minimum value (over all its bins and frames),
          i.e. the log floor of a (log-)spectrogram: padding reads as silence;
        - "edge": by repeating the utterance's last frame;
        - "wrap": with the utterance's first frames, as if it looped.

    Attributes
    ----------
    n_segments_ : int
        Number of segments per utterance.
    n_frames_ : int
        Number of frames of the utterances seen in :meth:`fit`; :meth:`transform` requires
        the same number, so that every output has the same shape.
    n_features_in_ : int
        ``X.shape[1]`` of the input seen in :meth:`fit`: the number of bins of a 3-D input,
        the number of frames of a 2-D one.
    feature_names_in_ : ndarray of str
        Names of the input columns, when the input had them (a 2-D DataFrame).

    See Also
    --------
    MelSpectrogramExtractor : a usual input.

    Notes
    -----
    A 2-D input ``(n_samples, n_frames)`` is treated as a single bin, giving
    ``(n_samples, n_segments, 1, segment_frames)``. The output has the input's float dtype
    (integers are converted to float64).

    References
    ----------
    .. [1] J. Kim, K. P. Truong, G. Englebienne and V. Evers, "Learning spectro-temporal
       features with 3D CNNs for speech emotion recognition", ACII 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.features import Segmenter
    >>> X = np.arange(2 * 3 * 10, dtype=np.float32).reshape(2, 3, 10)
    >>> seg = Segmenter(segment_frames=4).fit(X)
    >>> seg.n_segments_
    3
    >>> Xs = seg.transform(X)
    >>> Xs.shape
    (2, 3, 3, 4)
    >>> Xs[0, 1, 0]
    array([4., 5., 6., 7.], dtype=float32)
    >>> Xs[0, 2, 0]  # frames 8 and 9, then padding with the utterance's minimum
    array([8., 9., 0., 0.], dtype=float32)
    >>> Segmenter(segment_frames=4, hop_frames=2).fit_transform(X).shape
    (2, 4, 3, 4)
    """

    _parameter_constraints: ClassVar[dict] = {
        "segment_frames": [Int(1)],
        "hop_frames": [Int(1), None],
        "pad_mode": [StrOptions({"constant", "edge", "wrap"})],
    }

    def __init__(
        self,
        segment_frames: int = 32,
        hop_frames: int | None = None,
        pad_mode: str = "constant",
    ):
        self.segment_frames = segment_frames
        self.hop_frames = hop_frames
        self.pad_mode = pad_mode

    def _frames(self) -> tuple[int, int]:
        """``(segment_frames, hop)``; the hop against the segment length (the one check
        that involves two parameters: each alone is in the constraints table)."""
        seg = int(self.segment_frames)
        hop = seg if self.hop_frames is None else int(self.hop_frames)
        if hop > seg:
            raise ValueError(
                f"Segmenter: hop_frames must be None or an integer in [1, segment_frames={seg}], "
                f"got {self.hop_frames!r}."
            )
        return seg, hop

    def _validate(self, X: Any, reset: bool) -> np.ndarray:
        X = validate_data(self, X, reset=reset, allow_nd=True, dtype=[np.float64, np.float32])
        if X.ndim == 2:
            X = X[:, np.newaxis, :]
        if X.ndim != 3:
            raise ValueError(
                f"Segmenter expects a 3-D array (n_samples, n_bins, n_frames) or a 2-D array "
                f"(n_samples, n_frames), got an array of shape {X.shape}."
            )
        if X.shape[-1] == 0:
            raise ValueError(f"Segmenter: X has 0 frames (shape {X.shape}).")
        return X

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> Segmenter:
        """Check the parameters and learn the number of segments.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bins, n_frames) or (n_samples, n_frames)
            Frame-level features; a 2-D array is one bin per sample.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted segmenter.
        """
        seg, hop = self._frames()
        X = self._validate(X, reset=True)
        self.n_frames_ = X.shape[-1]
        self.n_segments_ = n_segments_for(self.n_frames_, seg, hop)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Cut every utterance into ``n_segments_`` segments.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bins, n_frames) or (n_samples, n_frames)
            Frame-level features with as many frames as in :meth:`fit`.

        Returns
        -------
        X_segments : ndarray of shape (n_samples, n_segments, n_bins, segment_frames)
            ``n_segments`` is ``n_segments_``. A new array (never a view of ``X``); a 2-D
            input gives ``n_bins = 1``.
        """
        check_is_fitted(self, "n_segments_")
        seg, hop = self._frames()
        X = self._validate(X, reset=False)
        n, n_bins, n_frames = X.shape
        if n_frames != self.n_frames_:
            raise ValueError(
                f"Segmenter was fitted on utterances of {self.n_frames_} frames, got "
                f"{n_frames} frames (X of shape {X.shape}); extract features with a fixed "
                f"number of frames (e.g. the extractor's max_frames)."
            )
        total = seg + (self.n_segments_ - 1) * hop
        if total > n_frames:
            width = ((0, 0), (0, 0), (0, total - n_frames))
            if self.pad_mode == "constant":
                padded = np.empty((n, n_bins, total), dtype=X.dtype)
                padded[..., :n_frames] = X
                padded[..., n_frames:] = X.min(axis=(1, 2))[:, np.newaxis, np.newaxis]
            else:
                padded = np.pad(X, width, mode=self.pad_mode)
        else:
            padded = X
        # (n, n_bins, n_windows, seg) -> keep every hop-th window -> (n, n_segments, bins, seg)
        windows = sliding_window_view(padded, seg, axis=-1)[:, :, ::hop]
        # A copy even when the view is contiguous: the view is read-only and aliases X.
        return np.array(windows.transpose(0, 2, 1, 3), order="C")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
