"""Audio input: one place where paths and waveforms become validated mono float arrays.

Every transformer of the library reads its ``X`` through :func:`load_audio`, so the rules
(mixing to mono, integer PCM to float, resampling, error messages) hold everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["as_audio_sources", "audio_durations", "load_audio"]

# A source is either a path (str or PathLike) or a waveform array.
AudioSource = Any


def _is_path(obj: Any) -> bool:
    return isinstance(obj, (str, os.PathLike))


def as_audio_sources(X: Any) -> list[AudioSource]:
    """Split ``X`` into a list of per-utterance sources (paths or 1-D/2-D arrays).

    ``X`` may be a sequence of paths, a sequence of waveforms (possibly of different lengths),
    or a 2-D numeric array with one equal-length waveform per row.

    Parameters
    ----------
    X : sequence of str or PathLike, sequence of array-like, or ndarray of shape (n, n_samples)
        The audio collection.

    Returns
    -------
    sources : list
        One path or array per utterance.

    Raises
    ------
    ValueError
        If ``X`` is empty, a single waveform, or an array with other than 2 dimensions.
    TypeError
        If ``X`` is a sparse matrix, or is neither a sequence nor an array.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser import as_audio_sources
    >>> len(as_audio_sources(np.zeros((3, 1600))))
    3
    >>> as_audio_sources(["a.wav", "b.flac"])
    ['a.wav', 'b.flac']
    """
    if _is_path(X):
        raise ValueError(
            f"X must be a collection of audio sources, got a single path {str(X)!r}; "
            "pass [path] for one file."
        )
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError("Sparse input is not supported: X must be audio paths or dense waveforms.")
    if isinstance(X, np.ndarray) and X.dtype.kind in "US":  # an array of paths
        if X.ndim != 1:
            raise ValueError(f"An array of paths must be 1-D, got shape {X.shape}.")
        if X.shape[0] == 0:
            raise ValueError("X contains no utterances (0 samples).")
        return [str(p) for p in X]
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim != 2:
            raise ValueError(
                f"A numeric X must be a 2-D array with one waveform per row, got an array of "
                f"shape {X.shape} ({X.ndim}-D). Pass a list of 1-D arrays for waveforms of "
                "different lengths, or [waveform] for a single one."
            )
        if X.shape[0] == 0:
            raise ValueError(f"X contains no utterances (0 samples, shape={X.shape}).")
        return list(X)
    if hasattr(X, "to_numpy") and not isinstance(X, np.ndarray):  # pandas Series / DataFrame
        X = X.to_numpy()
        if X.ndim == 2 and X.shape[1] == 1 and X.dtype == object:
            X = X[:, 0]
        return as_audio_sources(X)
    if not isinstance(X, (Sequence, np.ndarray)):
        try:
            X = list(X)
        except TypeError:
            raise TypeError(
                f"X must be a sequence of audio paths or waveforms, got {type(X).__name__}."
            ) from None
    sources = list(X)
    if len(sources) == 0:
        raise ValueError("X contains no utterances (0 samples).")
    if all(np.isscalar(s) and not _is_path(s) for s in sources):
        raise ValueError(
            "X looks like a single 1-D waveform; pass [waveform] (a list of waveforms) "
            "or a 2-D array with one waveform per row."
        )
    return sources


def _to_float(y: np.ndarray, where: str) -> np.ndarray:
    if np.iscomplexobj(y):
        raise ValueError(f"{where}: complex data is not supported for audio.")
    if y.dtype.kind in "iu":  # integer PCM -> [-1, 1)
        info = np.iinfo(y.dtype)
        scale = float(max(abs(info.min), info.max))
        offset = 0.0 if info.min < 0 else (info.max + 1) / 2.0
        return ((y.astype(np.float64) - offset) / scale).astype(np.float32)
    if y.dtype.kind == "b":
        return y.astype(np.float32)
    if y.dtype.kind not in "f":
        try:
            return y.astype(np.float32)
        except (TypeError, ValueError):
            raise ValueError(
                f"{where}: expected a numeric waveform, got dtype {y.dtype}."
            ) from None
    return y


def _describe(index: int | None, path: Any = None) -> str:
    parts = []
    if index is not None:
        parts.append(f"sample {index}")
    if path is not None:
        parts.append(repr(os.fspath(path)))
    return "Audio " + (" ".join(parts) if parts else "input")


def _read_file(path: Any, index: int | None) -> tuple[np.ndarray, int]:
    import soundfile as sf

    where = _describe(index, path)
    fspath = os.fspath(path)
    if not os.path.exists(fspath):
        raise FileNotFoundError(f"{where}: no such file.")
    if os.path.isdir(fspath):
        raise ValueError(f"{where}: is a folder, not an audio file.")
    try:
        data, file_sr = sf.read(fspath, dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises LibsndfileError, RuntimeError, TypeError...
        raise ValueError(f"{where}: could not be read as audio ({exc}).") from exc
    # soundfile gives (frames, channels): average the channels to mono.
    mono = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1, dtype=np.float32)
    return mono, int(file_sr)


def _check_sr(value: Any, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer, float)):
        raise ValueError(f"{name} must be a positive number of Hz, got {value!r}.")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}.")
    if float(value) != int(value):
        raise ValueError(f"{name} must be a whole number of Hz, got {value!r}.")
    return int(value)


def _load_one(source: AudioSource, sr: int, input_sr: int | None, index: int | None) -> np.ndarray:
    if _is_path(source):
        y, src_sr = _read_file(source, index)
        where = _describe(index, source)
    else:
        where = _describe(index)
        y = np.asarray(source)
        if y.dtype == object:
            raise ValueError(f"{where}: expected a numeric waveform, got an object array.")
        y = _to_float(y, where)
        if y.ndim == 2:  # librosa's convention: (channels, samples)
            y = y.mean(axis=0)
        elif y.ndim != 1:
            raise ValueError(
                f"{where}: a waveform must be 1-D (or 2-D channels x samples), got shape {y.shape}."
            )
        src_sr = sr if input_sr is None else input_sr
    if y.size == 0:
        raise ValueError(f"{where} is empty (0 audio samples).")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{where} contains NaN or infinity.")
    if src_sr != sr:
        import soxr

        y = soxr.resample(y, src_sr, sr, quality="HQ")
        if y.size == 0:
            raise ValueError(
                f"{where} is empty after resampling from {src_sr} to {sr} Hz (too short)."
            )
    return np.ascontiguousarray(y, dtype=np.float32)


def load_audio(
    X: Any,
    *,
    sr: int = 16000,
    input_sr: int | None = None,
) -> np.ndarray | list[np.ndarray]:
    """Load audio files or waveforms as mono float32 signals at ``sr`` Hz.

    Files are read with soundfile (WAV, FLAC, OGG, MP3 and every other format libsndfile
    reads), multi-channel audio is averaged to mono, integer PCM is scaled to [-1, 1), and
    the signal is resampled to ``sr`` with soxr (the same high-quality resampler that
    ``librosa.load`` uses by default).

    Parameters
    ----------
    X : str, PathLike, or a collection of them, or waveforms
        A single path (returns one array) or a collection: a sequence of paths, a sequence
        of 1-D waveforms of any lengths (2-D entries are ``(channels, samples)``), or a 2-D
        array with one waveform per row.
    sr : int, default=16000
        Target sampling rate in Hz.
    input_sr : int, default=None
        Sampling rate of waveforms given as arrays; ``None`` means they already are at
        ``sr``. Files always use the rate in their header.

    Returns
    -------
    y : ndarray of shape (n_samples,) or list of them
        One array for a single path, otherwise a list with one array per utterance.

    Raises
    ------
    FileNotFoundError
        If a path does not exist (the message names the sample index and path).
    ValueError
        For an unreadable file, empty audio, NaN or infinite samples, a waveform of the
        wrong dimensions, or a sampling rate <= 0.

    See Also
    --------
    librosa.load : per-file loading with more options.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser import load_audio
    >>> tone = np.sin(2 * np.pi * 220 * np.arange(8000) / 8000)
    >>> [y.shape for y in load_audio([tone, tone[:4000]], sr=16000, input_sr=8000)]
    [(16000,), (8000,)]
    """
    sr = _check_sr(sr, "sr")
    if input_sr is not None:
        input_sr = _check_sr(input_sr, "input_sr")
    if _is_path(X):
        return _load_one(X, sr, input_sr, None)
    return [_load_one(s, sr, input_sr, i) for i, s in enumerate(as_audio_sources(X))]


def load_sources(sources: Sequence[AudioSource], sr: int, offset: int = 0) -> list[np.ndarray]:
    """Load already-split sources; errors name indices counted from ``offset``."""
    return [_load_one(s, sr, None, offset + i) for i, s in enumerate(sources)]


def audio_durations(sources: Sequence[AudioSource], sr: int) -> np.ndarray:
    """Number of samples each source will have at ``sr``, without decoding files.

    Parameters
    ----------
    sources : sequence of paths or waveforms
        As returned by :func:`as_audio_sources`.
    sr : int
        Target sampling rate.

    Returns
    -------
    n_samples : ndarray of int
        The length in samples at ``sr`` of every source.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser import audio_durations
    >>> audio_durations([np.zeros(100), np.zeros(50)], sr=16000)
    array([100,  50])
    """
    import soundfile as sf

    lengths = np.empty(len(sources), dtype=np.int64)
    for i, source in enumerate(sources):
        if _is_path(source):
            where = _describe(i, source)
            if not os.path.exists(os.fspath(source)):
                raise FileNotFoundError(f"{where}: no such file.")
            try:
                info = sf.info(os.fspath(source))
            except Exception as exc:
                raise ValueError(f"{where}: could not be read as audio ({exc}).") from exc
            # soxr rounds the resampled length to the nearest sample.
            lengths[i] = (info.frames * sr * 2 + info.samplerate) // (2 * info.samplerate)
        else:
            arr = np.asarray(source)
            lengths[i] = arr.shape[-1] if arr.ndim else 0
    return lengths
