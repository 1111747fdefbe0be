"""Shared machinery of the feature extractors.

Every extractor loads audio through :mod:`sklearn_ser._audio`, brings each waveform to the
length that yields exactly ``n_frames_`` frames, and computes its feature for a whole chunk
of utterances at once: one framed array, one batched real FFT, one matrix product for the
filter bank. This batching (rather than a Python loop of ``librosa.feature.*`` calls) is what
makes extraction several times faster than the per-file loop while giving the same numbers.
Subclasses only say which feature they compute (:meth:`_compute`) and how its bins are named.
"""

from __future__ import annotations

import numbers
import sys
import warnings
from abc import abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import scipy.fft
from joblib import Parallel, delayed
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from .._audio import (
    MIN_DURATION,
    NoSpeechWarning,
    as_audio_sources,
    audio_durations,
    describe_source,
    detect_speech,
    load_sources,
    no_speech_reason,
)
from .._param_validation import Int, Satisfies

_AMIN = 1e-10  # librosa.power_to_db's default floor: silence maps to -100 dB, never -inf.
_CHUNK = 32  # utterances per batched computation: large enough to amortise, small in memory.
# Frames per STFT block (over a chunk's utterances): bounds the framed copy and the complex
# spectrum of very long audio to ~4 MB each, while typical chunks still take one or few calls.
_BLOCK_FRAMES = 2048
# crop="cover": long audio is kept as pieces of at least this many seconds.
_MIN_PIECE = 0.5


def _is_sampling_rate(val: Any) -> bool:
    """A positive, finite, whole number (an int, or a float such as 16000.0)."""
    return (
        isinstance(val, numbers.Real)
        and not isinstance(val, (bool, np.bool_))
        and bool(np.isfinite(val))
        and val > 0
        and float(val) == int(val)
    )


def _is_float_dtype(val: Any) -> bool:
    return np.dtype(val).kind == "f"


# The sampling rate of an extractor: an int, or a float with no fractional part.
_SAMPLING_RATE = Satisfies(_is_sampling_rate, "a positive whole number of Hz")


def analysis_window(window: Any, win_length: int, n_fft: int) -> np.ndarray:
    """The STFT window of ``win_length`` samples centred in ``n_fft`` (librosa's rule);
    shared by the extractors, the functionals and the timeline's frame streams."""
    if isinstance(window, (str, tuple)):  # as librosa.filters.get_window, without numba
        import scipy.signal

        win = scipy.signal.get_window(window, win_length, fftbins=True)
    else:
        import librosa

        win = librosa.filters.get_window(window, win_length, fftbins=True)
    left = (n_fft - len(win)) // 2  # centred in n_fft, as librosa.util.pad_center
    return np.pad(win, (left, n_fft - len(win) - left)).astype(np.float32)


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default): linear below 1 kHz, logarithmic above."""
    f = np.asarray(f, dtype=np.float64)
    linear = f / (200.0 / 3)
    log = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(f >= 1000.0, log, linear)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), m * 200.0 / 3)


def mel_filters(
    *, sr: int, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None
) -> np.ndarray:
    """Mel filter bank, ``librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin,
    fmax=fmax)`` (Slaney's scale and area normalisation), in NumPy alone: computing it
    does not import librosa's numba-compiled modules (some 60 MB of memory).

    Returns
    -------
    weights : ndarray of shape (n_mels, 1 + n_fft // 2), float32
    """
    fmax = sr / 2.0 if fmax is None else float(fmax)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, None]
    return weights.astype(np.float32)


def _segment(y: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Samples ``start:stop`` of every row of ``y``, zero outside ``[0, n_samples)``."""
    length = y.shape[-1]
    if start >= 0 and stop <= length:
        return y[:, start:stop]  # a view: interior blocks copy nothing
    seg = np.zeros((y.shape[0], stop - start), dtype=np.float32)
    lo, hi = max(start, 0), min(stop, length)
    if hi > lo:
        seg[:, lo - start : hi - start] = y[:, lo:hi]
    return seg


def power_spectrogram(
    y: np.ndarray,
    *,
    n_fft: int,
    hop_length: int,
    window: np.ndarray,
    block_frames: int | None = None,
) -> np.ndarray:
    """Batched ``|STFT|**2`` of equal-length signals, centred and zero-padded like librosa.

    The frames are windowed and transformed in blocks of at most ``block_frames`` frames
    (over all signals together), so the memory used besides the input and the output stays
    bounded (about 10 MB with the defaults) however long the audio is; the result does not
    depend on the block size.

    Parameters
    ----------
    y : ndarray of shape (n, n_samples)
        Signals.
    n_fft, hop_length : int
        FFT size and hop in samples.
    window : ndarray of shape (n_fft,)
        The analysis window, already centred in ``n_fft``.
    block_frames : int or None, default=None
        Frames per block, summed over the ``n`` signals (each block holds at least one
        frame per signal); None means 2048.

    Returns
    -------
    power : ndarray of shape (n, 1 + n_samples // hop_length, 1 + n_fft // 2)
        Frame-major (the transpose of librosa's layout), so that a filter bank is one
        matrix product on the last axis and only the smaller result needs transposing.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.features._base import power_spectrogram
    >>> y = np.random.default_rng(0).normal(size=(2, 16000)).astype(np.float32)
    >>> window = np.hanning(512).astype(np.float32)
    >>> power = power_spectrogram(y, n_fft=512, hop_length=160, window=window)
    >>> power.shape
    (2, 101, 257)
    >>> blocked = power_spectrogram(y, n_fft=512, hop_length=160, window=window,
    ...                             block_frames=10)
    >>> bool(np.array_equal(power, blocked))
    True
    """
    y = np.asarray(y).astype(np.float32, copy=False)
    n, length = y.shape
    pad = n_fft // 2
    # The frames librosa's centred STFT has: windows of the padded signal, every hop.
    n_frames = (length + 2 * pad - n_fft) // hop_length + 1
    power = np.empty((n, n_frames, 1 + n_fft // 2), dtype=np.float32)
    budget = _BLOCK_FRAMES if block_frames is None else int(block_frames)
    step = max(1, budget // max(n, 1))
    for first in range(0, n_frames, step):
        last = min(first + step, n_frames)  # frames first..last-1
        # Frame f covers samples [f * hop - pad, f * hop - pad + n_fft) of the signal.
        start = first * hop_length - pad
        segment = _segment(y, start, (last - 1) * hop_length - pad + n_fft)
        frames = sliding_window_view(segment, n_fft, axis=-1)[:, ::hop_length]
        windowed = np.multiply(frames, window, dtype=np.float32)
        spec = scipy.fft.rfft(windowed, axis=-1, overwrite_x=True)
        parts = spec.view(np.float32).reshape(*spec.shape, 2)
        power[:, first:last] = np.einsum("...i,...i->...", parts, parts)
    return power


def power_to_db(power: np.ndarray, top_db: float | None) -> np.ndarray:
    """``10 log10`` with librosa's floor; ``top_db`` clips each utterance below its maximum."""
    db = 10.0 * np.log10(np.maximum(power, _AMIN))
    if top_db is not None:
        peak = db.max(axis=tuple(range(1, db.ndim)), keepdims=True)
        db = np.maximum(db, peak - top_db)
    return db


def _is_numeric_matrix(X: Any) -> bool:
    if isinstance(X, (list, tuple, str)) or not hasattr(X, "__array__"):
        return False
    if hasattr(X, "dtypes") and not hasattr(X, "columns"):  # pandas Series: one column
        return False
    arr = np.asarray(X)
    if arr.dtype.kind in "biufc":
        return True
    if arr.dtype == object and arr.ndim == 2:
        try:
            arr.astype(np.float64)
        except (TypeError, ValueError):
            return False
        return True
    return False


class BaseExtractor(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Base class of the extractors: audio in, ``(n_samples, n_bins, n_frames)`` out.

    Not for direct use: subclasses implement :meth:`_compute` and :meth:`_bin_names`.
    """

    # Output is 3-D, so there is no pandas/polars container for it (set_output is off).
    _feature_prefix = "bin"

    # Checked by scikit-learn's parameter validation at the start of fit; subclasses
    # extend it: ``{**BaseExtractor._parameter_constraints, "n_mels": [...]}``. Checks
    # that involve several parameters are in _check_params.
    _parameter_constraints: ClassVar[dict] = {
        "sr": [_SAMPLING_RATE],
        "n_fft": [Int(1)],
        "win_length": [Int(1), None],
        "hop_length": [Int(1)],
        "window": "no_validation",  # anything scipy.signal.get_window takes
        "max_frames": [Int(1), None],
        "pad_mode": [StrOptions({"constant", "wrap"})],
        "crop": [StrOptions({"center", "start", "cover"})],
        "normalize": [StrOptions({"mean", "standard"}), None],
        "top_db": [Interval(numbers.Real, 0, np.inf, closed="both"), None],  # inf: no floor
        "dtype": [Satisfies(_is_float_dtype, "a floating numpy dtype")],
        "n_jobs": [numbers.Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        sr: int = 16000,
        n_fft: int = 512,
        win_length: int | None = 400,
        hop_length: int = 160,
        window: Any = "hann",
        max_frames: int | None = None,
        pad_mode: str = "constant",
        crop: str = "center",
        normalize: str | None = None,
        top_db: float | None = 80.0,
        dtype: Any = np.float32,
        n_jobs: int | None = None,
        verbose: int = 0,
    ):
        self.sr = sr
        self.n_fft = n_fft
        self.win_length = win_length
        self.hop_length = hop_length
        self.window = window
        self.max_frames = max_frames
        self.pad_mode = pad_mode
        self.crop = crop
        self.normalize = normalize
        self.top_db = top_db
        self.dtype = dtype
        self.n_jobs = n_jobs
        self.verbose = verbose

    # ------------------------------------------------------------------ validation
    def _check_params(self) -> None:
        """Checks that involve several parameters (each one alone is in the table)."""
        if self.win_length is not None and self.win_length > self.n_fft:
            raise ValueError(
                f"{type(self).__name__}: win_length must be <= n_fft={self.n_fft}, "
                f"got {self.win_length}."
            )

    # ------------------------------------------------------------------ sklearn API
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> BaseExtractor:
        """Validate the parameters and fix the number of output frames.

        Parameters
        ----------
        X : sequence of paths or waveforms, or ndarray of shape (n_samples, n_audio_samples)
            Training audio. Only its lengths are read (file headers, not the audio), and only
            when ``max_frames`` is None.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted extractor, with ``n_frames_`` (the output length: ``max_frames``, or
            the number of frames of the longest training utterance) and ``n_bins_``.
        """
        self._check_params()
        sources = self._sources(X, reset=True)
        if self.max_frames is not None:
            self.n_frames_ = int(self.max_frames)
        else:
            longest = int(audio_durations(sources, self.sr).max())
            self.n_frames_ = 1 + longest // self.hop_length
        self.n_bins_ = len(self._bin_names())
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Compute the feature of every utterance.

        Parameters
        ----------
        X : sequence of paths or waveforms, or ndarray of shape (n_samples, n_audio_samples)
            Audio to transform. Waveforms given as arrays are taken to be at ``sr`` Hz.

        Returns
        -------
        features : ndarray of shape (n_samples, n_bins_, n_frames_)
            One feature map per utterance, padded or cropped to ``n_frames_`` frames.

        Warns
        -----
        NoSpeechWarning
            Naming the utterances (index and file name) that are silent (no 25 ms frame
            at or above -50 dBFS) or shorter than 0.25 s: whatever a model predicts for
            them is not an emotion of speech.
        """
        check_is_fitted(self, "n_frames_")
        sources = self._sources(X, reset=False)
        return extract_in_chunks(self, sources, self._transform_chunk, _CHUNK)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the ``n_bins_`` feature bins (axis 1 of the output).

        Parameters
        ----------
        input_features : None
            Ignored; present for API consistency.

        Returns
        -------
        names : ndarray of str of shape (n_bins_,)
        """
        check_is_fitted(self, "n_frames_")
        return np.asarray(self._bin_names(), dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.string = True  # file paths
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = []
        return tags

    # ------------------------------------------------------------------ internals
    def _sources(self, X: Any, reset: bool) -> list:
        return audio_sources(self, X, reset)

    @property
    def _target_length(self) -> int:
        # A centred STFT gives 1 + (L + 2 * (n_fft // 2) - n_fft) // hop frames: this L
        # gives exactly n_frames_ (the n_fft % 2 term matters for odd FFT sizes).
        return (self.n_frames_ - 1) * self.hop_length + self.n_fft % 2

    def _fix_length(self, y: np.ndarray) -> np.ndarray:
        target = max(self._target_length, 1)
        n = y.shape[0]
        if n > target and self.crop == "cover":
            y = _cover(y, target, self.sr)
            n = y.shape[0]
        if n > target:
            start = (n - target) // 2 if self.crop == "center" else 0
            return y[start : start + target]
        if n < target:
            if self.pad_mode == "wrap":
                return np.resize(y, target)
            return np.pad(y, (0, target - n))
        return y

    def _transform_chunk(self, sources: list, offset: int) -> tuple[np.ndarray, list]:
        waves = load_sources(sources, self.sr, offset)
        problems = _no_speech(waves, self.sr, offset)
        return self._transform_waves([self._fix_length(w) for w in waves]), problems

    def _transform_waves(self, waves: list) -> np.ndarray:
        """Features of waveforms already at ``sr`` and of the target length."""
        features = self._compute(np.stack(waves))[:, : self.n_frames_].transpose(0, 2, 1)
        features = self._normalize(features)
        return features.astype(self.dtype, copy=False)

    def _normalize(self, features: np.ndarray) -> np.ndarray:
        if self.normalize is None:
            return np.ascontiguousarray(features)
        # float64, so that a constant bin (silence at the log floor) centres to exactly 0.
        features = features.astype(np.float64)
        mean = features.mean(axis=-1, keepdims=True)
        features = features - mean
        if self.normalize == "standard":
            std = features.std(axis=-1, keepdims=True)
            # The floor is relative: rounding noise of a constant bin is not amplified.
            floor = np.maximum(1e-6 * np.abs(mean), 1e-8)
            features = np.where(std > floor, features / np.maximum(std, floor), 0.0)
        return features

    def _power(self, batch: np.ndarray) -> np.ndarray:
        win_length = self.n_fft if self.win_length is None else self.win_length
        window = analysis_window(self.window, win_length, self.n_fft)
        return power_spectrogram(batch, n_fft=self.n_fft, hop_length=self.hop_length, window=window)

    @abstractmethod
    def _compute(self, batch: np.ndarray) -> np.ndarray:
        """Feature of equal-length signals ``(n, L)``, frame-major: ``(n, frames, n_bins)``."""

    @abstractmethod
    def _bin_names(self) -> list[str]:
        """One name per output bin."""


def extract_in_chunks(
    estimator: Any,
    sources: list,
    extract: Callable[[list, int], tuple[np.ndarray, list]],
    chunk_size: int,
) -> np.ndarray:
    """The extraction loop of every extractor: chunks of utterances, in parallel threads.

    ``extract(part, offset)`` computes the features of ``sources[offset : offset +
    len(part)]`` and the no-speech problems found (:func:`_no_speech`); the chunks run in
    ``estimator.n_jobs`` joblib threads (the work is numpy and FFTs, which release the
    GIL) with BLAS limited to one thread each, with a progress bar when
    ``estimator.verbose``. The problems of all chunks are reported in one
    :class:`~sklearn_ser.NoSpeechWarning`; the features are concatenated along axis 0.
    """
    chunks = [
        (start, sources[start : start + chunk_size]) for start in range(0, len(sources), chunk_size)
    ]
    parallel = Parallel(n_jobs=estimator.n_jobs, prefer="threads", return_as="generator")
    # Each job already keeps a core busy; threaded BLAS inside threaded jobs thrashes.
    with threadpool_limits(limits=1, user_api="blas"):
        results = parallel(delayed(extract)(part, start) for start, part in chunks)
        if estimator.verbose:
            from tqdm.auto import tqdm

            results = tqdm(
                results,
                total=len(chunks),
                unit="chunk",
                desc=f"{type(estimator).__name__} ({len(sources)} utterances)",
            )
        results = list(results)
    _warn_no_speech([p for _, problems in results for p in problems], sources)
    return np.concatenate([features for features, _ in results], axis=0)


def _no_speech(waves: list, sr: int, offset: int) -> list[tuple[int, str]]:
    """``(index, reason)`` of the waveforms that are too short, silent or hold no speech
    (:func:`~sklearn_ser.has_speech`'s decision)."""
    problems = []
    for i, w in enumerate(waves):
        reason = no_speech_reason(w, sr)
        if reason is not None:
            problems.append((offset + i, reason))
    return problems


def _warn_no_speech(problems: list[tuple[int, str]], sources: list) -> None:
    if not problems:
        return
    parts = []
    for reason, text in (
        ("silent", "silent"),
        ("no speech", "without speech (noise or hum only)"),
        ("short", f"shorter than {MIN_DURATION:g} s"),
    ):
        found = [describe_source(sources[i], i) for i, r in problems if r == reason]
        if found:
            shown = ", ".join(found[:10]) + (
                f" and {len(found) - 10} more" if len(found) > 10 else ""
            )
            parts.append(f"{text}: {shown}")
    warnings.warn(
        f"{len(problems)} of {len(sources)} utterances are silent, without speech or too short "
        f"to carry an emotion; whatever is predicted for them says nothing about speech. "
        f"{'; '.join(parts)[0].upper()}{'; '.join(parts)[1:]}.",
        NoSpeechWarning,
        stacklevel=_outside_stacklevel(),
    )


def _outside_stacklevel() -> int:
    """The ``stacklevel`` (for its caller's ``warnings.warn``) of the first frame outside
    sklearn_ser and scikit-learn: the user's line, past any wrappers and pipelines."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] in (
        "sklearn_ser",
        "sklearn",
    ):
        frame, level = frame.f_back, level + 1
    return level


def _cover(y: np.ndarray, target: int, sr: int) -> np.ndarray:
    """Long audio reduced to ``target`` samples without losing any part of it wholesale.

    Stretches without sound are dropped (:func:`~sklearn_ser.detect_speech`); if the rest
    is still longer than ``target``, evenly spaced pieces of it (at least two, and as many
    of at least 0.5 s as fit) are joined, so that the beginning, the middle and the end
    all count.
    """
    # The fixed level, as when the models were trained (pauses of clean speech).
    intervals = detect_speech(y, sr, vad="threshold")
    if len(intervals):
        y = np.concatenate([y[a:b] for a, b in intervals])
    n = y.shape[0]
    if n <= target:
        return y
    # At least two pieces (the beginning and the end count), at most as many as fit.
    k = int(min(np.ceil(n / target), max(2, target // max(int(_MIN_PIECE * sr), 1))))
    bounds = np.linspace(0, target, k + 1).round().astype(int)
    pieces = []
    for j in range(k):
        size = bounds[j + 1] - bounds[j]
        centre = (j + 0.5) * n / k
        start = int(np.clip(round(centre - size / 2), 0, n - size))
        pieces.append(y[start : start + size])
    return np.concatenate(pieces)


def audio_sources(estimator: Any, X: Any, reset: bool) -> list:
    """Per-utterance sources of an audio transformer; a numeric 2-D array follows
    scikit-learn's contract.

    A matrix of equal-length waveforms is validated like any scikit-learn input (finite
    values, at least one row, the same number of columns as in ``fit``); sequences of
    paths or of waveforms of any lengths go through :func:`as_audio_sources`.
    """
    if _is_numeric_matrix(X):
        X = validate_data(estimator, X, reset=reset, dtype=[np.float32, np.float64])
        return list(X)
    if reset and hasattr(estimator, "n_features_in_"):
        del estimator.n_features_in_
    return as_audio_sources(X)
