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
    "has_speech",
    "load_audio",
    "speech_activity",
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
# Less speech than this (seconds, by the detector) carries no emotion either.
MIN_SPEECH = 0.1


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
VAD_METHODS = ("energy", "silero", "threshold")
# The level-relative detector ("energy"): speech energy is measured in the voice band, so
# that mains hum and the low end of room noise do not count; the noise floor is the 10th
# percentile of the quietest frame of each quarter second over +-10 s (it follows slow
# changes of the background); a stretch of speech starts at 9 dB above that floor and goes
# on while the level stays 4 dB above it, and is never more than 40 dB below the loudest
# frame around it. Frames below -90 dBFS (digital silence, dither) are never speech.
_BAND = (200.0, 4000.0)
_FLOOR_BLOCK = 0.25
_FLOOR_SPAN = 10.0
_ON_DB, _OFF_DB, _RANGE_DB, _ABSOLUTE_DB = 9.0, 4.0, 40.0, -90.0
# Runs of speech closer than this are one stretch; shorter runs are dropped; runs are
# extended by the hangover at both ends (the edges of words are quieter than their core).
_MIN_GAP, _MIN_RUN, _HANGOVER = 0.2, 0.05, 0.05


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


def n_vad_frames(n_samples: int, sr: int) -> int:
    """Number of 10 ms voice-activity frames of ``n_samples`` (at least one)."""
    frame, hop = _vad_frames(sr)
    return 1 if n_samples < frame else 1 + (n_samples - frame) // hop


def _band_filter(sr: int) -> np.ndarray:
    from scipy.signal import butter

    lo, hi = _BAND
    if hi < 0.45 * sr:
        return butter(4, [lo, hi], btype="bandpass", fs=sr, output="sos")
    return butter(4, lo, btype="highpass", fs=sr, output="sos")


def _band_levels(blocks: Any, sr: int) -> np.ndarray:
    """Voice-band level (dBFS) of the 10 ms frames of a stream of blocks, state carried."""
    from scipy.signal import sosfilt

    sos = _band_filter(sr)

    def filtered() -> Any:
        zi = np.zeros((sos.shape[0], 2))
        for block in blocks:
            out, zi = sosfilt(sos, np.asarray(block, dtype=np.float64), zi=zi)
            yield out.astype(np.float32)

    return np.concatenate([frame_levels(b, sr) for b in _reframe(filtered(), sr)])


def _runs(active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    padded = np.concatenate([[False], active, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return edges[::2], edges[1::2]  # start, stop (exclusive) frame of each run


def _tidy(active: np.ndarray, min_gap: float, min_run: float, hangover: float) -> np.ndarray:
    """Close gaps shorter than ``min_gap`` s, drop runs shorter than ``min_run``, widen."""
    starts, stops = _runs(active)
    if not len(starts):
        return active
    keep = np.concatenate([[True], starts[1:] - stops[:-1] >= min_gap / VAD_HOP])
    first = np.flatnonzero(keep)
    last = np.concatenate([first[1:] - 1, [len(stops) - 1]])
    starts, stops = starts[first], stops[last]
    long = stops - starts >= min_run / VAD_HOP
    pad = round(hangover / VAD_HOP)
    out = np.zeros_like(active)
    for a, b in zip(starts[long], stops[long]):
        out[max(a - pad, 0) : b + pad] = True
    return out


def _sliding(values: np.ndarray, span: int, fn: Any) -> np.ndarray:
    """``fn`` over a centred window of ``2 * span + 1`` values (edges repeated)."""
    from numpy.lib.stride_tricks import sliding_window_view

    padded = np.pad(values, span, mode="edge")
    return fn(sliding_window_view(padded, 2 * span + 1), axis=-1)


def _energy_activity(levels: np.ndarray) -> np.ndarray:
    """The level-relative decision on voice-band frame levels (dB)."""
    sound = levels > _ABSOLUTE_DB
    if not sound.any():
        return np.zeros(levels.shape, dtype=bool)
    per = max(round(_FLOOR_BLOCK / VAD_HOP), 1)
    n_blocks = -(-len(levels) // per)
    padded = np.full(n_blocks * per, np.nan)
    padded[: len(levels)] = np.where(sound, levels, np.nan)
    blocks = padded.reshape(n_blocks, per)
    filled = ~np.all(np.isnan(blocks), axis=1)
    if not filled.all():  # quarters of digital silence take their neighbours' values
        idx = np.flatnonzero(filled)
        nearest = idx[np.clip(np.searchsorted(idx, np.arange(n_blocks)), 0, len(idx) - 1)]
        blocks = blocks[nearest]
    with np.errstate(all="ignore"):
        quiet, loud = np.nanmin(blocks, axis=1), np.nanmax(blocks, axis=1)
    span = max(round(_FLOOR_SPAN / _FLOOR_BLOCK), 1)
    floor = _sliding(quiet, span, lambda v, axis: np.percentile(v, 10, axis=axis))
    peak = _sliding(loud, span, np.max)
    floor, peak = np.repeat(floor, per)[: len(levels)], np.repeat(peak, per)[: len(levels)]
    lowest = np.maximum(peak - _RANGE_DB, _ABSOLUTE_DB)
    on = sound & (levels >= np.maximum(floor + _ON_DB, lowest))
    hold = sound & (levels >= np.maximum(floor + _OFF_DB, lowest))
    # Hysteresis: runs of `hold` frames that contain at least one `on` frame.
    starts, stops = _runs(hold)
    active = np.zeros(levels.shape, dtype=bool)
    if len(starts):
        count = np.concatenate([[0], np.cumsum(on)])
        for a, b in zip(starts, stops):
            if count[b] > count[a]:
                active[a:b] = True
    return active


def _silero_activity(blocks: Any, sr: int) -> np.ndarray:
    try:
        import torch
        from silero_vad import load_silero_vad
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "vad='silero' needs the silero-vad package (and torch): pip install 'sklearn-ser[vad]'."
        ) from exc
    model = load_silero_vad()
    rate = sr if sr in (8000, 16000) else 16000
    chunk = 512 if rate == 16000 else 256
    resampler = None
    if rate != sr:
        import soxr

        resampler = soxr.ResampleStream(sr, rate, 1, dtype="float32", quality="HQ")
    probs, pending, n_samples = [], np.zeros(0, dtype=np.float32), 0
    # Blocks of a whole number of chunks; the model keeps its state within a block.
    step = chunk * 512
    with torch.inference_mode():
        for block in [*blocks, None]:
            if block is not None:
                block = np.asarray(block, dtype=np.float32)
                n_samples += block.shape[0]
                if resampler is not None:
                    block = resampler.resample_chunk(block, last=False)
                pending = np.concatenate([pending, block])
                if pending.shape[0] < step:
                    continue
                cut = pending.shape[0] - pending.shape[0] % step
                part, pending = pending[:cut], pending[cut:]
            else:
                part, pending = pending, pending[:0]
                if not part.size:
                    break
            out = model.audio_forward(torch.from_numpy(np.ascontiguousarray(part)), rate)
            probs.append(out.numpy().ravel())
    prob = np.concatenate(probs) if probs else np.zeros(1)
    n_frames = n_vad_frames(n_samples, sr)
    # Each 10 ms frame takes the probability of the chunk holding its centre.
    frame, hop = _vad_frames(sr)
    centre = (np.arange(n_frames) * hop + frame / 2) / sr
    p = prob[np.minimum((centre * rate / chunk).astype(int), len(prob) - 1)]
    # silero's own rule: speech from 0.5, held down to 0.35.
    starts, stops = _runs(p >= 0.35)
    active = np.zeros(n_frames, dtype=bool)
    count = np.concatenate([[0], np.cumsum(p >= 0.5)])
    for a, b in zip(starts, stops):
        if count[b] > count[a]:
            active[a:b] = True
    return active


def _activity_of_stream(blocks: Any, sr: int, vad: str, threshold_db: float) -> np.ndarray:
    """Per-frame speech of a stream of blocks (at least one frame)."""
    if vad == "silero":
        active = _silero_activity(blocks, sr)
        return _tidy(active, 0.1, 0.0, 0.03)
    if vad == "threshold":
        levels = np.concatenate([frame_levels(b, sr) for b in _reframe(blocks, sr)])
        return levels >= threshold_db
    levels = _band_levels(blocks, sr)
    return _tidy(_energy_activity(levels), _MIN_GAP, _MIN_RUN, _HANGOVER)


def _reframe(blocks: Any, sr: int) -> Any:
    """Blocks overlapping by ``frame - hop`` samples, so that their frames tile the stream.

    Audio shorter than one frame comes as one block (one frame, as :func:`frame_levels`).
    """
    frame, hop = _vad_frames(sr)
    tail = np.zeros(0, dtype=np.float32)
    framed = False
    for block in blocks:
        buf = np.concatenate([tail, np.asarray(block, dtype=np.float32)])
        if buf.shape[0] < frame:
            tail = buf
            continue
        done = 1 + (buf.shape[0] - frame) // hop
        yield buf[: (done - 1) * hop + frame]
        framed = True
        tail = buf[done * hop :]
    if not framed:
        yield tail


def _check_vad(vad: Any, where: str) -> str:
    if vad not in VAD_METHODS:
        raise ValueError(f"{where}: vad must be one of {VAD_METHODS}, got {vad!r}.")
    return vad


def speech_activity(
    y: Any,
    sr: int = 16000,
    *,
    vad: str = "energy",
    threshold_db: float = SILENCE_DB,
) -> np.ndarray:
    """Which 10 ms frames of a waveform hold speech (voice activity detection).

    Frame ``j`` covers samples ``[j * hop, j * hop + frame)`` of 25 ms frames every 10 ms.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Mono waveform, values in [-1, 1].
    sr : int, default=16000
        Its sampling rate in Hz.
    vad : {"energy", "silero", "threshold"}, default="energy"
        The detector.

        - ``"energy"``: level-relative. The level of the voice band (200-4000 Hz) of
          each frame is compared with the recording's noise floor, estimated over the
          10 s around it: speech starts 9 dB above the floor, continues while 4 dB above
          it (hysteresis), and lies within 40 dB of the loudest frame around it. Steady
          noise and hum are not speech at any level, and quiet speech is speech; frames
          below -90 dBFS never are.
        - ``"silero"``: the Silero VAD neural network (the ``silero-vad`` package, whose
          model ships inside its wheel: runs offline; needs torch), with its own
          thresholds (0.5 to start, 0.35 to continue). Best in non-stationary noise;
          about 30x real time on one CPU core.
        - ``"threshold"``: the fixed level of earlier versions, ``threshold_db`` dBFS
          over the whole band: fails in noise and on quiet recordings.
    threshold_db : float, default=-50.0
        The level of ``vad="threshold"`` (ignored by the others).

    Returns
    -------
    active : ndarray of bool of shape (n_frames,)
        ``n_frames = 1 + (n_samples - frame) // hop`` (one for audio shorter than a frame).

    See Also
    --------
    detect_speech : the same decision as stretches of samples.
    has_speech : whether each of several utterances holds speech.

    References
    ----------
    .. [1] Silero Team, "Silero VAD: pre-trained enterprise-grade Voice Activity
       Detector", https://github.com/snakers4/silero-vad, 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser import speech_activity
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(16000) / 16000
    >>> voice = 0.1 * np.sin(2 * np.pi * 300 * t) * (1 + np.sin(2 * np.pi * 4 * t))
    >>> noise = 0.01 * rng.standard_normal(48000)
    >>> y = noise + np.concatenate([np.zeros(16000), voice, np.zeros(16000)])
    >>> active = speech_activity(y, 16000)
    >>> active[:90].any(), active[110:190].all()  # noise alone: none; the voice: all
    (np.False_, np.True_)
    """
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"speech_activity: y must be a 1-D waveform, got shape {y.shape}.")
    sr = _check_sr(sr, "speech_activity: sr")
    _check_vad(vad, "speech_activity")
    return _activity_of_stream(iter([y]), sr, vad, threshold_db)


def stream_activity(
    source: AudioSource,
    sr: int,
    *,
    vad: str = "energy",
    threshold_db: float = SILENCE_DB,
    block_size: int = 1 << 18,
) -> np.ndarray:
    """:func:`speech_activity` of a file or waveform read in blocks (any length)."""
    blocks, _ = stream_audio(source, sr, block_size=block_size)
    return _activity_of_stream(blocks, sr, vad, threshold_db)


def detect_speech(
    y: Any,
    sr: int = 16000,
    *,
    vad: str = "energy",
    threshold_db: float = SILENCE_DB,
    min_silence: float = 0.3,
) -> np.ndarray:
    """Find the stretches of a waveform that hold speech (voice activity).

    The frames of :func:`speech_activity` as stretches of samples, like
    :func:`librosa.effects.split`: frames of 25 ms every 10 ms, stretches closer than
    ``min_silence`` seconds joined into one. All-zero, near-silent and steady-noise audio
    has no stretch at all.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Mono waveform, values in [-1, 1].
    sr : int, default=16000
        Its sampling rate in Hz.
    vad : {"energy", "silero", "threshold"}, default="energy"
        The detector, see :func:`speech_activity`: level-relative (default), neural, or
        a fixed level of ``threshold_db``.
    threshold_db : float, default=-50.0
        Level (RMS dBFS) from which a frame counts as sound with ``vad="threshold"``.
    min_silence : float, default=0.3
        Pauses shorter than this (seconds) do not split a stretch.

    Returns
    -------
    intervals : ndarray of int of shape (n_intervals, 2)
        Start and end sample of each stretch (end exclusive), as ``librosa.effects.split``;
        empty without speech. Edges are exact to within a frame (25 ms).

    See Also
    --------
    librosa.effects.split : the same idea, relative to the loudest frame.
    speech_activity : the frame-level decision.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser import detect_speech
    >>> t = np.arange(16000) / 16000
    >>> y = np.concatenate([np.zeros(16000), 0.3 * np.sin(2 * np.pi * 300 * t), np.zeros(8000)])
    >>> detect_speech(y, 16000) / 16000  # the tone, to within its hangover of 50 ms
    array([[0.93 , 2.075]])
    >>> detect_speech(np.zeros(32000), 16000).shape
    (0, 2)
    """
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"detect_speech: y must be a 1-D waveform, got shape {y.shape}.")
    sr = _check_sr(sr, "detect_speech: sr")
    _check_vad(vad, "detect_speech")
    active = _activity_of_stream(iter([y]), sr, vad, threshold_db)
    return _intervals(active, sr, y.shape[0], min_silence)


def _intervals(active: np.ndarray, sr: int, n_samples: int, min_silence: float) -> np.ndarray:
    if not active.any():
        return np.zeros((0, 2), dtype=np.int64)
    frame, hop = _vad_frames(sr)
    starts, stops = _runs(active)
    gap = min_silence / VAD_HOP
    first = np.flatnonzero(np.concatenate([[True], starts[1:] - stops[:-1] >= gap]))
    last = np.concatenate([first[1:] - 1, [len(stops) - 1]])
    starts, stops = starts[first], stops[last]
    begin = starts * hop
    # A frame's sound may lie anywhere in it; a stretch ends where its last frame ends.
    end = np.minimum((stops - 1) * hop + frame, n_samples)
    return np.stack([begin, end], axis=1).astype(np.int64)


def no_speech_reason(y: np.ndarray, sr: int, vad: str = "energy") -> str | None:
    """``"short"``, ``"silent"`` or ``"no speech"`` (sound, but none of it speech), or None."""
    if y.shape[0] < MIN_DURATION * sr:
        return "short"
    if frame_levels(y, sr).max() < _ABSOLUTE_DB:
        return "silent"
    active = _activity_of_stream(iter([y]), sr, vad, SILENCE_DB)
    if active.sum() * VAD_HOP < MIN_SPEECH:
        return "no speech"
    return None


def has_speech(X: Any, *, sr: int = 16000, vad: str = "energy") -> np.ndarray:
    """Whether each utterance holds enough speech to carry an emotion.

    The decision behind the extractors' :class:`NoSpeechWarning` and the command line's
    ``"no speech"`` answers: an utterance holds speech unless it is shorter than 0.25 s,
    silent (no 25 ms frame above -90 dBFS), or has less than 0.1 s of speech by the
    detector ``vad`` (:func:`speech_activity`): noise, hum or clicks alone.

    Parameters
    ----------
    X : sequence of paths or waveforms, or ndarray of shape (n, n_samples)
        Utterances, as every transformer of the library takes them.
    sr : int, default=16000
        Rate the audio is analysed at (that of waveforms given as arrays).
    vad : {"energy", "silero", "threshold"}, default="energy"
        The detector, see :func:`speech_activity`.

    Returns
    -------
    speech : ndarray of bool of shape (n_utterances,)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser import has_speech
    >>> t = np.arange(16000) / 16000
    >>> voice = 0.1 * np.sin(2 * np.pi * 300 * t) * (1 + np.sin(2 * np.pi * 4 * t))
    >>> hum = 0.1 * np.sin(2 * np.pi * 50 * t)
    >>> has_speech([voice, np.zeros(16000), hum, voice[:1000]]).tolist()
    [True, False, False, False]
    """
    sr = _check_sr(sr, "has_speech: sr")
    _check_vad(vad, "has_speech")
    waves = load_sources(as_audio_sources(X), sr)
    return np.array([no_speech_reason(w, sr, vad) is None for w in waves], dtype=bool)


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
