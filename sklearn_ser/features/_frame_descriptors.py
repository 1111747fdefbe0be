"""Frame-level descriptors (pitch, voicing, level, spectral shape) as a CNN input."""

from __future__ import annotations

from functools import partial
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from .._audio import load_sources
from ._base import audio_sources, extract_in_chunks
from ._functionals import FrameAnalysis, frame_descriptors, neutral_f0, reference_level

__all__ = ["FrameDescriptorExtractor"]

# Active frames: within this many dB of the loudest frame, as summarise_frames decides.
_ACTIVE_RANGE_DB = 45.0
_VOICING_THRESHOLD = 0.5  # YIN aperiodicity below which an active frame is voiced
_CHUNK = 16
_SPECTRAL = (
    "zcr",
    "spectral_flatness",
    "spectral_entropy",
    "spectral_flux",
    "spectral_slope0_500",
    "spectral_slope500_1500",
    "spectral_slope0_5000",
    "alpha_ratio",
    "hammarberg",
    "band300_800",
    "band800_1800",
    "band1800_3000",
    "band3000_5000",
    *(f"spectral_contrast{i}" for i in range(7)),
    *(f"mfcc{i}" for i in range(1, 15)),
)
_KHZ = ("spectral_centroid", "spectral_bandwidth", "spectral_rolloff50", "spectral_rolloff90")
DESCRIPTORS = (
    "log_energy",
    "f0_semitone",
    "voicing_prob",
    "voiced",
    *_KHZ,
    *_SPECTRAL,
    *(f"logmel{i}" for i in range(26)),
)


def _descriptor_map(frames: dict[str, np.ndarray], an: FrameAnalysis) -> np.ndarray:
    """(n_descriptors, n_frames) of one utterance, levels relative to the utterance."""
    level = frames["log_energy"]
    active = level > level.max() - _ACTIVE_RANGE_DB if level.size else level.astype(bool)
    ref = reference_level(level, active)
    f0, aperiodicity = frames["f0_hz"], frames["aperiodicity"]
    voiced = active & (f0 >= an.fmin) & (f0 <= an.fmax) & (aperiodicity < _VOICING_THRESHOLD)
    f0 = np.where(voiced, f0, neutral_f0(an.fmin, an.fmax))
    rows = {
        "log_energy": level - ref,
        "f0_semitone": 12 * np.log2(f0 / 27.5),
        "voicing_prob": np.where(active, 1.0 - aperiodicity, 0.0),
        "voiced": voiced.astype(np.float64),
        **{name: frames[name] / 1000.0 for name in _KHZ},
        **{name: frames[name] for name in _SPECTRAL},
        **{f"logmel{i}": frames[f"logmel{i}"] - ref for i in range(26)},
    }
    return np.stack([rows[name] for name in DESCRIPTORS]), active


def _fixed_length(x: np.ndarray, n_frames: int) -> np.ndarray:
    """Centre crop, or repeat the frames (all speech, when ``speech_only``) to fill."""
    t = x.shape[1]
    if t > n_frames:
        start = (t - n_frames) // 2
        return x[:, start : start + n_frames]
    if t < n_frames:
        return x[:, np.arange(n_frames) % t]
    return x


class FrameDescriptorExtractor(TransformerMixin, BaseEstimator):
    """Frame-level descriptors of speech: pitch, voicing, level and spectral shape.

    Every 10 ms, the low-level descriptors of
    :class:`~sklearn_ser.FunctionalsExtractor` (computed by
    :func:`~sklearn_ser.features.frame_descriptors`) as a ``(n_descriptors, n_frames)``
    map, a CNN input of the same shape as a log-mel spectrogram's: log energy, F0 in
    semitones (a neutral F0 where unvoiced), voicing probability and decision, spectral
    centroid, bandwidth and roll-offs (kHz), flatness, entropy, flux, slopes, alpha ratio,
    Hammarberg index, formant-band energies, spectral contrast, 14 MFCCs and 26 log-mel
    bands. Level-type descriptors (log energy, log-mel) are made relative to the
    utterance's reference level, as :func:`~sklearn_ser.features.summarise_frames` does,
    so no value depends on the gain of the recording.

    With ``speech_only``, the frames more than 45 dB below the loudest (pauses, leading
    and trailing silence, zero padding) are dropped before the map is brought to
    ``max_frames``: longer speech is cropped about its centre, shorter speech repeated,
    so the network never sees silence wrapped into its input.

    Parameters
    ----------
    sr : int, default=16000
        Sampling rate the audio is loaded at.
    max_frames : int, default=300
        Frames per map (10 ms each).
    fmin, fmax : float, default=65.0, 600.0
        Range of F0 searched, in Hz.
    speech_only : bool, default=True
        Drop the inactive frames before cropping or repeating.
    n_jobs : int or None, default=None
        Threads over chunks of utterances.
    verbose : int, default=0
        Progress bar when > 0.

    Attributes
    ----------
    n_frames_ : int
        Frames per map.
    descriptor_names_ : ndarray of str of shape (n_descriptors,)
        The descriptor of each row of a map.

    See Also
    --------
    sklearn_ser.FunctionalsExtractor : functionals of the same descriptors.
    sklearn_ser.make_ser_pipeline : ``make_ser_pipeline("cnn", features="llds")``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.features import FrameDescriptorExtractor
    >>> t = np.arange(16000) / 16000
    >>> y = np.r_[np.zeros(8000), 0.1 * np.sin(2 * np.pi * 200 * t)]  # silence, then tone
    >>> X = FrameDescriptorExtractor(max_frames=50).fit_transform([y])
    >>> X.shape
    (1, 68, 50)
    >>> names = FrameDescriptorExtractor().fit([y]).descriptor_names_
    >>> names[:3].tolist()
    ['log_energy', 'f0_semitone', 'voicing_prob']
    """

    _parameter_constraints: ClassVar[dict] = {
        "sr": [Interval(Integral, 1, None, closed="left")],
        "max_frames": [Interval(Integral, 1, None, closed="left")],
        "fmin": [Interval(Real, 0, None, closed="neither")],
        "fmax": [Interval(Real, 0, None, closed="neither")],
        "speech_only": ["boolean"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        sr: int = 16000,
        max_frames: int = 300,
        fmin: float = 65.0,
        fmax: float = 600.0,
        speech_only: bool = True,
        n_jobs: int | None = None,
        verbose: int = 0,
    ):
        self.sr = sr
        self.max_frames = max_frames
        self.fmin = fmin
        self.fmax = fmax
        self.speech_only = speech_only
        self.n_jobs = n_jobs
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> FrameDescriptorExtractor:
        """Validate the parameters (no audio is read: the transformer is stateless).

        Parameters
        ----------
        X : sequence of paths or waveforms, or ndarray of shape (n_samples, n_audio_samples)
            Training audio.
        y : None
            Ignored.

        Returns
        -------
        self : FrameDescriptorExtractor
        """
        if not self.fmin < self.fmax <= self.sr / 4:
            raise ValueError(
                f"FrameDescriptorExtractor: fmax must be > fmin={self.fmin} and <= sr / 4 = "
                f"{self.sr / 4:g} Hz, got {self.fmax!r}."
            )
        audio_sources(self, X, reset=True)
        self.n_frames_ = int(self.max_frames)
        self.descriptor_names_ = np.asarray(DESCRIPTORS, dtype=object)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Descriptor maps of every utterance.

        Parameters
        ----------
        X : sequence of paths or waveforms, or ndarray of shape (n_samples, n_audio_samples)
            Audio to transform.

        Returns
        -------
        maps : ndarray of shape (n_samples, n_descriptors, n_frames_)
            float32.
        """
        check_is_fitted(self, "n_frames_")
        sources = audio_sources(self, X, reset=False)
        analysis = FrameAnalysis(int(self.sr), self.fmin, self.fmax)
        return extract_in_chunks(self, sources, partial(self._chunk, analysis=analysis), _CHUNK)

    def _chunk(self, sources: list, offset: int, analysis: FrameAnalysis) -> tuple:
        maps = []
        for wave in load_sources(sources, int(self.sr), offset):
            x, active = _descriptor_map(frame_descriptors(wave, analysis), analysis)
            if self.speech_only and active.any():
                x = x[:, active]
            maps.append(_fixed_length(x, self.n_frames_).astype(np.float32))
        return np.stack(maps), []

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.string = True  # file paths
        tags.transformer_tags.preserves_dtype = []
        tags.requires_fit = True
        return tags
