"""Emotion over time in one recording of any length: windows, voice activity, segments.

The recording is streamed from disk in blocks (:func:`~sklearn_ser._audio.stream_audio`),
cut into windows of the model's input length, and the windows holding speech are put
through the model in batches. Memory is bounded by the block and the batch of windows,
never by the length of the recording.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ._audio import (
    VAD_FRAME,
    VAD_HOP,
    VAD_METHODS,
    NoSpeechWarning,
    _check_sr,
    stream_activity,
    stream_audio,
)

__all__ = ["Segment", "Timeline", "predict_timeline"]

NO_SPEECH = "no speech"
# A speaker-standardising model classifies the windows once the statistics of the whole
# recording are known: their features are kept in memory up to this size, then spilled
# to a temporary file, so that memory does not grow with the length of the recording.
_CACHE_BYTES = 16 * 2**20


@dataclass(frozen=True)
class Segment:
    """A stretch of a recording with one label.

    Attributes
    ----------
    start, end : float
        Seconds from the beginning of the recording.
    label : str
        An emotion, or ``"no speech"``.
    """

    start: float
    end: float
    label: str


@dataclass
class Timeline:
    """Emotion over time of one recording: per-window probabilities and merged segments.

    Returned by :func:`predict_timeline`; plot it with
    :class:`~sklearn_ser.plotting.TimelineDisplay`.

    Attributes
    ----------
    start, end : ndarray of shape (n_windows,)
        Start and end of each analysis window, in seconds.
    label : ndarray of str of shape (n_windows,)
        The most probable emotion of each window, or ``"no speech"`` for windows without
        enough sound to carry one.
    proba : ndarray of shape (n_windows, n_classes)
        Class probabilities of each window (columns in ``classes`` order); NaN for
        windows without speech, which are not given an emotion.
    speech : ndarray of bool of shape (n_windows,)
        Whether each window holds speech (voice activity).
    classes : ndarray of shape (n_classes,)
        The model's classes.
    segments : list of Segment
        The recording cut where its label changes, tiling ``[0, duration]``: with
        ``frames``, at the detector's 10 ms frames (speech frames take the emotion of
        the nearest labelled window, the others are ``"no speech"``); without, windows
        of the same label merged, each standing for the time closest to its centre.
    duration : float
        Length of the recording in seconds.
    window, hop : float
        Window length and hop, in seconds.
    frames : ndarray of bool of shape (n_frames,) or None
        Speech in each 10 ms frame of the recording (frame ``j`` covers
        ``[0.01 j, 0.01 j + 0.025]`` s), as the speech detector found it.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser import Timeline
    >>> t = Timeline(start=np.array([0.0, 1.0]), end=np.array([2.0, 3.0]),
    ...              label=np.array(["anger", "no speech"]),
    ...              proba=np.array([[0.9, 0.1], [np.nan, np.nan]]),
    ...              speech=np.array([True, False]), classes=np.array(["anger", "sadness"]),
    ...              duration=3.0, window=2.0, hop=1.0)
    >>> t.segments
    [Segment(start=0.0, end=1.5, label='anger'), Segment(start=1.5, end=3.0, label='no speech')]
    """

    start: np.ndarray
    end: np.ndarray
    label: np.ndarray
    proba: np.ndarray
    speech: np.ndarray
    classes: np.ndarray
    duration: float
    window: float
    hop: float
    segments: list[Segment] = field(default_factory=list)
    frames: np.ndarray | None = None

    def __post_init__(self) -> None:
        if not self.segments and len(self.start):
            if self.frames is not None:
                centres = (np.asarray(self.start) + np.asarray(self.end)) / 2
                self.segments = _speech_segments(
                    np.asarray(self.frames, dtype=bool), centres, self.label, self.duration
                )
            else:
                self.segments = _merge(self.start, self.end, self.label, self.duration)

    def with_proba(self, proba: np.ndarray) -> Timeline:
        """The same windows and speech with other probabilities (e.g. averaged over models):
        labels and segments follow them.

        Parameters
        ----------
        proba : ndarray of shape (n_windows, n_classes)
            Probabilities of the windows (NaN rows for windows without speech).

        Returns
        -------
        timeline : Timeline
            A new timeline.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_ser import Timeline
        >>> t = Timeline(start=np.array([0.0]), end=np.array([1.0]), label=np.array(["a"]),
        ...              proba=np.array([[0.6, 0.4]]), speech=np.array([True]),
        ...              classes=np.array(["a", "b"]), duration=1.0, window=1.0, hop=0.5)
        >>> t.with_proba(np.array([[0.3, 0.7]])).label.tolist()
        ['b']
        """
        proba = np.asarray(proba, dtype=np.float64)
        best = self.classes[np.nan_to_num(proba, nan=-1.0).argmax(axis=1)].astype(str)
        label = np.array([str(v) for v in np.where(self.speech, best, NO_SPEECH)])
        return Timeline(
            start=self.start,
            end=self.end,
            label=label,
            proba=proba,
            speech=self.speech,
            classes=self.classes,
            duration=self.duration,
            window=self.window,
            hop=self.hop,
            frames=self.frames,
        )

    def __len__(self) -> int:
        return len(self.start)

    def to_records(self) -> list[dict]:
        """One dict per window: start, end, label and ``p_<class>`` (None without speech).

        Returns
        -------
        records : list of dict
            JSON-ready.
        """
        records = []
        for i in range(len(self)):
            probs = {
                f"p_{c}": None if not self.speech[i] else round(float(p), 6)
                for c, p in zip(self.classes, self.proba[i])
            }
            records.append(
                {
                    "start": round(float(self.start[i]), 4),
                    "end": round(float(self.end[i]), 4),
                    "label": str(self.label[i]),
                    **probs,
                }
            )
        return records


def _merge(start: np.ndarray, end: np.ndarray, label: np.ndarray, duration: float) -> list:
    centres = (np.asarray(start) + np.asarray(end)) / 2
    bounds = np.concatenate([[0.0], (centres[1:] + centres[:-1]) / 2, [duration]])
    segments: list[Segment] = []
    first = 0
    for i in range(1, len(label) + 1):
        if i == len(label) or label[i] != label[first]:
            segments.append(Segment(float(bounds[first]), float(bounds[i]), str(label[first])))
            first = i
    return segments


def _split_model(model: Any) -> tuple[Any, Any, Any]:
    """(features part, classifier part, first extractor) of a fitted audio pipeline.

    For a pipeline ending in a network (:class:`~sklearn_ser.SERClassifier`), the
    classifier part is that step; for any other pipeline (e.g. functionals -> scaler ->
    linear model) it is every step after the extractor.
    """
    if not hasattr(model, "steps") or len(model.steps) < 2:
        raise TypeError(
            "predict_timeline: model must be a fitted pipeline that starts from audio "
            "(e.g. make_ser_pipeline() after fit, or load_model of such a file), got "
            f"{type(model).__name__}."
        )
    extractor = model.steps[0][1]
    if hasattr(extractor, "extractors_"):  # FeatureStack: its parts share sr and frames
        extractor = extractor.extractors_[0][1]
    if not hasattr(extractor, "sr"):
        raise ValueError(
            "predict_timeline: the model's first step must be a feature extractor from audio "
            f"(with an sr), got {type(extractor).__name__}."
        )
    from ._groups import speaker_statistics_path

    if speaker_statistics_path(model.steps[-1][1]) is not None:  # a network
        return model[:-1], model.steps[-1][1], extractor
    return model[:1], model[1:], extractor


def _seconds(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"predict_timeline: {name} must be a number of seconds, got {value!r}.")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"predict_timeline: {name} must be > 0 seconds, got {value!r}.")
    return float(value)


def _window_starts(n_samples: int, window: int, hop: int) -> np.ndarray:
    """Start samples of windows every ``hop`` samples; one last window ends on the last
    sample; audio shorter than a window is one (short) window."""
    if n_samples <= window:
        return np.zeros(1, dtype=np.int64)
    starts = np.arange(0, n_samples - window + 1, hop, dtype=np.int64)
    if starts[-1] + window < n_samples:
        starts = np.append(starts, n_samples - window)
    return starts


def _windows(
    blocks: Iterator[np.ndarray], window: int, hop: int
) -> Iterator[tuple[int, np.ndarray]]:
    """``(start sample, waveform)`` of windows every ``hop`` samples over the stream.

    Windows that would run past the end are replaced by one window ending on the last
    sample; audio shorter than a window is one (short) window.
    """
    buf = np.zeros(0, dtype=np.float32)
    buf_start = 0  # absolute sample index of buf[0]
    next_start = 0
    last_end = 0
    for block in blocks:
        buf = np.concatenate([buf, block])
        while next_start + window <= buf_start + buf.shape[0]:
            offset = next_start - buf_start
            yield next_start, buf[offset : offset + window].copy()
            last_end = next_start + window
            next_start += hop
        # Keep what the next windows (and a final end-aligned one) may need.
        keep_from = max(min(next_start, buf_start + buf.shape[0] - window), buf_start)
        buf = buf[keep_from - buf_start :]
        buf_start = keep_from
    total = buf_start + buf.shape[0]
    if last_end == 0:
        yield 0, buf[:total].copy()  # shorter than one window
    elif last_end < total:
        yield total - window, buf[buf.shape[0] - window :].copy()


# --------------------------------------------------------------------------- frames once
def _frame_segments(
    blocks: Iterator[np.ndarray], hop: int, left: int, right: int
) -> Iterator[tuple[int, int, np.ndarray]]:
    """``(f0, f1, segment)``: the audio around frames ``f0 .. f1 - 1`` of the whole stream.

    Frame ``f`` is centred on sample ``f * hop`` (``1 + n_samples // hop`` frames, as a
    centred STFT); ``segment`` holds samples ``f0 * hop - left`` to ``(f1 - 1) * hop +
    right``, zeros outside the recording. Each block of the stream gives the frames it
    completes, so every frame is analysed once whatever the windows over it.
    """
    buf = np.zeros(left, dtype=np.float32)
    buf_start = -left  # absolute sample of buf[0]
    next_f = 0
    for block in blocks:
        buf = np.concatenate([buf, np.asarray(block, dtype=np.float32)])
        last = (buf_start + buf.shape[0] - right) // hop
        if last >= next_f:
            a = next_f * hop - left - buf_start
            yield next_f, last + 1, buf[a : last * hop + right - buf_start]
            next_f = last + 1
            drop = next_f * hop - left - buf_start
            buf, buf_start = buf[drop:], buf_start + drop
    total = 1 + (buf_start + buf.shape[0]) // hop
    if next_f < total:
        a = next_f * hop - left - buf_start
        need = (total - 1) * hop + right - buf_start
        tail = np.pad(buf, (0, max(need - buf.shape[0], 0)))[a:need]
        yield next_f, total, tail


def _rechunk(blocks: Iterator[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """The stream in pieces of exactly ``size`` samples (the last one shorter), whatever
    the blocks it was read in."""
    pending: list[np.ndarray] = []
    count = 0
    for block in blocks:
        pending.append(np.asarray(block, dtype=np.float32))
        count += block.shape[0]
        if count >= size:
            buf = np.concatenate(pending)
            n = buf.shape[0] - buf.shape[0] % size
            for i in range(0, n, size):
                yield buf[i : i + size]
            pending, count = [buf[n:]], buf.shape[0] - n
    if count:
        yield np.concatenate(pending)


class _FrameBuffer:
    """Rows of a frame-major array of the recording, kept from the first one still needed."""

    def __init__(self) -> None:
        self.first = 0
        self.data: np.ndarray | None = None

    @property
    def end(self) -> int:
        return self.first + (0 if self.data is None else self.data.shape[0])

    def add(self, frames: np.ndarray) -> None:
        self.data = frames if self.data is None else np.concatenate([self.data, frames])

    def get(self, a: int, b: int) -> np.ndarray:
        return self.data[a - self.first : b - self.first]

    def drop_before(self, f: int) -> None:
        f = min(f, self.end)  # frames not yet added are not dropped
        if self.data is not None and f > self.first:
            self.data = self.data[f - self.first :]
            self.first = f


class _LogMelFrames:
    """The log-mel frames of a :class:`~sklearn_ser.MelSpectrogramExtractor`, for the
    whole recording on one grid; a window's map is its slice of them."""

    def __init__(self, extractor: Any) -> None:
        from .features._base import analysis_window, mel_filters

        e = extractor
        self.extractor = e
        self.hop, self.n_fft = int(e.hop_length), int(e.n_fft)
        win_length = e.n_fft if e.win_length is None else e.win_length
        self.window = analysis_window(e.window, win_length, e.n_fft)
        self.mel = mel_filters(sr=e.sr, n_fft=e.n_fft, n_mels=e.n_mels, fmin=e.fmin, fmax=e.fmax)
        self.left, self.right = self.n_fft // 2, self.n_fft - self.n_fft // 2
        self.n_frames = int(e.n_frames_)

    @staticmethod
    def applies(features: Any) -> bool:
        from .features import MelSpectrogramExtractor

        steps = getattr(features, "steps", None)
        return (
            steps is not None
            and len(steps) == 1
            and type(steps[0][1]) is MelSpectrogramExtractor
            and steps[0][1].normalize is None
        )

    def frames(self, segment: np.ndarray) -> np.ndarray:
        from numpy.lib.stride_tricks import sliding_window_view

        framed = sliding_window_view(segment, self.n_fft)[:: self.hop]
        spec = np.fft.rfft(np.multiply(framed, self.window, dtype=np.float32), axis=-1)
        power = (spec.real**2 + spec.imag**2).astype(np.float32)
        return 10.0 * np.log10(np.maximum(power @ self.mel.T, 1e-10))

    def window_frames(self, start: int, length: int) -> tuple[int, int]:
        return round(start / self.hop), self.n_frames

    def features(self, frames: np.ndarray, keep: np.ndarray | None) -> np.ndarray:
        """One window's map: its speech frames (``keep``), wrapped or padded to length."""
        e = self.extractor
        if keep is not None and keep.any() and not keep.all():
            frames = frames[keep]
        if frames.shape[0] < self.n_frames:
            if e.pad_mode == "wrap":
                frames = np.resize(frames, (self.n_frames, frames.shape[1]))
            else:
                frames = np.pad(frames, ((0, self.n_frames - frames.shape[0]), (0, 0)))
        if e.top_db is not None:
            frames = np.maximum(frames, frames.max() - e.top_db)
        return frames.T.astype(e.dtype, copy=False)


class _LLDFrames:
    """The frame descriptors of a :class:`~sklearn_ser.FunctionalsExtractor`
    (:func:`~sklearn_ser.features.frame_descriptors`), for the whole recording on one grid;
    a window's functionals are :func:`~sklearn_ser.features.summarise_frames` of its slice
    of them, the same code as the extractor's for a file."""

    def __init__(self, extractor: Any) -> None:
        from .features import FrameAnalysis

        e = extractor
        self.extractor = e
        self.analysis = FrameAnalysis(int(e.sr), e.fmin, e.fmax)
        self.hop = self.analysis.hop
        # Margins: the longest frame (YIN's) sees real audio, not padding, at both ends.
        reach = max(self.analysis.yin_length, self.analysis.n_fft) // 2
        self.left = self.right = -(-reach // self.hop) * self.hop
        self.names: list[str] | None = None

    @staticmethod
    def applies(features: Any) -> bool:
        from .features import FunctionalsExtractor

        steps = getattr(features, "steps", None)
        return steps is not None and len(steps) == 1 and type(steps[0][1]) is FunctionalsExtractor

    def frames(self, segment: np.ndarray) -> np.ndarray:
        from .features import frame_descriptors

        d = frame_descriptors(segment, self.analysis)
        if self.names is None:
            self.names = list(d)
        skip = self.left // self.hop
        count = 1 + (segment.shape[0] - self.left - self.right) // self.hop
        return np.stack([np.asarray(d[n], dtype=np.float64) for n in self.names], axis=1)[
            skip : skip + count
        ]

    def window_frames(self, start: int, length: int) -> tuple[int, int]:
        return round(start / self.hop), 1 + length // self.hop

    def features(self, frames: np.ndarray, keep: np.ndarray | None) -> np.ndarray:
        from .features import summarise_frames

        d = {n: frames[:, i] for i, n in enumerate(self.names)}
        return summarise_frames(d, self.analysis, self.extractor.feature_set)


def _frames_once(
    analysis: Any,
    blocks: Iterator[np.ndarray],
    starts: np.ndarray,
    length: int,
    rows: np.ndarray,
    keep: Any,
    batch_size: int,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(window indices, features)`` of the windows ``rows`` (sorted), batch by batch,
    every frame of the recording analysed once.

    With the extractor's ``n_jobs`` > 1, that many blocks' frames are computed at once, and
    a batch's windows likewise (threads: the work is NumPy and FFTs, which release the
    GIL); the result does not depend on ``n_jobs``.
    """
    from concurrent.futures import ThreadPoolExecutor

    from joblib import effective_n_jobs
    from threadpoolctl import threadpool_limits

    n_jobs = max(int(effective_n_jobs(getattr(analysis.extractor, "n_jobs", None))), 1)
    spans = [analysis.window_frames(int(starts[r]), length) for r in rows]
    buffer = _FrameBuffer()
    pool = ThreadPoolExecutor(n_jobs) if n_jobs > 1 else None
    limits = threadpool_limits(limits=1, user_api="blas") if pool else nullcontext()

    def run(fn: Any, items: list) -> list:
        return list(pool.map(fn, items)) if pool and len(items) > 1 else [fn(x) for x in items]

    def window(job: tuple) -> np.ndarray:
        frames, mask = job
        return analysis.features(frames, mask)

    def groups_of_segments() -> Iterator[list]:
        # n_jobs pieces' frames at once: the same frames as one piece after the other.
        pieces = _rechunk(blocks, _PIECE)
        segments = _frame_segments(pieces, analysis.hop, analysis.left, analysis.right)
        group: list = []
        for _, _, segment in segments:
            group.append(segment)
            if len(group) == n_jobs:
                yield group
                group = []
        if group:
            yield group

    i, batch_rows, jobs = 0, [], []
    try:
        with limits:
            for group in groups_of_segments():
                buffer.add(np.concatenate(run(analysis.frames, group)))
                while i < len(rows) and spans[i][0] + spans[i][1] <= buffer.end:
                    a, n = spans[i]
                    batch_rows.append(rows[i])
                    jobs.append((buffer.get(a, a + n), keep(rows[i], a, n)))
                    i += 1
                    if len(jobs) == batch_size:
                        yield np.asarray(batch_rows), np.stack(run(window, jobs))
                        batch_rows, jobs = [], []
                if i < len(rows):
                    buffer.drop_before(spans[i][0])
            while i < len(rows):  # windows reaching past the last frame (short recordings)
                a, n = spans[i]
                frames = buffer.get(a, a + n)
                batch_rows.append(rows[i])
                jobs.append((frames, keep(rows[i], a, frames.shape[0])))
                i += 1
            if jobs:
                yield np.asarray(batch_rows), np.stack(run(window, jobs))
    finally:
        if pool is not None:
            pool.shutdown()


def _keep_speech(active: np.ndarray, hop: int, sr: int) -> Any:
    """For a window of frames ``[a, a + n)`` (hop ``hop``), which of them are speech by the
    10 ms detector frames ``active``, pauses shorter than 0.3 s kept (as ``crop="cover"``
    keeps them in a long file)."""
    from ._audio import VAD_FRAME, VAD_HOP

    bridged = _close_gaps(active, round(0.3 / VAD_HOP))

    def keep(row: int, a: int, n: int) -> np.ndarray:
        centre = (np.arange(a, a + n) * hop) / sr
        idx = np.clip(np.round((centre - VAD_FRAME / 2) / VAD_HOP).astype(int), 0, len(active) - 1)
        return bridged[idx]

    return keep


def _close_gaps(active: np.ndarray, gap: int) -> np.ndarray:
    out = active.copy()
    idx = np.flatnonzero(active)
    if len(idx) > 1:
        jumps = np.flatnonzero((np.diff(idx) > 1) & (np.diff(idx) <= gap))
        for j in jumps:
            out[idx[j] : idx[j + 1]] = True
    return out


def _batches(
    windows: Iterator[tuple[int, np.ndarray]], batch_size: int
) -> Iterator[tuple[list[int], list[np.ndarray]]]:
    starts: list[int] = []
    waves: list[np.ndarray] = []
    for s, w in windows:
        starts.append(s)
        waves.append(w)
        if len(waves) == batch_size:
            yield starts, waves
            starts, waves = [], []
    if waves:
        yield starts, waves


def _features(features: Any, waves: list[np.ndarray]) -> np.ndarray:
    # Non-speech windows never get here; a window with a little speech is still labelled.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoSpeechWarning)
        return features.transform(waves)


class _FeatureStore:
    """Feature batches kept in memory up to ``_CACHE_BYTES``, then spilled to a temporary
    file, and read back batch by batch in the order they were added."""

    def __init__(self) -> None:
        self.batches: list[Any] = []  # arrays, or (offset, shape, dtype) in the file
        self.nbytes = 0
        self.file: Any = None

    def __enter__(self) -> _FeatureStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.file is not None:
            self.file.close()
        self.batches = []

    def add(self, X: np.ndarray) -> None:
        X = np.ascontiguousarray(X)
        if self.file is None and self.nbytes + X.nbytes <= _CACHE_BYTES:
            self.batches.append(X)
            self.nbytes += X.nbytes
            return
        if self.file is None:
            import tempfile

            self.file = tempfile.TemporaryFile()
        self.batches.append((self.file.tell(), X.shape, X.dtype))
        self.file.write(X.tobytes())

    def concatenate(self) -> np.ndarray:
        """All batches as one array, filled batch by batch (no second copy of them)."""
        shapes = [b.shape if isinstance(b, np.ndarray) else b[1] for b in self.batches]
        dtypes = {b.dtype if isinstance(b, np.ndarray) else b[2] for b in self.batches}
        out = np.empty((sum(s[0] for s in shapes), *shapes[0][1:]), dtype=dtypes.pop())
        start = 0
        for batch in self:
            out[start : start + len(batch)] = batch
            start += len(batch)
        return out

    def __iter__(self) -> Iterator[np.ndarray]:
        for item in self.batches:
            if isinstance(item, np.ndarray):
                yield item
                continue
            offset, shape, dtype = item
            self.file.seek(offset)
            count = int(np.prod(shape))
            yield np.fromfile(self.file, dtype=dtype, count=count).reshape(shape)


_DEFAULT_WINDOW = 3.0  # seconds, for extractors of whole utterances
# Samples analysed at a time on the recording's frame grid (4.1 s at 16 kHz): bounds the
# temporaries of the frame analysis, and makes the frames independent of ``block_size``.
_PIECE = 1 << 16


def _proba_alone(clf: Any, X: np.ndarray) -> np.ndarray:
    """Probabilities of windows each standardised alone (``context="window"``)."""
    from ._groups import call_with_groups, wants_groups

    groups = np.arange(X.shape[0]) if wants_groups(clf) else None
    return call_with_groups(clf, "predict_proba", X, groups=groups)


@validate_params(
    {
        "model": "no_validation",
        "audio": "no_validation",
        "window": [Interval(Real, 0, None, closed="neither"), None],
        "hop": [Interval(Real, 0, None, closed="neither"), None],
        "context": [StrOptions({"recording", "window"})],
        "vad": [StrOptions(set(VAD_METHODS))],
        "min_speech": [Interval(Real, 0, 1, closed="both")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "block_size": [Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def predict_timeline(
    model: Any,
    audio: Any,
    *,
    window: float | None = None,
    hop: float | None = None,
    context: str = "recording",
    vad: str = "energy",
    min_speech: float = 0.1,
    batch_size: int = 64,
    block_size: int = 1 << 18,
    verbose: int = 0,
) -> Timeline:
    """Emotion over time in one recording of any length.

    The recording is read from disk in blocks (resampled block by block with soxr's
    streaming resampler). A first pass finds its speech, 10 ms frame by frame
    (``vad``). A second cuts it into windows of ``window`` seconds every ``hop``
    seconds and gives each window that holds speech the class probabilities the model
    gives that stretch of audio; the others are ``"no speech"``. Windows only carry the
    emotion: the segments start and end where the detector's speech does (to 10 ms), each
    speech frame taking the emotion of the nearest window, and silence before, between
    and after is ``"no speech"``.

    Every frame is analysed once, however much the windows overlap: for the functionals
    and log-mel models, the frame-level descriptors (spectrum, pitch, voicing; the log-mel
    frames) are computed block by block on one frame grid of the whole recording, and
    each window's features are taken from its slice of them. A window's edge frames then
    see the audio around it instead of the zero padding a window analysed alone gets
    (the user guide gives by how much this changes them). A window of the log-mel CNN
    keeps its speech frames only, repeated to the model's input length, as a short
    utterance is padded in training. Memory is bounded by ``block_size`` and
    ``batch_size`` windows, not by the recording's length.

    Parameters
    ----------
    model : sklearn.pipeline.Pipeline
        A fitted pipeline from audio to a classifier, e.g. :func:`make_ser_pipeline` after
        ``fit``, or :func:`load_model` of such a file.
    audio : str, PathLike, array-like of shape (n_samples,) or (array-like, int)
        A file (streamed), a waveform at the model's sampling rate, or a ``(waveform,
        rate)`` pair declaring another rate.
    window : float or None, default=None
        Window length in seconds; None means the model's input length (``max_frames``
        frames of its extractor: 3 s for :func:`make_ser_pipeline`). Shorter windows
        follow changes more closely with less context each.
    hop : float or None, default=None
        Seconds between window starts; None means half the window.
    context : {"recording", "window"}, default="recording"
        For a classifier that standardises per speaker (``standardize="speaker"``): the
        recording is one speaker, whose statistics are those of all its speech windows
        (computed in a first pass over the audio), or every window is a speaker on its
        own. Ignored by other classifiers. With "recording", the features of the speech
        windows wait (beyond 16 MB in a temporary file) until the statistics of the whole
        recording are known.
    vad : {"energy", "silero", "threshold"}, default="energy"
        The speech detector (:func:`~sklearn_ser.speech_activity`): level-relative
        energy in the voice band, robust to steady noise, hum and the recording level
        (default); the Silero neural network (needs torch and the ``silero-vad``
        package; about 30x real time); or the fixed -50 dBFS level of earlier versions.
    min_speech : float, default=0.1
        Share of a window's 10 ms frames that must be speech for the window to be given
        an emotion.
    batch_size : int, default=64
        Windows put through the feature extractor and network at once.
    block_size : int, default=262144
        Audio frames read from the file at a time.
    verbose : int, default=0
        Progress bar (speech windows) when > 0.

    Returns
    -------
    timeline : Timeline
        Per-window ``start``, ``end``, ``label``, ``proba``, ``speech``, the ``classes``
        and the merged ``segments``.

    Raises
    ------
    TypeError
        If ``model`` is not a pipeline from audio.
    ValueError
        For unreadable or empty audio, or a parameter out of range.

    See Also
    --------
    sklearn_ser.plotting.TimelineDisplay : plot a timeline.
    speech_activity : the speech detectors.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser import make_ser_pipeline, predict_timeline
    >>> from sklearn_ser.datasets import make_emotional_speech
    >>> data = make_emotional_speech(n_speakers=2, n_utterances=2, random_state=0)
    >>> pipe = make_ser_pipeline("cnn", max_frames=100, max_epochs=1, module__channels=(4,),
    ...                          random_state=0).fit(data.data, data.target)
    >>> recording = np.concatenate([data.data[0], np.zeros(32000), data.data[5]])
    >>> timeline = predict_timeline(pipe, recording, hop=0.5)
    >>> timeline.proba.shape  # 10 windows of 0.99 s over 5 s, 4 emotions
    (10, 4)
    >>> [(round(s.start, 1), round(s.end, 1)) for s in timeline.segments
    ...  if s.label == "no speech"]  # the pause between the utterances, to 10 ms
    [(1.4, 3.5)]
    """
    features, clf, extractor = _split_model(model)
    sr = int(extractor.sr)
    if hasattr(extractor, "n_frames_"):
        model_window = max(extractor._target_length, 1) / sr
    else:  # an extractor of whole utterances (functionals): 3 s windows
        model_window = _DEFAULT_WINDOW
    window_s = _seconds(window, "window") or model_window
    hop_s = _seconds(hop, "hop") or window_s / 2
    if isinstance(batch_size, (bool, np.bool_)):
        raise ValueError(f"predict_timeline: batch_size must be an int >= 1, got {batch_size!r}.")
    _check_sr(sr, "sr")
    win, step = max(round(window_s * sr), 1), max(round(hop_s * sr), 1)
    from ._groups import call_with_groups, speaker_statistics_path, wants_groups
    from .preprocessing import SpeakerStatistics

    # The recording as one speaker: statistics from the moments of all its speech windows
    # (fast path, batch by batch), or all windows' features routed as one group at once.
    path = speaker_statistics_path(clf)
    one_speaker = context == "recording" and (path is not None or wants_groups(clf))

    # 1. Speech, frame by frame (10 ms), over the whole recording: a first pass.
    active = stream_activity(audio, sr, vad=vad, block_size=block_size)
    blocks, duration = stream_audio(audio, sr, block_size=block_size)
    n_samples = max(round(duration * sr), 1)
    starts = _window_starts(n_samples, win, step)
    ends = np.minimum(starts + win, n_samples)
    speech = _speech_share(active, starts, ends, sr) >= max(min_speech, 1e-9)
    rows = np.flatnonzero(speech)
    bar = None
    if verbose:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(rows), unit="window", desc="speech windows")

    # 2. Features of the speech windows; 3. their probabilities.
    n_classes = len(clf.classes_)
    proba = np.full((len(starts), n_classes), np.nan)
    moments: Any = None
    batch_rows: list[np.ndarray] = []
    with _FeatureStore() as store:
        for idx, Xt in _speech_features(
            features, extractor, blocks, starts, win, step, rows, active, sr, batch_size
        ):
            if not one_speaker:
                proba[idx] = _proba_alone(clf, Xt)
            else:  # classified once the whole recording's statistics are known
                if path is not None:
                    part = path[0].moments(Xt, np.zeros(Xt.shape[0], dtype=np.intp))
                    moments = part if moments is None else moments.merge(part)
                store.add(Xt)
                batch_rows.append(idx)
            if bar is not None:
                bar.update(len(idx))
        if batch_rows and path is not None:
            scaler, predict = path
            own = scaler.statistics_from_moments(moments)  # one group: the recording
            for idx, Xt in zip(batch_rows, store):
                codes = np.zeros(Xt.shape[0], dtype=np.intp)
                proba[idx] = predict(Xt, SpeakerStatistics(codes, own.mean, own.scale))
        elif batch_rows:
            # Any other pipeline takes the recording's speaker statistics from all its
            # windows at once: their features (not audio) are held together for this call.
            X_all = store.concatenate()
            groups = np.zeros(X_all.shape[0], dtype=np.intp)
            proba[np.concatenate(batch_rows)] = call_with_groups(
                clf, "predict_proba", X_all, groups=groups
            )
    if bar is not None:
        bar.close()

    classes = np.asarray(clf.classes_)
    best = classes[np.nan_to_num(proba, nan=-1.0).argmax(axis=1)].astype(str)
    label = np.array([str(v) for v in np.where(speech, best, NO_SPEECH).astype(object)])
    start_s, end_s = starts / sr, ends / sr
    return Timeline(
        start=start_s.astype(np.float64),
        end=end_s.astype(np.float64),
        label=label,
        proba=proba,
        speech=speech,
        classes=classes,
        duration=float(duration),
        window=win / sr,
        hop=step / sr,
        frames=active,
    )


def _speech_share(active: np.ndarray, starts: np.ndarray, ends: np.ndarray, sr: int) -> np.ndarray:
    """Share of each window's 10 ms detector frames that are speech."""
    frame, hop = max(round(VAD_FRAME * sr), 1), max(round(VAD_HOP * sr), 1)
    counts = np.concatenate([[0], np.cumsum(active)])
    first = np.minimum(starts // hop, len(active) - 1)
    last = np.clip((ends - frame) // hop + 1, first + 1, len(active))
    return (counts[last] - counts[first]) / (last - first)


def _speech_segments(
    active: np.ndarray, centres: np.ndarray, label: np.ndarray, duration: float
) -> list[Segment]:
    """Segments at the detector's resolution: each speech frame takes the emotion of the
    nearest labelled window; frames without speech are ``"no speech"``."""
    labelled = np.flatnonzero(label != NO_SPEECH)
    frame_label = np.full(len(active), NO_SPEECH, dtype=object)
    if len(labelled):
        t = np.arange(len(active)) * VAD_HOP + VAD_FRAME / 2
        c = centres[labelled]
        k = np.clip(np.searchsorted(c, t), 1, max(len(c) - 1, 1))
        if len(c) > 1:
            k = np.where(np.abs(t - c[k - 1]) <= np.abs(t - c[k]), k - 1, k)
        else:
            k = np.zeros(len(t), dtype=int)
        frame_label[active] = label[labelled][k[active]]
    # Frame j stands for the time closest to its centre; the segments tile [0, duration].
    bounds = np.arange(len(active) + 1) * VAD_HOP + (VAD_FRAME - VAD_HOP) / 2
    bounds = np.minimum(bounds, duration)
    bounds[0], bounds[-1] = 0.0, duration
    change = np.flatnonzero(frame_label[1:] != frame_label[:-1]) + 1
    edges = np.concatenate([[0], change, [len(active)]])
    return [
        Segment(float(bounds[a]), float(bounds[b]), str(frame_label[a]))
        for a, b in itertools.pairwise(edges)
        if bounds[b] > bounds[a]
    ]


def _speech_features(
    features: Any,
    extractor: Any,
    blocks: Iterator[np.ndarray],
    starts: np.ndarray,
    win: int,
    step: int,
    rows: np.ndarray,
    active: np.ndarray,
    sr: int,
    batch_size: int,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(window indices, features)`` of the speech windows ``rows``, batch by batch."""
    if not len(rows):
        for _ in blocks:  # still read (and validate) the audio
            pass
        return
    for kind in (_LogMelFrames, _LLDFrames):
        if kind.applies(features):
            analysis = kind(extractor)
            keep = _keep_speech(active, analysis.hop, sr) if kind is _LogMelFrames else None
            yield from _frames_once(
                analysis, blocks, starts, win, rows, keep or (lambda *a: None), batch_size
            )
            return
    # Any other extractor: each window's waveform (its speech only, for extractors of a
    # fixed number of frames, which pad it as they pad a short utterance).
    cut = hasattr(extractor, "n_frames_")
    keep = _keep_speech(active, 1, sr) if cut else None
    index = {int(s): i for i, s in enumerate(starts)}
    wanted = set(rows.tolist())
    pending_rows: list[int] = []
    pending: list[np.ndarray] = []
    for s, w in _windows(blocks, win, step):
        i = index.get(int(s))
        if i is None or i not in wanted:
            continue
        if keep is not None:
            mask = keep(i, int(s), w.shape[0])
            if mask.any():
                w = w[mask]
        pending_rows.append(i)
        pending.append(w)
        if len(pending) == batch_size:
            yield np.asarray(pending_rows), _features(features, pending)
            pending_rows, pending = [], []
    if pending:
        yield np.asarray(pending_rows), _features(features, pending)
