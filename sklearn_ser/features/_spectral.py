"""Spectrogram, log-mel spectrogram and MFCC extractors."""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np
import scipy.fft
from sklearn.utils._param_validation import Interval

from .._param_validation import Int
from ._base import BaseExtractor, power_to_db

__all__ = ["MFCCExtractor", "MelSpectrogramExtractor", "SpectrogramExtractor"]

_COMMON_DOC = """
    sr : int, default=16000
        Sampling rate in Hz. Files are resampled to it; waveforms given as arrays are
        taken to be at this rate.
    n_fft : int, default=512
        FFT size in samples (32 ms at 16 kHz).
    win_length : int or None, default=400
        Window length in samples (25 ms at 16 kHz), centred in ``n_fft``; None means
        ``n_fft``.
    hop_length : int, default=160
        Hop between frames in samples (10 ms at 16 kHz).
    window : str, tuple or callable, default="hann"
        Window specification, as :func:`scipy.signal.get_window` (and librosa) take it.
    max_frames : int or None, default=None
        Number of output frames. Longer audio is cropped and shorter audio padded *as a
        waveform*, before analysis, so padding is true silence (or repeated audio).
        None learns it in ``fit`` from the longest training utterance.
    pad_mode : {"constant", "wrap"}, default="constant"
        How short audio is padded: with silence, or by repeating the utterance.
    crop : {"center", "start", "cover"}, default="center"
        Which part of long audio is kept: its centre, its start, or all of it
        (``"cover"``: stretches without sound are dropped, then, if the rest is still too
        long, evenly spaced pieces of it are joined, so that the beginning, the middle and
        the end all count; what :func:`~sklearn_ser.make_ser_pipeline` uses).
    normalize : {None, "mean", "standard"}, default=None
        Per-utterance normalisation of each bin over time: none, mean removal (as in
        cepstral mean normalisation) or standardisation to zero mean and unit variance.
    top_db : float or None, default=80.0
        Floor of each log feature at ``top_db`` below the utterance's maximum (as
        :func:`librosa.power_to_db`); silent audio maps to a finite floor, never -inf.
    dtype : numpy dtype, default=np.float32
        Output dtype.
    n_jobs : int or None, default=None
        Parallel jobs (joblib; threads unless a ``parallel_backend`` context chooses loky,
        Dask or Ray). None means 1 unless in a joblib context; -1 uses all cores.
    verbose : int, default=0
        Show a progress bar when > 0."""

_ATTRIBUTES_DOC = """
    n_frames_ : int
        Number of output frames.
    n_bins_ : int
        Number of output bins (axis 1 of the output).
    n_features_in_ : int
        Number of audio samples per row, only when fitted on a 2-D array."""


def _fill_doc(cls: type) -> type:
    cls.__doc__ = cls.__doc__.replace("    {common}", _COMMON_DOC.strip("\n")).replace(
        "    {attributes}", _ATTRIBUTES_DOC.strip("\n")
    )
    return cls


_MEL_CONSTRAINTS = {
    "n_mels": [Int(1)],
    "fmin": [Interval(numbers.Real, 0, None, closed="left")],
    "fmax": [Interval(numbers.Real, 0, None, closed="neither"), None],
}


def _check_mel_params(est: Any) -> None:
    """The mel band edges against each other and the Nyquist frequency ``sr / 2``."""
    nyquist = est.sr / 2
    if est.fmin >= nyquist:
        raise ValueError(
            f"{type(est).__name__}: fmin must be in [0, sr/2={nyquist:g}), got {est.fmin!r}."
        )
    if est.fmax is not None and not est.fmin < est.fmax <= nyquist:
        raise ValueError(
            f"{type(est).__name__}: fmax must be None or in (fmin={est.fmin:g}, "
            f"sr/2={nyquist:g}], got {est.fmax!r}."
        )


def _mel_db(est: Any, batch: np.ndarray) -> np.ndarray:
    import librosa

    mel_basis = librosa.filters.mel(
        sr=est.sr, n_fft=est.n_fft, n_mels=est.n_mels, fmin=est.fmin, fmax=est.fmax
    ).astype(np.float32)
    return power_to_db(np.matmul(est._power(batch), mel_basis.T), est.top_db)


@_fill_doc
class SpectrogramExtractor(BaseExtractor):
    """Log-power STFT spectrogram, in dB.

    Equal, within float32 rounding, to
    ``librosa.power_to_db(np.abs(librosa.stft(y, ...)) ** 2, top_db=top_db)`` computed file
    by file, but batched over utterances.

    Parameters
    ----------
    {common}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    MelSpectrogramExtractor : log-mel spectrogram.
    MFCCExtractor : mel-frequency cepstral coefficients.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser import SpectrogramExtractor
    >>> waves = np.random.default_rng(0).normal(size=(2, 16000))
    >>> SpectrogramExtractor(max_frames=50).fit_transform(waves).shape
    (2, 257, 50)
    """

    _feature_prefix = "spec"

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
        super().__init__(
            sr=sr, n_fft=n_fft, win_length=win_length, hop_length=hop_length, window=window,
            max_frames=max_frames, pad_mode=pad_mode, crop=crop, normalize=normalize,
            top_db=top_db, dtype=dtype, n_jobs=n_jobs, verbose=verbose,
        )  # fmt: skip

    def _compute(self, batch: np.ndarray) -> np.ndarray:
        return power_to_db(self._power(batch), self.top_db)

    def _bin_names(self) -> list[str]:
        return [f"spec{i}" for i in range(self.n_fft // 2 + 1)]


@_fill_doc
class MelSpectrogramExtractor(BaseExtractor):
    """Log-mel spectrogram, in dB.

    Equal, within float32 rounding, to
    ``librosa.power_to_db(librosa.feature.melspectrogram(y=y, ...), top_db=top_db)``
    computed file by file, but batched over utterances.

    Parameters
    ----------
    n_mels : int, default=64
        Number of mel bands.
    fmin : float, default=0.0
        Lowest frequency of the mel filter bank, in Hz.
    fmax : float or None, default=None
        Highest frequency; None means ``sr / 2``.
    {common}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    SpectrogramExtractor : linear-frequency log-power spectrogram.
    MFCCExtractor : mel-frequency cepstral coefficients.
    FeatureStatistics : pool the frames into fixed-size functionals.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser import MelSpectrogramExtractor
    >>> waves = np.random.default_rng(0).normal(size=(3, 16000))
    >>> mel = MelSpectrogramExtractor(n_mels=40).fit(waves)
    >>> mel.transform(waves).shape
    (3, 40, 101)
    >>> mel.get_feature_names_out()[:3]
    array(['mel0', 'mel1', 'mel2'], dtype=object)
    """

    _feature_prefix = "mel"
    _parameter_constraints: ClassVar[dict] = {
        **BaseExtractor._parameter_constraints,
        **_MEL_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        n_mels: int = 64,
        fmin: float = 0.0,
        fmax: float | None = None,
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
        super().__init__(
            sr=sr, n_fft=n_fft, win_length=win_length, hop_length=hop_length, window=window,
            max_frames=max_frames, pad_mode=pad_mode, crop=crop, normalize=normalize,
            top_db=top_db, dtype=dtype, n_jobs=n_jobs, verbose=verbose,
        )  # fmt: skip
        self.n_mels = n_mels
        self.fmin = fmin
        self.fmax = fmax

    def _check_params(self) -> None:
        super()._check_params()
        _check_mel_params(self)

    def _compute(self, batch: np.ndarray) -> np.ndarray:
        return _mel_db(self, batch)

    def _bin_names(self) -> list[str]:
        return [f"mel{i}" for i in range(self.n_mels)]


@_fill_doc
class MFCCExtractor(BaseExtractor):
    """Mel-frequency cepstral coefficients, optionally with deltas.

    The DCT-II (orthonormal) of the log-mel spectrogram, as :func:`librosa.feature.mfcc`;
    deltas as :func:`librosa.feature.delta` (Savitzky-Golay, width 9), stacked along the
    bin axis: ``[mfcc, delta, delta-delta]``.

    Parameters
    ----------
    n_mfcc : int, default=40
        Number of coefficients.
    n_mels : int, default=64
        Number of mel bands the cepstrum is taken from.
    fmin : float, default=0.0
        Lowest frequency of the mel filter bank, in Hz.
    fmax : float or None, default=None
        Highest frequency; None means ``sr / 2``.
    deltas : int, default=0
        0 for MFCCs only, 1 to add deltas, 2 to add deltas and delta-deltas.
    {common}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    MelSpectrogramExtractor : the log-mel spectrogram the cepstrum comes from.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser import MFCCExtractor
    >>> waves = np.random.default_rng(0).normal(size=(2, 16000))
    >>> MFCCExtractor(n_mfcc=13, deltas=2).fit_transform(waves).shape
    (2, 39, 101)
    """

    _feature_prefix = "mfcc"
    _parameter_constraints: ClassVar[dict] = {
        **BaseExtractor._parameter_constraints,
        **_MEL_CONSTRAINTS,
        "n_mfcc": [Int(1)],
        "deltas": [Int(0, 2, closed="both")],
    }

    def __init__(
        self,
        *,
        n_mfcc: int = 40,
        n_mels: int = 64,
        fmin: float = 0.0,
        fmax: float | None = None,
        deltas: int = 0,
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
        super().__init__(
            sr=sr, n_fft=n_fft, win_length=win_length, hop_length=hop_length, window=window,
            max_frames=max_frames, pad_mode=pad_mode, crop=crop, normalize=normalize,
            top_db=top_db, dtype=dtype, n_jobs=n_jobs, verbose=verbose,
        )  # fmt: skip
        self.n_mfcc = n_mfcc
        self.n_mels = n_mels
        self.fmin = fmin
        self.fmax = fmax
        self.deltas = deltas

    def _check_params(self) -> None:
        super()._check_params()
        _check_mel_params(self)
        if self.n_mfcc > self.n_mels:
            raise ValueError(
                f"MFCCExtractor: n_mfcc must be <= n_mels={self.n_mels}, got {self.n_mfcc}."
            )

    def _compute(self, batch: np.ndarray) -> np.ndarray:
        import librosa

        mfcc = scipy.fft.dct(_mel_db(self, batch), type=2, norm="ortho", axis=-1)
        mfcc = mfcc[:, :, : self.n_mfcc].astype(np.float32)
        if not self.deltas:
            return mfcc
        # Deltas need at least `width` frames; librosa's interp mode requires it.
        n_frames = mfcc.shape[1]
        width = min(9, n_frames - (1 - n_frames % 2))
        if width < 3:
            parts = [mfcc] + [np.zeros_like(mfcc)] * self.deltas
        else:
            parts = [mfcc] + [
                librosa.feature.delta(mfcc, width=width, order=order, axis=1)
                for order in range(1, self.deltas + 1)
            ]
        return np.concatenate(parts, axis=-1)

    def _bin_names(self) -> list[str]:
        prefixes = ["mfcc", "d_mfcc", "dd_mfcc"][: self.deltas + 1]
        return [f"{p}{i}" for p in prefixes for i in range(self.n_mfcc)]
