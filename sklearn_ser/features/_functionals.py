"""Utterance-level acoustic functionals: low-level descriptors summarised over time.

The classic feature sets of paralinguistics (openSMILE's eGeMAPS and ComParE) describe an
utterance by *functionals* (statistics such as mean, percentiles, regression slopes) of
frame-wise *low-level descriptors* (LLDs: pitch, loudness, spectral shape, MFCCs...).
:class:`FunctionalsExtractor` computes sets in that spirit with numpy alone:

* every spectral LLD of a file comes from one short-time power spectrum (the batched STFT of
  :mod:`sklearn_ser.features._base`), pitch from one vectorised YIN pass, energy and
  zero-crossing rate from cumulative sums;
* the functionals of all LLDs of a file are array operations over an ``(n_llds, n_frames)``
  matrix (one sort for every percentile, closed-form regressions), not a loop over LLDs;
* pitch-type LLDs (F0, harmonic-to-noise ratio, perturbation) are summarised over the voiced
  frames only, as in the literature;
* the work is split in two: :func:`frame_descriptors` (frame-wise LLDs of any block of
  audio, each frame from its own samples) and :func:`summarise_frames` (every decision
  relative to the utterance or window: active and voiced frames, the reference level,
  deltas, functionals), so that a long recording's frames are computed once and any window
  of them summarised;
* no feature and no threshold depends on the recording level: level-type LLDs are taken
  relative to the utterance's reference level, activity relative to its loudest frame,
  the floors of logarithms relative to each frame's own power.
"""

from __future__ import annotations

import itertools
import numbers
from functools import partial
from typing import Any, ClassVar

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._audio import load_sources
from ._base import (
    _no_speech,
    analysis_window,
    audio_sources,
    extract_in_chunks,
    mel_filters,
    power_spectrogram,
)

__all__ = [
    "FrameAnalysis",
    "FunctionalsExtractor",
    "frame_descriptors",
    "neutral_f0",
    "reference_level",
    "summarise_frames",
]

_CHUNK = 16  # files per parallel task
_SILENT = 1e-20  # power floor (-200 dB): digital silence only, never a level decision
# Active frames: within this many dB of the loudest frame of the utterance (or window).
_ACTIVE_RANGE_DB = 45.0
_LOUDNESS_EXPONENT = 0.3  # compression of the mel-band energies summed into loudness
# YIN aperiodicity below which a (loud enough) frame is voiced; 0.5 agrees best with
# librosa.pyin's voicing decisions on EmoDB and EMOVO samples (82 % of frames).
_VOICING_THRESHOLD = 0.5

# ---------------------------------------------------------------------------------------
# Functionals: statistics of every row of an (n_llds, n_frames) matrix, all rows at once.
# ---------------------------------------------------------------------------------------

_ALL_FUNCTIONALS = (
    "mean",
    "std",
    "skewness",
    "kurtosis",
    "pctl1",
    "pctl20",
    "pctl25",
    "pctl50",
    "pctl75",
    "pctl80",
    "pctl99",
    "range1_99",
    "iqr25_75",
    "iqr25_50",
    "iqr50_75",
    "range20_80",
    "minpos",
    "maxpos",
    "linreg_slope",
    "linreg_offset",
    "linreg_err",
    "quadreg_a",
    "quadreg_b",
    "quadreg_c",
    "quadreg_err",
    "upleveltime25",
    "upleveltime50",
    "upleveltime75",
    "upleveltime90",
    "risetime",
    "falltime",
    "peak_rate",
    "peak_dist_mean",
    "peak_mean_rel",
    "meancross_rate",
    "mean_abs_diff",
)
_INDEX = {name: i for i, name in enumerate(_ALL_FUNCTIONALS)}


def _functionals(x: np.ndarray, frame_rate: float) -> np.ndarray:
    """Every functional of ``_ALL_FUNCTIONALS`` of every row of ``x``: ``(k, n_functionals)``.

    Rows with no frame (an empty voiced set) give zeros; one frame gives zero spread.
    """
    k, n = x.shape
    out = np.zeros((k, len(_ALL_FUNCTIONALS)))
    if n == 0 or k == 0:
        return out
    x = x.astype(np.float64, copy=False)
    f = {}
    mean = x.mean(axis=1)
    c = x - mean[:, None]
    var = np.einsum("ij,ij->i", c, c) / n
    std = np.sqrt(var)
    # Spread below rounding noise (a constant row) has no shape: skewness, kurtosis 0.
    shaped = std > 1e-7 * np.maximum(np.abs(mean), 1e-3)
    safe_std = np.where(shaped, std, 1.0)
    z = c / safe_std[:, None]
    z2 = z * z
    f["mean"], f["std"] = mean, std
    f["skewness"] = np.where(shaped, np.einsum("ij,ij->i", z2, z) / n, 0.0)
    f["kurtosis"] = np.where(shaped, np.einsum("ij,ij->i", z2, z2) / n - 3.0, 0.0)

    s = np.sort(x, axis=1)

    def pctl(q: float) -> np.ndarray:
        pos = q * (n - 1)
        lo = int(np.floor(pos))
        hi = min(lo + 1, n - 1)
        frac = pos - lo
        return s[:, lo] * (1.0 - frac) + s[:, hi] * frac

    for q in (1, 20, 25, 50, 75, 80, 99):
        f[f"pctl{q}"] = pctl(q / 100)
    f["range1_99"] = f["pctl99"] - f["pctl1"]
    f["iqr25_75"] = f["pctl75"] - f["pctl25"]
    f["iqr25_50"] = f["pctl50"] - f["pctl25"]
    f["iqr50_75"] = f["pctl75"] - f["pctl50"]
    f["range20_80"] = f["pctl80"] - f["pctl20"]
    f["minpos"] = np.argmin(x, axis=1) / n
    f["maxpos"] = np.argmax(x, axis=1) / n

    # Linear regression on time in seconds, in closed form.
    t = np.arange(n) / frame_rate
    tc = t - t.mean()
    denom = float(tc @ tc)
    slope = (c @ tc) / denom if denom > 0 else np.zeros(k)
    f["linreg_slope"] = slope
    f["linreg_offset"] = mean - slope * t.mean()
    resid = c - slope[:, None] * tc
    f["linreg_err"] = np.einsum("ij,ij->i", resid, resid) / n
    # Quadratic regression on normalised time u in [0, 1]: least squares by pseudo-inverse
    # (minimum-norm coefficients when there are fewer than three frames).
    u = np.arange(n) / max(n - 1, 1)
    design = np.stack([u * u, u, np.ones(n)], axis=1)
    coef = x @ np.linalg.pinv(design).T
    f["quadreg_a"], f["quadreg_b"], f["quadreg_c"] = coef.T
    resid = x - coef @ design.T
    f["quadreg_err"] = np.einsum("ij,ij->i", resid, resid) / n

    # Time above a level of the robust range (1st-99th percentile).
    for q in (25, 50, 75, 90):
        level = f["pctl1"] + (q / 100) * f["range1_99"]
        f[f"upleveltime{q}"] = (x > level[:, None]).mean(axis=1)
    if n > 1:
        d = np.diff(x, axis=1)
        f["risetime"] = (d > 0).mean(axis=1)
        f["falltime"] = (d < 0).mean(axis=1)
        f["mean_abs_diff"] = np.abs(d).mean(axis=1) * frame_rate
        sign = c >= 0
        f["meancross_rate"] = (sign[:, 1:] != sign[:, :-1]).sum(axis=1) * frame_rate / n
    else:
        for name in ("risetime", "falltime", "mean_abs_diff", "meancross_rate"):
            f[name] = np.zeros(k)
    if n > 2:
        mid = x[:, 1:-1]
        peaks = (mid > x[:, :-2]) & (mid >= x[:, 2:])
        count = peaks.sum(axis=1)
        f["peak_rate"] = count * frame_rate / n
        first = np.argmax(peaks, axis=1)
        last = peaks.shape[1] - 1 - np.argmax(peaks[:, ::-1], axis=1)
        f["peak_dist_mean"] = np.where(
            count > 1, (last - first) / np.maximum(count - 1, 1) / frame_rate, 0.0
        )
        peak_mean = (mid * peaks).sum(axis=1) / np.maximum(count, 1)
        f["peak_mean_rel"] = np.where(count > 0, peak_mean - mean, 0.0)
    else:
        for name in ("peak_rate", "peak_dist_mean", "peak_mean_rel"):
            f[name] = np.zeros(k)
    for name, values in f.items():
        out[:, _INDEX[name]] = values
    return out


# ---------------------------------------------------------------------------------------
# Low-level descriptors of one waveform.
# ---------------------------------------------------------------------------------------


def _yin(
    y: np.ndarray,
    sr: int,
    fmin: float,
    fmax: float,
    frame_length: int,
    hop_length: int,
    frames_used: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``librosa.yin`` (centred frames, zero padding, trough threshold 0.1), vectorised,
    also returning the aperiodicity: the cumulative mean normalised difference at the chosen
    period (0 for a perfectly periodic frame, about 1 for noise).

    Only the frames where ``frames_used`` is True are analysed (the others get F0 0 and
    aperiodicity 1): silent frames need no pitch. A frame whose best period lies on the
    edge of the searched range gets aperiodicity 1 (no period inside the range).
    """
    pad = frame_length // 2
    padded = np.pad(y.astype(np.float32), (pad, pad))
    frames = sliding_window_view(padded, frame_length)[::hop_length]  # (T, frame_length)
    n_total = frames.shape[0]
    f0_all = np.zeros(n_total)
    ap_all = np.ones(n_total)
    if frames_used is not None:
        frames = frames[frames_used[:n_total]]
    if frames.shape[0] == 0:
        return f0_all, ap_all
    min_period = int(np.floor(sr / fmax))
    max_period = min(int(np.ceil(sr / fmin)), frame_length - 1)
    n_fft = scipy.fft.next_fast_len(2 * frame_length - 1, real=True)
    spec = scipy.fft.rfft(frames, n=n_fft, axis=1)
    acf = scipy.fft.irfft(spec.real**2 + spec.imag**2, n=n_fft, axis=1)[:, : max_period + 1]
    acf = acf.astype(np.float64)
    energy = np.cumsum(frames[:, :max_period].astype(np.float64) ** 2, axis=1)
    # Difference function d(k) = 2 (r(0) - r(k)) - sum_{m<k} y(m)^2, then its cumulative
    # mean normalisation.
    diff = 2.0 * (acf[:, :1] - acf[:, 1:]) - energy
    cummean = np.cumsum(diff, axis=1) / np.arange(1, max_period + 1)
    cmnd = diff[:, min_period - 1 :] / (cummean[:, min_period - 2 : max_period - 1] + 1e-300)
    # cmnd[:, j] is lag min_period + j.
    n_lags = cmnd.shape[1]
    trough = np.zeros_like(cmnd, dtype=bool)
    trough[:, 1:-1] = (cmnd[:, 1:-1] < cmnd[:, :-2]) & (cmnd[:, 1:-1] <= cmnd[:, 2:])
    trough[:, 0] = cmnd[:, 0] < cmnd[:, 1]
    below = trough & (cmnd < 0.1)
    idx = np.where(below.any(axis=1), np.argmax(below, axis=1), np.argmin(cmnd, axis=1))
    rows = np.arange(cmnd.shape[0])
    inner = (idx > 0) & (idx < n_lags - 1)
    left = cmnd[rows, np.maximum(idx - 1, 0)]
    mid = cmnd[rows, idx]
    right = cmnd[rows, np.minimum(idx + 1, n_lags - 1)]
    a = right + left - 2 * mid
    b = (right - left) / 2
    ok = inner & (np.abs(b) < np.abs(a))
    shift = np.where(ok, -b / np.where(ok, a, 1.0), 0.0)
    f0 = sr / (min_period + idx + shift)
    aperiodicity = np.clip(mid, 0.0, 1.0)
    # A best lag on the edge of the searched range is no period found inside it (e.g. the
    # 20 ms of 50 Hz mains hum when fmin is above 50 Hz): such frames have no pitch.
    aperiodicity = np.where(inner, aperiodicity, 1.0)
    if frames_used is None:
        return f0, aperiodicity
    f0_all[frames_used[:n_total]] = f0
    ap_all[frames_used[:n_total]] = aperiodicity
    return f0_all, ap_all


def _framed_sums(x: np.ndarray, frame_length: int, hop_length: int) -> np.ndarray:
    """Sums of ``x`` over centred, zero-padded frames (librosa's ``center=True`` framing)."""
    pad = frame_length // 2
    cs = np.concatenate([[0.0], np.cumsum(np.pad(x.astype(np.float64), (pad, pad)))])
    n_frames = 1 + (len(x) + 2 * pad - frame_length) // hop_length
    starts = np.arange(n_frames) * hop_length
    return cs[starts + frame_length] - cs[starts]


class FrameAnalysis:
    """The frame grid, filter banks and band masks shared by every file (built once).

    Frames of 25 ms (Hann, FFT of the next power of two) every 10 ms at ``sr``; YIN frames
    long enough for two periods of ``fmin``. The input of :func:`frame_descriptors` and
    :func:`summarise_frames`.

    Parameters
    ----------
    sr : int
        Sampling rate of the audio.
    fmin, fmax : float
        Range of F0 searched, in Hz.

    Examples
    --------
    >>> from sklearn_ser.features import FrameAnalysis
    >>> an = FrameAnalysis(16000, 65.0, 600.0)
    >>> an.hop, an.frame_rate
    (160, 100.0)
    """

    def __init__(self, sr: int, fmin: float, fmax: float):
        self.sr = sr
        self.hop = round(0.010 * sr)
        self.win = round(0.025 * sr)
        self.n_fft = 1 << int(np.ceil(np.log2(self.win)))
        self.window = analysis_window("hann", self.win, self.n_fft)
        # YIN needs two periods of the lowest F0 in a frame.
        self.yin_length = 16 * int(np.ceil(2 * np.ceil(sr / fmin) / 16))
        self.fmin, self.fmax = float(fmin), float(fmax)
        self.freqs = np.arange(1 + self.n_fft // 2) * sr / self.n_fft
        self.frame_rate = sr / self.hop
        self.mel = mel_filters(sr=sr, n_fft=self.n_fft, n_mels=26, fmin=20.0)
        f = self.freqs
        nyq = sr / 2

        def band(lo: float, hi: float) -> np.ndarray:
            return (f >= lo) & (f < min(hi, nyq))

        self.bands = {
            "alpha_lo": band(50, 1000),
            "alpha_hi": band(1000, 5000),
            "ham_lo": band(0, 2000),
            "ham_hi": band(2000, 5000),
            "slope0_500": band(0, 500),
            "slope500_1500": band(500, 1500),
            "slope0_5000": band(0, 5000),
        }
        self.formant_bands = {
            "band300_800": band(300, 800),
            "band800_1800": band(800, 1800),
            "band1800_3000": band(1800, 3000),
            "band3000_5000": band(3000, 5000),
        }
        edges = [0, 200, 400, 800, 1600, 3200, 6400, nyq + 1]
        self.contrast_bands = [band(lo, hi) for lo, hi in itertools.pairwise(edges)]
        # Slope regressions as one matrix: centred frequency (kHz) over each band's bins.
        names = ("slope0_500", "slope500_1500", "slope0_5000")
        cols = []
        for name in names:
            m = self.bands[name].astype(np.float64)
            fk = f / 1000.0
            fc = (fk - (fk * m).sum() / max(m.sum(), 1)) * m
            cols.append(fc / max(float(fc @ fc), 1e-12))
        self.slope_matrix = np.stack(cols, axis=1)  # (n_bins, 3)
        self.slope_names = names


def _segments(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lengths (frames) of the runs of True and of False in ``mask``."""
    if mask.size == 0:
        return np.zeros(0), np.zeros(0)
    edges = np.flatnonzero(np.diff(mask.astype(np.int8))) + 1
    bounds = np.concatenate([[0], edges, [mask.size]])
    lengths = np.diff(bounds)
    starts_true = mask[bounds[:-1]]
    return lengths[starts_true], lengths[~starts_true]


def frame_descriptors(y: np.ndarray, an: FrameAnalysis) -> dict[str, np.ndarray]:
    """Frame-wise low-level descriptors of a block of audio, one value per 10 ms frame.

    Frame ``t`` is centred on sample ``t * an.hop`` (``1 + len(y) // an.hop`` frames,
    librosa's ``center=True`` framing); the spectral descriptors come from one power
    spectrum. Each value depends on its own frame's samples only (the block's DC offset,
    a constant of a recording, is removed first), never on the block as a whole: frames of
    a long recording can be computed once and any window of them summarised by
    :func:`summarise_frames`. Level-type descriptors (``rms``, ``log_energy``,
    ``loudness``, ``logmel*``) are absolute here (dB re full scale, or linear);
    :func:`summarise_frames` makes them relative to the utterance. ``f0_hz`` is YIN's
    estimate (0 where a frame was not analysed), ``aperiodicity`` its aperiodicity (1 for
    no period inside ``[fmin, fmax]``): the voicing decision is also made there.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Mono audio at ``an.sr``.
    an : FrameAnalysis
        The frame grid and filter banks.

    Returns
    -------
    frames : dict of str to ndarray of shape (n_frames,)
        Every descriptor by name.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.features import FrameAnalysis, frame_descriptors
    >>> an = FrameAnalysis(sr=16000, fmin=65.0, fmax=600.0)
    >>> y = 0.1 * np.sin(2 * np.pi * 200 * np.arange(16000) / 16000)
    >>> frames = frame_descriptors(y, an)
    >>> frames["log_energy"].shape
    (101,)
    >>> round(float(np.median(frames["f0_hz"])), -1)
    200.0
    """
    y = np.asarray(y, dtype=np.float32)
    y = y - y.mean()  # a DC offset is no part of the voice
    power = power_spectrogram(y[None], n_fft=an.n_fft, hop_length=an.hop, window=an.window)[0]
    power = power.astype(np.float64)  # (T, bins)
    mag = np.sqrt(power)
    T = power.shape[0]
    psum = power.sum(axis=1)
    # Floors of logarithms relative to each frame's own power (120 dB below its mean bin),
    # so that no descriptor changes with the gain of the recording; _SILENT only for
    # digital silence.
    floor = 1e-12 * psum[:, None] / power.shape[1] + _SILENT
    d = {}
    # Energy and zero crossings from cumulative sums over the same frames as the spectrum.
    ms = _framed_sums(y.astype(np.float64) ** 2, an.n_fft, an.hop)[:T] / an.n_fft
    d["rms"] = np.sqrt(ms)
    d["log_energy"] = 10 * np.log10(np.maximum(ms, _SILENT))
    sign = np.where(y == 0, 0.0, y) >= 0
    crossings = np.concatenate([[0.0], (sign[1:] != sign[:-1]).astype(np.float64)])
    # Crossings between the samples of each frame (not into its first sample).
    pad = an.n_fft // 2
    cc = np.concatenate([[0.0], np.cumsum(np.pad(crossings, (pad, pad)))])
    starts = np.arange(T) * an.hop
    d["zcr"] = (cc[starts + an.n_fft] - cc[starts + 1]) / an.n_fft
    # Auditory-like loudness: sum of compressed mel-band energies.
    mel = power @ an.mel.T.astype(np.float64)  # (T, 26)
    d["loudness"] = np.sum(np.maximum(mel, 0.0) ** _LOUDNESS_EXPONENT, axis=1)
    logmel = 10 * np.log10(np.maximum(mel, floor))
    mfcc = scipy.fft.dct(logmel, type=2, norm="ortho", axis=1)
    # Spectral shape (librosa's definitions: magnitude-weighted centroid, bandwidth, roll-off).
    msum = mag.sum(axis=1)
    norm = np.where(msum > 0, msum, 1.0)
    p = mag / norm[:, None]
    centroid = p @ an.freqs
    d["spectral_centroid"] = centroid
    d["spectral_bandwidth"] = np.sqrt(
        np.einsum("tf,tf->t", p, (an.freqs[None] - centroid[:, None]) ** 2)
    )
    cum = np.cumsum(mag, axis=1)
    for q in (25, 50, 75, 90):
        idx = np.argmax(cum >= (q / 100) * cum[:, -1:], axis=1)
        d[f"spectral_rolloff{q}"] = an.freqs[idx]
    pf = np.maximum(power, floor)
    d["spectral_flatness"] = np.exp(np.log(pf).mean(axis=1)) / pf.mean(axis=1)
    pn = power / np.where(psum > 0, psum, 1.0)[:, None]
    d["spectral_entropy"] = -(pn * np.log2(np.maximum(pn, 1e-20))).sum(axis=1) / np.log2(
        power.shape[1]
    )
    flux = np.zeros(T)
    if T > 1:
        flux[1:] = np.sqrt(((p[1:] - p[:-1]) ** 2).sum(axis=1))
    d["spectral_flux"] = flux
    # Spectral balance: slopes of the dB spectrum, alpha ratio, Hammarberg index.
    db = 10 * np.log10(pf)
    slopes = db @ an.slope_matrix
    for i, name in enumerate(an.slope_names):
        d[f"spectral_{name}"] = slopes[:, i]
    b = an.bands
    fl = floor[:, 0]
    d["alpha_ratio"] = 10 * np.log10(
        np.maximum(power[:, b["alpha_lo"]].sum(1), fl)
        / np.maximum(power[:, b["alpha_hi"]].sum(1), fl)
    )
    d["hammarberg"] = 10 * np.log10(
        np.maximum(power[:, b["ham_lo"]].max(1), fl) / np.maximum(power[:, b["ham_hi"]].max(1), fl)
    )
    total = np.maximum(psum, fl)
    for name, m in an.formant_bands.items():
        d[name] = 10 * np.log10(np.maximum(power[:, m].sum(1), fl) / total)
    # Spectral contrast: peak against valley (top and bottom fifth of bins) per octave band.
    for i, m in enumerate(an.contrast_bands):
        sub = np.sort(db[:, m], axis=1)
        q = max(1, round(0.2 * sub.shape[1]))
        d[f"spectral_contrast{i}"] = sub[:, -q:].mean(1) - sub[:, :q].mean(1)
    for i in range(26):
        d[f"logmel{i}"] = logmel[:, i]
    for i in range(1, 15):
        d[f"mfcc{i}"] = mfcc[:, i]
    # Pitch and periodicity of every frame with sound (digital silence needs no pitch).
    f0, aperiodicity = _yin(y, an.sr, an.fmin, an.fmax, an.yin_length, an.hop, ms > _SILENT)
    d["f0_hz"], d["aperiodicity"] = f0[:T], aperiodicity[:T]
    return d


def _run_bounds(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every frame, the first and last frame of the run of equal ``mask`` values it is in."""
    n = mask.size
    change = np.flatnonzero(np.diff(mask.astype(np.int8))) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [n]]) - 1
    run = np.repeat(np.arange(starts.size), np.diff(np.concatenate([starts, [n]])))
    return starts[run], ends[run]


def _deltas(x: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Regression deltas over +-2 frames of every row of ``x`` (edge frames repeated).

    With ``mask``, ``x`` holds the frames where ``mask`` is True, and each delta is taken
    within its own run of consecutive selected frames: never across a gap between them.
    """
    if x.shape[1] == 0:
        return x.copy()
    n = x.shape[1]
    if mask is None:
        lo, hi = np.zeros(n, dtype=int), np.full(n, n - 1)
    else:
        first, last = _run_bounds(mask)
        sel = np.flatnonzero(mask)
        position = np.cumsum(mask) - 1  # index among the selected frames
        lo, hi = position[first[sel]], position[last[sel]]
    t = np.arange(n)

    def at(k: int) -> np.ndarray:
        return x[:, np.clip(t + k, lo, hi)]

    return (2 * (at(2) - at(-2)) + (at(1) - at(-1))) / 10.0


# ---------------------------------------------------------------------------------------
# Feature sets: which LLDs, over which frames, with which functionals.
# ---------------------------------------------------------------------------------------

_SPECTRAL = [
    "spectral_centroid",
    "spectral_bandwidth",
    "spectral_rolloff25",
    "spectral_rolloff50",
    "spectral_rolloff75",
    "spectral_rolloff90",
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
    *[f"spectral_contrast{i}" for i in range(7)],
]
_EXT_ALL = [
    "rms",
    "log_energy",
    "loudness",
    "zcr",
    "voicing_prob",
    *_SPECTRAL,
    *[f"mfcc{i}" for i in range(1, 15)],
]
_EXT_MEL = [f"logmel{i}" for i in range(26)]
_MEL_FUNCTIONALS = (
    "mean",
    "std",
    "skewness",
    "kurtosis",
    "pctl1",
    "pctl50",
    "pctl99",
    "range1_99",
    "iqr25_75",
    "linreg_slope",
)
# Prosody and voice quality over the voiced frames: pitch, periodicity, level and the
# balance of the spectrum (what the literature finds most speaker-independent).
_EXT_VOICED = [
    "f0_semitone",
    "hnr",
    "loudness",
    "log_energy",
    "spectral_slope0_500",
    "spectral_slope500_1500",
    "alpha_ratio",
    "hammarberg",
    "band300_800",
    "band800_1800",
    "band1800_3000",
    "band3000_5000",
    "spectral_flux",
    "spectral_centroid",
]
_UNVOICED = [
    "loudness",
    "spectral_slope0_500",
    "spectral_slope500_1500",
    "alpha_ratio",
    "hammarberg",
    "spectral_flux",
    "spectral_centroid",
    "mfcc1",
    "mfcc2",
    "mfcc3",
    "mfcc4",
]
_ROBUST = ("mean", "std", "pctl50", "iqr25_75")
_BASIC = ("mean", "std", "pctl20", "pctl50", "pctl80", "range20_80")

# (subset, LLD names, with deltas?, functionals); subset in {"all", "voiced", "unvoiced"}.
_SETS = {
    "compact": [
        ("voiced", ["f0_semitone"], False, (*_BASIC, "linreg_slope", "risetime", "falltime")),
        ("all", ["loudness"], False, (*_BASIC, "risetime", "falltime", "peak_rate")),
        (
            "voiced",
            [
                "hnr",
                "loudness",
                "spectral_slope0_500",
                "spectral_slope500_1500",
                "alpha_ratio",
                "hammarberg",
                "band300_800",
                "band800_1800",
                "band1800_3000",
                "band3000_5000",
                "spectral_flux",
                "spectral_centroid",
                "mfcc1",
                "mfcc2",
                "mfcc3",
                "mfcc4",
            ],
            False,
            ("mean", "std"),
        ),
        ("unvoiced", _UNVOICED, False, ("mean", "std")),
        ("all", ["zcr", "voicing_prob", "spectral_flux", "log_energy"], False, ("mean", "std")),
    ],
    "extended": [
        ("all", _EXT_ALL, True, _ALL_FUNCTIONALS),
        ("all", _EXT_MEL, True, _MEL_FUNCTIONALS),
        ("voiced", _EXT_VOICED, True, _ALL_FUNCTIONALS),
        ("voiced", [f"mfcc{i}" for i in range(1, 15)], False, _ROBUST),
        ("unvoiced", _UNVOICED, False, _ROBUST),
    ],
}
# Scalars of the voicing pattern and of period/amplitude perturbation (every set).
_SCALARS = (
    "voiced_ratio",
    "voiced_segments_per_s",
    "voiced_segment_length_mean",
    "voiced_segment_length_std",
    "unvoiced_segment_length_mean",
    "unvoiced_segment_length_std",
    "jitter_mean",
    "jitter_std",
    "shimmer_db_mean",
    "shimmer_db_std",
)


def _scalars(d: dict, voiced: np.ndarray, active: np.ndarray, frame_rate: float) -> np.ndarray:
    # Over the span of the utterance (first to last active frame): leading and trailing
    # silence or padding are no unvoiced segment and no part of the duration.
    where = np.flatnonzero(active)
    span = slice(where[0], where[-1] + 1) if where.size else slice(0, 0)
    voiced, active = voiced[span], active[span]
    v_len, u_len = _segments(voiced)
    v_len, u_len = v_len / frame_rate, u_len / frame_rate
    duration = max(voiced.size / frame_rate, 1e-3)
    pairs = voiced[1:] & voiced[:-1]  # consecutive voiced frames
    period = 1.0 / np.maximum(d["f0_hz"][span], 1.0)
    jitter = np.abs(np.diff(period))[pairs] / period[1:][pairs]
    shimmer = np.abs(np.diff(d["log_energy"][span]))[pairs]

    def ms(a: np.ndarray) -> tuple[float, float]:
        return (float(a.mean()), float(a.std())) if a.size else (0.0, 0.0)

    return np.array(
        [
            voiced.sum() / max(active.sum(), 1),
            v_len.size / duration,
            *ms(v_len),
            *ms(u_len),
            *ms(jitter),
            *ms(shimmer),
        ]
    )


def _set_names(feature_set: str) -> list[str]:
    names = []
    for subset, llds, deltas, funcs in _SETS[feature_set]:
        tag = "" if subset == "all" else f"_{subset}"
        rows = [*llds, *(f"{n}_delta" for n in llds)] if deltas else list(llds)
        names += [f"{r}{tag}_{fn}" for r in rows for fn in funcs]
    return names + list(_SCALARS)


def reference_level(log_energy: np.ndarray, active: np.ndarray) -> float:
    """The utterance's reference level (dB): the median log energy of its active frames."""
    values = log_energy[active] if active.any() else log_energy
    return float(np.median(values)) if values.size else 0.0


def summarise_frames(
    frames: dict[str, np.ndarray], an: FrameAnalysis, feature_set: str = "extended"
) -> np.ndarray:
    """The functionals of one utterance (or of any window) from its frame descriptors.

    Every decision relative to the utterance is made here, over the frames given:

    1. *active* frames: within 45 dB of the loudest frame given (no absolute floor);
    2. level-type descriptors (``rms``, ``log_energy``, ``loudness``, ``logmel*``) made
       relative to the reference level of :func:`reference_level`, so that no feature
       depends on the gain of the recording;
    3. *voiced* frames: active, with a period inside ``[fmin, fmax]`` and YIN aperiodicity
       below 0.5, smoothed by a three-frame majority vote; *unvoiced*: the other active
       frames (never the pauses or padding around the utterance);
    4. functionals of each feature set's descriptors over the all-active, voiced or
       unvoiced frames, deltas taken within each run of consecutive selected frames (never
       across a gap). An empty voiced or unvoiced set is summarised as the active frames,
       with F0 held at the neutral :func:`neutral_f0` (``voiced_ratio`` tells such files
       apart), so that a file without voicing is no outlier.

    Parameters
    ----------
    frames : dict of str to ndarray of shape (n_frames,)
        The output of :func:`frame_descriptors`, or any slice of its arrays (e.g. one
        window of a long recording: ``{k: v[a:b] for k, v in frames.items()}``).
    an : FrameAnalysis
        The frame grid the descriptors were computed on.
    feature_set : {"compact", "extended"}, default="extended"
        Which functionals.

    Returns
    -------
    features : ndarray of shape (n_features,)
        In the order of ``FunctionalsExtractor(feature_set=...).get_feature_names_out()``.

    Examples
    --------
    Frames of a recording computed once, then its first and second halves summarised:

    >>> import numpy as np
    >>> from sklearn_ser.features import FrameAnalysis, frame_descriptors, summarise_frames
    >>> an = FrameAnalysis(sr=16000, fmin=65.0, fmax=600.0)
    >>> t = np.arange(32000) / 16000
    >>> y = 0.1 * np.sin(2 * np.pi * np.where(t < 1, 150, 300) * t)
    >>> frames = frame_descriptors(y, an)
    >>> halves = [{k: v[a : a + 100] for k, v in frames.items()} for a in (0, 100)]
    >>> rows = np.stack([summarise_frames(h, an, "compact") for h in halves])
    >>> rows.shape
    (2, 90)
    """
    d = dict(frames)
    level = d["log_energy"]
    T = level.size
    active = level > level.max() - _ACTIVE_RANGE_DB if T else np.zeros(0, dtype=bool)
    if not active.any():
        active = np.ones(T, dtype=bool)
    ref = reference_level(level, active)
    d["log_energy"] = level - ref
    d["rms"] = d["rms"] * 10 ** (-ref / 20)
    d["loudness"] = d["loudness"] * 10 ** (-_LOUDNESS_EXPONENT * ref / 10)
    for i in range(26):
        d[f"logmel{i}"] = d[f"logmel{i}"] - ref
    f0, aperiodicity = d["f0_hz"], d["aperiodicity"]
    has_pitch = active & (f0 >= an.fmin) & (f0 <= an.fmax)
    voiced = has_pitch & (aperiodicity < _VOICING_THRESHOLD)
    if T > 2:  # a three-frame majority: no single-frame voicing blips or gaps
        votes = voiced[:-2].astype(np.int8) + voiced[1:-1] + voiced[2:].astype(np.int8)
        voiced[1:-1] = (votes >= 2) & has_pitch[1:-1]
    d["voicing_prob"] = np.where(active, 1.0 - aperiodicity, 0.0)
    ap = np.clip(aperiodicity, 1e-3, 1 - 1e-3)
    d["hnr"] = 10 * np.log10((1 - ap) / ap)
    d["f0_hz"] = np.where(voiced, f0, neutral_f0(an.fmin, an.fmax))
    d["f0_semitone"] = 12 * np.log2(d["f0_hz"] / 27.5)
    masks = {"all": active, "voiced": voiced, "unvoiced": active & ~voiced}
    for name in ("voiced", "unvoiced"):
        if not masks[name].any():
            masks[name] = active
    parts = []
    for subset, llds, deltas, funcs in _SETS[feature_set]:
        mask = masks[subset]
        x = np.stack([d[n][mask] for n in llds])
        if deltas:
            x = np.concatenate([x, _deltas(x, mask)], axis=0)
        cols = [_INDEX[fn] for fn in funcs]
        parts.append(_functionals(x, an.frame_rate)[:, cols].ravel())
    parts.append(_scalars(d, voiced, active, an.frame_rate))
    return np.concatenate(parts)


def neutral_f0(fmin: float, fmax: float) -> float:
    """F0 (Hz) that stands for "no pitch": the geometric centre of the searched range."""
    return float(np.sqrt(fmin * fmax))


def _extract_one(y: np.ndarray, an: FrameAnalysis, feature_set: str) -> np.ndarray:
    return summarise_frames(frame_descriptors(y, an), an, feature_set)


class FunctionalsExtractor(TransformerMixin, BaseEstimator):
    """Utterance-level acoustic functionals in the manner of openSMILE's standard sets.

    Low-level descriptors (LLDs) are computed every 10 ms (25 ms Hann windows) and summarised
    over the utterance by functionals, giving one row of fixed length per utterance whatever
    its duration: the input a support vector machine or any scikit-learn classifier needs.
    Pitch is estimated with YIN (as :func:`librosa.yin`); a frame is voiced when it is
    *active* (within 45 dB of the loudest frame), has a period strictly inside
    ``[fmin, fmax]`` and is periodic enough (YIN aperiodicity below 0.5), with a
    three-frame majority vote. Pitch-type LLDs (F0 in semitones, harmonic-to-noise ratio,
    perturbation) are summarised over the voiced frames only; the other LLDs over the
    active frames, so that the pauses and padding around an utterance do not dilute its
    statistics. Some LLDs are also summarised over the voiced and over the *unvoiced*
    frames (active frames without voicing: never pauses or padding) apart. Deltas are
    taken within each run of consecutive selected frames, never across a gap.

    **Level invariance.** The gain of a recording (a quiet microphone, a distant
    speaker) is no emotion, so no feature depends on it: the level-type LLDs (RMS and log
    energy, loudness, log-mel energies) are taken relative to the utterance's reference
    level, the median log energy of its active frames (for loudness, the same reference
    through its 0.3 compression); activity is relative to the loudest frame, with no
    absolute floor. Level still speaks through what is relative: the dynamics within the
    utterance (percentiles, ranges, slopes and peaks of these LLDs), the spectral balance
    (slopes, alpha ratio, Hammarberg index, band energies: vocal effort tilts the
    spectrum) and voice quality.

    Parameters
    ----------
    feature_set : {"compact", "extended"}, default="extended"
        Which functionals to compute.

        - ``"compact"`` (90 features, in the spirit of eGeMAPS): pitch level, range and
          contour (F0 in semitones over voiced frames: mean, std, 20th/50th/80th
          percentiles, 20-80 range, slope, rise and fall time), loudness (same statistics
          and its peak rate), harmonic-to-noise ratio, spectral balance (slopes 0-500 Hz and
          500-1500 Hz, alpha ratio, Hammarberg index), energies of the formant regions
          (300-800, 800-1800, 1800-3000, 3000-5000 Hz), spectral flux and centroid, MFCC 1-4
          (means and standard deviations over voiced and over unvoiced frames), voicing
          ratio, rate of voiced segments, mean and std of voiced and unvoiced segment
          lengths, jitter-like period perturbation and shimmer-like amplitude perturbation.
        - ``"extended"`` (4,806 features, in the spirit of ComParE; it contains every
          feature of ``"compact"``): 44 LLDs (RMS energy, log energy, loudness,
          zero-crossing rate, voicing probability, spectral centroid, bandwidth, roll-off
          at 25/50/75/90 %, flatness, entropy, flux, slopes, alpha ratio, Hammarberg index,
          formant-region energies, 7 octave-band contrasts, MFCC 1-14) and their deltas,
          each summarised by 36 functionals (mean, std, skewness, kurtosis, percentiles
          1/20/25/50/75/80/99 and their ranges, positions of the minimum and maximum,
          linear and quadratic regression coefficients and errors, up-level times, rise and
          fall times, peak rate, mean peak distance and relative peak mean, mean-crossing
          rate, mean absolute difference); 26 log-mel bands and their deltas by 10 of those;
          F0, harmonic-to-noise ratio, loudness, energy, spectral balance, formant-region
          energies, flux and centroid over the voiced frames, with deltas, by all 36;
          voiced-frame MFCCs and unvoiced-frame spectral balance by mean, std, median and
          IQR; and the voicing and perturbation scalars of ``"compact"``.

    sr : int, default=16000
        Sampling rate the audio is resampled to before analysis. Waveforms given as arrays
        are taken to be at this rate.
    fmin, fmax : float, default=65.0, 600.0
        Range of F0 searched by YIN, in Hz (``fmax`` at most ``sr / 4``). A frame whose
        best period lies on the edge of the range is not voiced, so a ``fmin`` above 60
        Hz rejects 50 and 60 Hz mains hum.
    n_jobs : int or None, default=None
        Parallel jobs over chunks of utterances (joblib; None means 1).
    verbose : int, default=0
        Show a progress bar (tqdm) over chunks when > 0.

    Attributes
    ----------
    n_features_in_ : int
        Length of the waveforms, only when ``X`` was a 2-D numeric array in ``fit``.
    n_features_out_ : int
        Number of functionals (columns of the output).

    See Also
    --------
    FeatureStatistics : functionals of the frames of a spectral extractor.
    sklearn_ser.preprocessing.SpeakerStandardScaler : per-speaker standardisation, the
        usual next step for speaker-independent emotion recognition.

    Notes
    -----
    The output depends only on each utterance's own audio: a file gives the same row alone
    or in a batch, whatever ``n_jobs``. A gain of the audio (without clipping) changes it
    only by rounding. Silent input gives finite values (and a warning). A file without
    voiced frames (whisper, noise) has ``voiced_ratio`` 0, the statistics of its F0 are
    those of a constant neutral F0 (:func:`neutral_f0`, the geometric centre of
    ``[fmin, fmax]``: no outlier), and its other voiced-frame statistics are those of its
    active frames; likewise an empty unvoiced set. The default ``fmin`` of 65 Hz keeps
    50 and 60 Hz mains hum out of the voiced frames.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser import FunctionalsExtractor
    >>> t = np.arange(16000) / 16000
    >>> waves = [0.3 * np.sin(2 * np.pi * 200 * t), 0.1 * np.sin(2 * np.pi * 120 * t)]
    >>> fx = FunctionalsExtractor(feature_set="compact")
    >>> X = fx.fit_transform(waves)
    >>> X.shape == (2, len(fx.get_feature_names_out()))
    True
    >>> f0 = list(fx.get_feature_names_out()).index("f0_semitone_voiced_mean")
    >>> [round(float(27.5 * 2 ** (st / 12)), -1) for st in X[:, f0]]  # F0 in Hz
    [200.0, 120.0]
    """

    _parameter_constraints: ClassVar[dict] = {
        "feature_set": [StrOptions(set(_SETS))],
        "sr": [Interval(numbers.Integral, 1000, None, closed="left")],
        "fmin": [Interval(numbers.Real, 20, None, closed="left")],
        "fmax": [Interval(numbers.Real, 20, None, closed="neither")],
        "n_jobs": [numbers.Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        feature_set: str = "extended",
        sr: int = 16000,
        fmin: float = 65.0,
        fmax: float = 600.0,
        n_jobs: int | None = None,
        verbose: int = 0,
    ):
        self.feature_set = feature_set
        self.sr = sr
        self.fmin = fmin
        self.fmax = fmax
        self.n_jobs = n_jobs
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> FunctionalsExtractor:
        """Validate the parameters (no audio is read: the transformer is stateless).

        Parameters
        ----------
        X : sequence of paths or waveforms, or ndarray of shape (n_samples, n_audio_samples)
            Training audio.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted extractor.
        """
        if self.fmax <= self.fmin:
            raise ValueError(
                f"FunctionalsExtractor: fmax must be > fmin={self.fmin}, got {self.fmax!r}."
            )
        if self.fmax > self.sr / 4:
            raise ValueError(
                f"FunctionalsExtractor: fmax must be <= sr / 4 = {self.sr / 4:g} Hz (YIN needs "
                f"a few samples per period), got {self.fmax!r}."
            )
        self._sources(X, reset=True)
        self.n_features_out_ = len(_set_names(self.feature_set))
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Compute the functionals of every utterance.

        Parameters
        ----------
        X : sequence of paths or waveforms, or ndarray of shape (n_samples, n_audio_samples)
            Audio to transform.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out_)
            One row of functionals per utterance (float64, finite).

        Warns
        -----
        NoSpeechWarning
            Naming the utterances that are silent (no 25 ms frame at or above -50 dBFS) or
            shorter than 0.25 s, as the other extractors do; their functionals are finite
            but describe no speech.
        """
        check_is_fitted(self, "n_features_out_")
        sources = self._sources(X, reset=False)
        analysis = FrameAnalysis(int(self.sr), self.fmin, self.fmax)
        return extract_in_chunks(self, sources, partial(self._chunk, analysis=analysis), _CHUNK)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns, ``"<lld>[_delta][_voiced|_unvoiced]_<functional>"``.

        Parameters
        ----------
        input_features : None
            Ignored; present for API consistency.

        Returns
        -------
        names : ndarray of str of shape (n_features_out_,)

        Examples
        --------
        >>> from sklearn_ser import FunctionalsExtractor
        >>> names = FunctionalsExtractor(feature_set="compact").fit([[0.0] * 400])
        >>> names.get_feature_names_out()[:2].tolist()
        ['f0_semitone_voiced_mean', 'f0_semitone_voiced_std']
        """
        check_is_fitted(self, "n_features_out_")
        return np.asarray(_set_names(self.feature_set), dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.string = True  # file paths
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = []
        tags.requires_fit = True
        return tags

    # ------------------------------------------------------------------ internals
    def _sources(self, X: Any, reset: bool) -> list:
        return audio_sources(self, X, reset)

    def _chunk(self, sources: list, offset: int, analysis: FrameAnalysis) -> tuple:
        waves = load_sources(sources, int(self.sr), offset)
        rows = np.stack([_extract_one(w, analysis, self.feature_set) for w in waves])
        return rows, _no_speech(waves, int(self.sr), offset)
