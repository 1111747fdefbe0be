"""Audio input: one place where paths and waveforms become validated mono float arrays.

Every transformer of the library reads its ``X`` through :func:`load_audio`, so the rules
(mixing to mono, integer PCM to float, resampling, error messages) hold everywhere.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "NoSpeechWarning",
    "as_audio_sources",
    "audio_durations",
    "detect_speech",
    "load_audio",
]

# A source is a path (str or PathLike), a waveform array, or a (waveform, sr) pair.
AudioSource = Any

# Voice activity: frames of 25 ms every 10 ms whose RMS is at least SILENCE_DB dB relative
# to full scale (a sine of amplitude 1 has RMS -3 dBFS). -50 dBFS is well below speech at
# any usual recording level (-35 to -15 dBFS) and above the noise floor of a quiet room.
SILENCE_DB = -50.0
VAD_FRAME = 0.025
VAD_HOP = 0.010
# Audio shorter than this (seconds) is too short to carry an emotion.
MIN_DURATION = 0.25


class NoSpeechWarning(UserWarning):
    """Warned when audio to be labelled holds no speech (silent) or is too short.

    Examples
    --------
    >>> import warnings
    >>> from sklearn_ser import NoSpeechWarning
    >>> issubclass(NoSpeechWarning, UserWarning)
    True
    """


def _is_path(obj: Any) -> bool:
    return isinstance(obj, (str, os.PathLike))


def _is_pair(obj: Any) -> bool:
    """A ``(waveform, sr)`` pair: a 2-tuple of an array-like and a number of Hz."""
    return (
        isinstance(obj, tuple)
        and len(obj) == 2
        and not _is_path(obj[0])
        and not np.isscalar(obj[0])
        and isinstance(obj[1], (numbers.Real, np.number))
        and not isinstance(obj[1], (bool, np.bool_))
    )


def as_audio_sources(X: Any) -> list[AudioSource]:
    """Split ``X`` into a list of per-utterance sources (paths or 1-D/2-D arrays).

    ``X`` may be a sequence of paths, a sequence of waveforms (possibly of different lengths),
    a sequence of ``(waveform, sr)`` pairs that declare each waveform's sampling rate, or a
    2-D numeric array with one equal-length waveform per row.

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
        If ``X`` is empty, a single waveform or pair, an array with other than 2 dimensions,
        or mixes ``(waveform, sr)`` pairs with waveforms of undeclared rate (ambiguous).
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
    >>> len(as_audio_sources([(np.zeros(2205), 22050)]))
    1
    """
    if _is_pair(X):
        raise ValueError(
            "X must be a collection of audio sources, got a single (waveform, sr) pair; "
            "pass [(waveform, sr)] for one waveform."
        )
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
    pairs = [_is_pair(s) for s in sources]
    if any(pairs):
        plain = [i for i, (s, p) in enumerate(zip(sources, pairs)) if not p and not _is_path(s)]
        if plain:
            raise ValueError(
                f"X mixes (waveform, sr) pairs with waveforms of undeclared sampling rate "
                f"(samples {_some(plain)}): declare the rate of every waveform, e.g. "
                "[(y, 22050), ...], so that none is misread."
            )
    return sources


def _some(indices: Sequence[int], limit: int = 5) -> str:
    shown = ", ".join(str(i) for i in indices[:limit])
    return shown + (f" and {len(indices) - limit} more" if len(indices) > limit else "")


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
    if _is_pair(source):
        source, declared = source
        input_sr = _check_sr(declared, f"{_describe(index)}: the sampling rate of the pair")
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
        of 1-D waveforms of any lengths (2-D entries are ``(channels, samples)``), a
        sequence of ``(waveform, sr)`` pairs declaring each waveform's rate, or a 2-D
        array with one waveform per row.
    sr : int, default=16000
        Target sampling rate in Hz.
    input_sr : int, default=None
        Sampling rate of waveforms given as arrays; ``None`` means they already are at
        ``sr``. A ``(waveform, rate)`` pair in ``X`` declares its own rate, which takes
        precedence. Files always use the rate in their header.

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
    >>> load_audio([(tone, 8000)], sr=16000)[0].shape
    (16000,)
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
        elif _is_pair(source):
            arr, rate = np.asarray(source[0]), _check_sr(source[1], _describe(i))
            n = arr.shape[-1] if arr.ndim else 0
            lengths[i] = (n * sr * 2 + rate) // (2 * rate)
        else:
            arr = np.asarray(source)
            lengths[i] = arr.shape[-1] if arr.ndim else 0
    return lengths


# --------------------------------------------------------------------------- voice activity
def _vad_frames(sr: int) -> tuple[int, int]:
    return max(round(VAD_FRAME * sr), 1), max(round(VAD_HOP * sr), 1)


def frame_levels(y: np.ndarray, sr: int) -> np.ndarray:
    """RMS level in dBFS of 25 ms frames every 10 ms of the rows of ``y``.

    Frame ``j`` covers samples ``[j * hop, j * hop + frame)``; audio shorter than one frame
    is one frame. Works on ``(n_samples,)`` or ``(n, n_samples)`` (then per row).
    """
    y = np.asarray(y, dtype=np.float32)
    frame, hop = _vad_frames(sr)
    length = y.shape[-1]
    if length < frame:
        power = np.mean(np.square(y, dtype=np.float64), axis=-1, keepdims=True)
    else:
        from numpy.lib.stride_tricks import sliding_window_view

        frames = sliding_window_view(y, frame, axis=-1)[..., ::hop, :]
        power = np.einsum("...i,...i->...", frames, frames, dtype=np.float64) / frame
    return 10.0 * np.log10(np.maximum(power, 1e-20))


def detect_speech(
    y: Any,
    sr: int = 16000,
    *,
    threshold_db: float = SILENCE_DB,
    min_silence: float = 0.3,
) -> np.ndarray:
    """Find the stretches of a waveform that hold sound above a fixed level (voice activity).

    An energy criterion, like :func:`librosa.effects.split`, but relative to a fixed floor
    (full scale) rather than to the loudest frame, so that all-zero or near-silent audio has
    no active stretch at all: frames of 25 ms every 10 ms are active when their RMS level is
    at least ``threshold_db`` dBFS, and active frames closer than ``min_silence`` seconds are
    joined into one stretch.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Mono waveform, values in [-1, 1].
    sr : int, default=16000
        Its sampling rate in Hz.
    threshold_db : float, default=-50.0
        Level (RMS, dB relative to full scale) from which a frame counts as sound. Speech
        at usual recording levels lies between -35 and -15 dBFS. Lower it for very quiet
        recordings; raise it for noisy ones.
    min_silence : float, default=0.3
        Pauses shorter than this (seconds) do not split a stretch.

    Returns
    -------
    intervals : ndarray of int of shape (n_intervals, 2)
        Start and end sample of each stretch (end exclusive), as ``librosa.effects.split``;
        empty for silence. Edges are exact to within a frame (25 ms).

    See Also
    --------
    librosa.effects.split : the same idea, relative to the loudest frame.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser import detect_speech
    >>> t = np.arange(16000) / 16000
    >>> y = np.concatenate([np.zeros(16000), 0.3 * np.sin(2 * np.pi * 200 * t), np.zeros(8000)])
    >>> detect_speech(y, 16000)  # the tone lies in samples 16000-32000, to within a frame
    array([[15680, 32240]])
    >>> detect_speech(np.zeros(32000), 16000).shape
    (0, 2)
    """
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"detect_speech: y must be a 1-D waveform, got shape {y.shape}.")
    sr = _check_sr(sr, "detect_speech: sr")
    active = frame_levels(y, sr) >= threshold_db
    if not active.any():
        return np.zeros((0, 2), dtype=np.int64)
    frame, hop = _vad_frames(sr)
    # Edges of runs of active frames, then join runs separated by short pauses.
    padded = np.concatenate([[False], active, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    starts, stops = edges[::2], edges[1::2]  # frame indices, stop exclusive
    gap = min_silence / VAD_HOP
    first = np.flatnonzero(np.concatenate([[True], starts[1:] - stops[:-1] >= gap]))
    last = np.concatenate([first[1:] - 1, [len(stops) - 1]])
    starts, stops = starts[first], stops[last]
    begin = starts * hop
    # A frame's sound may lie anywhere in it; a stretch ends where its last frame ends.
    end = np.minimum((stops - 1) * hop + frame, y.shape[0])
    return np.stack([begin, end], axis=1).astype(np.int64)


def speech_fraction(y: np.ndarray, sr: int, threshold_db: float = SILENCE_DB) -> np.ndarray:
    """Share of active 25 ms frames in each row of ``(n, n_samples)`` (or of one waveform)."""
    return (frame_levels(y, sr) >= threshold_db).mean(axis=-1)


def describe_source(source: AudioSource, index: int) -> str:
    """``'name.wav'`` for a path, ``'sample 3'`` for a waveform: for messages."""
    if _is_path(source):
        return f"{index} ({os.path.basename(os.fspath(source))})"
    return str(index)


def stream_audio(source: AudioSource, sr: int, *, block_size: int = 1 << 18) -> tuple[Any, float]:
    """Blocks of mono float32 audio at ``sr``, read and resampled piece by piece.

    A file is read with :class:`soundfile.SoundFile` ``block_size`` frames at a time, and
    resampled with :class:`soxr.ResampleStream`, which keeps its filter state between
    blocks: the concatenated blocks equal the whole file resampled at once, without clicks
    at the block boundaries, while memory holds one block. A waveform (or a ``(waveform,
    rate)`` pair) goes through the same resampler in blocks.

    Parameters
    ----------
    source : str, PathLike, array-like or (array-like, int)
        A file, a 1-D (or channels x samples) waveform at ``sr``, or a pair declaring the
        waveform's rate.
    sr : int
        Output sampling rate.
    block_size : int, default=262144
        Input frames per block.

    Returns
    -------
    blocks : iterator of ndarray of shape (n,)
        The audio, block by block.
    duration : float
        Its length in seconds.
    """
    sr = _check_sr(sr, "sr")
    if _is_path(source):
        import soundfile as sf

        where = _describe(None, source)
        fspath = os.fspath(source)
        if not os.path.exists(fspath):
            raise FileNotFoundError(f"{where}: no such file.")
        try:
            info = sf.info(fspath)
        except Exception as exc:
            raise ValueError(f"{where}: could not be read as audio ({exc}).") from exc
        if info.frames == 0:
            raise ValueError(f"{where} is empty (0 audio samples).")

        def read() -> Any:
            with sf.SoundFile(fspath) as f:
                while True:
                    data = f.read(block_size, dtype="float32", always_2d=True)
                    if not len(data):
                        return
                    yield data[:, 0] if data.shape[1] == 1 else data.mean(axis=1, dtype=np.float32)

        return _resampled(read(), int(info.samplerate), sr, where), info.frames / info.samplerate
    rate = sr
    if _is_pair(source):
        source, rate = source[0], _check_sr(source[1], "the sampling rate of the pair")
    where = _describe(None)
    y = np.asarray(source)
    if y.dtype == object:
        raise ValueError(f"{where}: expected a numeric waveform, got an object array.")
    y = _to_float(y, where)
    if y.ndim == 2:
        y = y.mean(axis=0)
    elif y.ndim != 1:
        raise ValueError(
            f"{where}: a waveform must be 1-D (or 2-D channels x samples), got shape {y.shape}."
        )
    if y.size == 0:
        raise ValueError(f"{where} is empty (0 audio samples).")
    blocks = (y[i : i + block_size] for i in range(0, y.shape[0], block_size))
    return _resampled(blocks, rate, sr, where), y.shape[0] / rate


def _resampled(blocks: Any, in_rate: int, out_rate: int, where: str) -> Any:
    resampler = None
    if in_rate != out_rate:
        import soxr

        resampler = soxr.ResampleStream(in_rate, out_rate, 1, dtype="float32", quality="HQ")
    for block in blocks:
        block = np.ascontiguousarray(block, dtype=np.float32)
        if not np.all(np.isfinite(block)):
            raise ValueError(f"{where} contains NaN or infinity.")
        if resampler is not None:
            block = resampler.resample_chunk(block, last=False)
        if block.size:
            yield block
    if resampler is not None:
        tail = resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
        if tail.size:
            yield tail
