"""Emotion over time in one recording of any length: windows, voice activity, segments.

The recording is streamed from disk in blocks (:func:`~sklearn_ser._audio.stream_audio`),
cut into windows of the model's input length, and the windows holding speech are put
through the model in batches. Memory is bounded by the block and the batch of windows,
never by the length of the recording.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._audio import SILENCE_DB, NoSpeechWarning, _check_sr, speech_fraction, stream_audio

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
        Consecutive windows of the same label merged. Each window stands for the time
        closest to its centre, so the segments tile ``[0, duration]`` without overlap.
    duration : float
        Length of the recording in seconds.
    window, hop : float
        Window length and hop, in seconds.

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

    def __post_init__(self) -> None:
        if not self.segments and len(self.start):
            self.segments = _merge(self.start, self.end, self.label, self.duration)

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
    if hasattr(model.steps[-1][1], "net_"):
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


class _RecordingStatistics:
    """Per-bin moments of all speech windows: the recording as one speaker.

    The classifier's own scaler turns them into statistics, with the same shrinkage
    toward the training statistics as ``predict`` applies to one speaker's utterances,
    the windows being the utterances.
    """

    def __init__(self) -> None:
        self.moments: Any = None

    def add(self, X: np.ndarray) -> None:
        from .preprocessing import _moments

        part = _moments(X, np.zeros(X.shape[0], dtype=np.intp))
        if self.moments is None:
            self.moments = part
        else:
            self.moments = type(part)(
                np.concatenate([self.moments.codes, part.codes]),
                self.moments.total + part.total,
                self.moments.total_sq + part.total_sq,
                self.moments.count + part.count,
            )

    def dataset(self, clf: Any, X: np.ndarray) -> Any:
        from ._net import _ArrayDataset
        from .preprocessing import SpeakerStatistics

        stats = clf.scaler_._shrunk_statistics(self.moments)
        codes = np.zeros(X.shape[0], dtype=np.intp)
        return _ArrayDataset(np.asarray(X), statistics=SpeakerStatistics(codes, *stats[1:]))


def _scaler_first(clf: Any) -> bool:
    """Whether ``clf`` is a pipeline whose first step is a SpeakerStandardScaler."""
    from .preprocessing import SpeakerStandardScaler

    return hasattr(clf, "steps") and isinstance(clf.steps[0][1], SpeakerStandardScaler)


def _proba(clf: Any, X: np.ndarray, stats: _RecordingStatistics | None) -> np.ndarray:
    if not hasattr(clf, "net_") and stats is not None and _scaler_first(clf):
        # The recording's statistics, from the moments of all its windows, then the rest
        # of the pipeline: batch by batch, as for the network.
        from .preprocessing import SpeakerStatistics

        scaler = clf.steps[0][1]
        own = scaler._shrunk_statistics(stats.moments)
        codes = np.zeros(X.shape[0], dtype=np.intp)
        Xs = scaler._standardise(np.asarray(X), SpeakerStatistics(codes, *own[1:]))
        return clf[1:].predict_proba(Xs)
    if not hasattr(clf, "net_"):  # a pipeline after the extractor: routed speaker ids
        from .ensemble import call_with_groups

        groups = None if stats is None else np.zeros(X.shape[0], dtype=np.intp)
        return call_with_groups(clf, "predict_proba", X, groups=groups)
    if stats is None:
        # Each window on its own (context="window"), or a classifier without speakers.
        groups = np.arange(X.shape[0]) if getattr(clf, "standardize", None) == "speaker" else None
        return clf.predict_proba(X, groups=groups) if groups is not None else clf.predict_proba(X)
    import torch

    logits, _ = clf.net_.forward(stats.dataset(clf, X), training=False, device="cpu")
    return torch.softmax(logits.float(), dim=-1).numpy().astype(np.float64)


def predict_timeline(
    model: Any,
    audio: Any,
    *,
    window: float | None = None,
    hop: float | None = None,
    context: str = "recording",
    threshold_db: float = SILENCE_DB,
    min_speech: float = 0.2,
    batch_size: int = 64,
    block_size: int = 1 << 18,
    verbose: int = 0,
) -> Timeline:
    """Emotion over time in one recording of any length.

    The recording is read from disk in blocks (resampled block by block with soxr's
    streaming resampler), cut into windows of ``window`` seconds every ``hop`` seconds, and
    each window is given the class probabilities the model gives that stretch of audio.
    Windows without enough sound (voice activity, :func:`~sklearn_ser.detect_speech`'s
    criterion) are marked ``"no speech"`` instead of being given an emotion. Memory is
    bounded by ``block_size`` and ``batch_size`` windows, not by the recording's length.

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
    threshold_db : float, default=-50.0
        Level (RMS dBFS of 25 ms frames) from which a frame counts as sound.
    min_speech : float, default=0.2
        Share of a window's frames that must be sound for the window to be labelled.
    batch_size : int, default=64
        Windows put through the feature extractor and network at once.
    block_size : int, default=262144
        Audio frames read from the file at a time.
    verbose : int, default=0
        Progress bar (seconds of audio) when > 0.

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
    detect_speech : the voice activity criterion.

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
    >>> [(s.start, s.end) for s in timeline.segments if s.label == "no speech"]
    [(1.745, 3.245)]
    """
    features, clf, extractor = _split_model(model)
    sr = int(extractor.sr)
    if hasattr(extractor, "n_frames_"):
        model_window = max(extractor._target_length, 1) / sr
    else:  # an extractor of whole utterances (functionals): 3 s windows
        model_window = _DEFAULT_WINDOW
    window_s = _seconds(window, "window") or model_window
    hop_s = _seconds(hop, "hop") or window_s / 2
    if context not in ("recording", "window"):
        raise ValueError(
            f"predict_timeline: context must be 'recording' or 'window', got {context!r}."
        )
    if not (isinstance(min_speech, (int, float)) and 0 <= min_speech <= 1):
        raise ValueError(f"predict_timeline: min_speech must be in [0, 1], got {min_speech!r}.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise ValueError(f"predict_timeline: batch_size must be an int >= 1, got {batch_size!r}.")
    if batch_size < 1:
        raise ValueError(f"predict_timeline: batch_size must be an int >= 1, got {batch_size!r}.")
    _check_sr(sr, "sr")
    win, step = max(round(window_s * sr), 1), max(round(hop_s * sr), 1)
    if hasattr(clf, "net_"):
        one_speaker = context == "recording" and getattr(clf, "standardize", None) == "speaker"
    else:
        from .ensemble import wants_groups

        one_speaker = context == "recording" and wants_groups(clf)

    blocks, duration = stream_audio(audio, sr, block_size=block_size)
    bar = None
    if verbose:
        from tqdm.auto import tqdm

        bar = tqdm(total=round(duration, 1), unit="s", desc="audio")
    n_classes = len(clf.classes_)
    all_starts, all_ends, all_speech, all_proba = [], [], [], []
    stats = _RecordingStatistics() if one_speaker else None
    with _FeatureStore() as store:
        for starts, waves in _batches(_windows(blocks, win, step), batch_size):
            lengths = [w.shape[0] for w in waves]
            if min(lengths) == max(lengths):
                fraction = speech_fraction(np.stack(waves), sr, threshold_db)
            else:
                fraction = np.array([speech_fraction(w, sr, threshold_db) for w in waves])
            speech = fraction >= max(min_speech, 1e-9)
            proba = np.full((len(waves), n_classes), np.nan)
            if speech.any():
                Xt = _features(features, [w for w, s in zip(waves, speech) if s])
                if stats is None:
                    proba[speech] = _proba(clf, Xt, None)
                else:  # classified once the whole recording's statistics are known
                    stats.add(Xt)
                    store.add(Xt)
            all_starts += starts
            all_ends += [s + n for s, n in zip(starts, lengths)]
            all_speech.append(speech)
            all_proba.append(proba)
            if bar is not None:
                bar.update(round(min(len(waves) * step / sr, bar.total - bar.n), 3))
        speech_rows = [np.flatnonzero(s) for s in all_speech]
        batches = [b for b, rows in enumerate(speech_rows) if len(rows)]
        batchwise = hasattr(clf, "net_") or _scaler_first(clf)
        if stats is not None and stats.moments is not None and batchwise:
            for b, Xt in zip(batches, store):
                all_proba[b][speech_rows[b]] = _proba(clf, Xt, stats)
        elif stats is not None and stats.moments is not None:
            # Any other pipeline takes the recording's speaker statistics from all its
            # windows at once: their features (not audio) are held together for this call.
            X_all = store.concatenate()
            proba_all = _proba(clf, X_all, stats)
            bounds = np.cumsum([0] + [len(speech_rows[b]) for b in batches])
            for j, b in enumerate(batches):
                all_proba[b][speech_rows[b]] = proba_all[bounds[j] : bounds[j + 1]]
    if bar is not None:
        bar.close()

    speech = np.concatenate(all_speech)
    proba = np.concatenate(all_proba)
    classes = np.asarray(clf.classes_)
    best = classes[np.nan_to_num(proba, nan=-1.0).argmax(axis=1)].astype(str)
    label = np.where(speech, best, NO_SPEECH).astype(object)
    return Timeline(
        start=np.asarray(all_starts, dtype=np.float64) / sr,
        end=np.asarray(all_ends, dtype=np.float64) / sr,
        label=np.array([str(v) for v in label]),
        proba=proba,
        speech=speech,
        classes=classes,
        duration=float(duration),
        window=win / sr,
        hop=step / sr,
    )
