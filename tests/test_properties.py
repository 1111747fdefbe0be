"""Property-based tests (hypothesis) of audio input and the feature extractors.

Random lengths (down to one sample, shorter than one analysis window), amplitudes (exact
zeros, 1e-12 ... 1e6), sampling rates, channels and PCM types; corrupted and truncated
files; bounded memory on long files.
"""

from __future__ import annotations

import os
import tempfile
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.fft
import soundfile as sf
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from sklearn_ser import (
    MelSpectrogramExtractor,
    MFCCExtractor,
    SpectrogramExtractor,
    audio_durations,
    load_audio,
)
from sklearn_ser.features._base import analysis_window, power_spectrogram

SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
RATES = st.sampled_from([8000, 11025, 16000, 22050, 44100, 48000])
AMPLITUDES = st.sampled_from([0.0, 1e-12, 1e-6, 1e-3, 0.5, 1.0, 1e3, 1e6])
SHAPES = st.sampled_from(["noise", "tone", "dc", "impulse"])


def _signal(kind: str, n: int, amp: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "noise":
        y = rng.uniform(-1.0, 1.0, n)
    elif kind == "tone":
        y = np.sin(2 * np.pi * rng.uniform(50, 4000) * np.arange(n) / 16000)
    elif kind == "dc":
        y = np.ones(n)
    else:
        y = np.zeros(n)
        y[rng.integers(n)] = 1.0
    return (amp * y).astype(np.float32)


@st.composite
def waveforms(draw, min_size: int = 1, max_size: int = 3, max_len: int = 12000):
    n = draw(st.integers(min_size, max_size))
    return [
        _signal(
            draw(SHAPES), draw(st.integers(1, max_len)), draw(AMPLITUDES), draw(st.integers(0, 99))
        )
        for _ in range(n)
    ]


def _make_extractor(kind: str, **params):
    if kind == "spec":
        return SpectrogramExtractor(**params)
    if kind == "mel":
        return MelSpectrogramExtractor(n_mels=20, **params)
    return MFCCExtractor(n_mfcc=8, n_mels=20, deltas=params.pop("deltas", 2), **params)


def _expected_bins(est) -> int:
    if isinstance(est, SpectrogramExtractor):
        return est.n_fft // 2 + 1
    if isinstance(est, MelSpectrogramExtractor):
        return est.n_mels
    return est.n_mfcc * (est.deltas + 1)


def _quiet_transform(est, X, fit: bool = True):
    # Mel filters above a low sr's Nyquist may be empty: librosa warns, values stay finite.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Empty filters detected")
        if fit:
            est.fit(X)
        return est.transform(X)


# --------------------------------------------------------------------------- extractors
@SETTINGS
@given(
    waves=waveforms(),
    kind=st.sampled_from(["spec", "mel", "mfcc"]),
    sr=st.sampled_from([8000, 16000, 22050]),
    n_fft=st.sampled_from([256, 512]),
    hop_length=st.sampled_from([64, 160, 256]),
    max_frames=st.one_of(st.none(), st.integers(1, 60)),
    normalize=st.sampled_from([None, "mean", "standard"]),
    top_db=st.sampled_from([None, 80.0, 20.0]),
    dtype=st.sampled_from([np.float32, np.float64]),
    deltas=st.sampled_from([0, 1, 2]),
)
def test_extractor_output_finite_with_documented_shape(
    waves, kind, sr, n_fft, hop_length, max_frames, normalize, top_db, dtype, deltas
):
    params = {
        "sr": sr,
        "n_fft": n_fft,
        "win_length": n_fft * 3 // 4,
        "hop_length": hop_length,
        "max_frames": max_frames,
        "normalize": normalize,
        "top_db": top_db,
        "dtype": dtype,
    }
    if kind == "mfcc":
        params["deltas"] = deltas
    est = _make_extractor(kind, **params)
    out = _quiet_transform(est, waves)
    longest = max(len(w) for w in waves)
    n_frames = max_frames if max_frames is not None else 1 + longest // hop_length
    assert est.n_frames_ == n_frames
    assert est.n_bins_ == _expected_bins(est) == len(est.get_feature_names_out())
    assert out.shape == (len(waves), est.n_bins_, n_frames)
    assert out.dtype == dtype
    assert np.isfinite(out).all()
    if normalize == "mean":  # every bin is centred over time
        np.testing.assert_allclose(out.mean(axis=-1), 0.0, atol=1e-3)
    elif normalize == "standard":
        # Unit variance, or 0 for constant bins; centred.
        std = out.std(axis=-1)
        assert (std <= 1.01).all()
        np.testing.assert_allclose(out.mean(axis=-1)[std > 0.99], 0.0, atol=1e-2)
    elif top_db is not None and kind != "mfcc":  # the dB floor is top_db under the peak
        spread = out.max(axis=(1, 2)) - out.min(axis=(1, 2))
        assert (spread <= top_db + 1e-3).all()


@SETTINGS
@given(
    waves=waveforms(max_size=2, max_len=6000),
    input_sr=RATES,
    kind=st.sampled_from(["spec", "mel", "mfcc"]),
    sr=st.sampled_from([8000, 16000]),
)
def test_loading_at_another_rate_then_extracting(waves, input_sr, kind, sr):
    if any(int(len(w) * sr / input_sr + 0.5) == 0 for w in waves):
        with pytest.raises(ValueError, match="empty after resampling"):
            load_audio(waves, sr=sr, input_sr=input_sr)
        return
    loaded = load_audio(waves, sr=sr, input_sr=input_sr)
    assert len(loaded) == len(waves)
    for y, w in zip(loaded, waves):
        assert y.dtype == np.float32 and y.ndim == 1
        assert np.isfinite(y).all()
        # soxr gives round(n * sr / input_sr) samples.
        assert abs(len(y) - len(w) * sr / input_sr) <= 0.5 + 1e-9
        if input_sr == sr:
            np.testing.assert_array_equal(y, w)
    if any(len(y) == 0 for y in loaded):  # resampled to nothing: raises (tested below)
        return
    est = _make_extractor(kind, sr=sr, max_frames=None)
    out = _quiet_transform(est, loaded)
    assert out.shape == (len(waves), est.n_bins_, 1 + max(len(y) for y in loaded) // 160)
    assert out.dtype == np.float32 and np.isfinite(out).all()


def test_resampling_to_nothing_raises():
    with pytest.raises(ValueError, match="empty"):
        load_audio([np.ones(1, dtype=np.float32)], sr=8000, input_sr=48000)


def test_odd_n_fft_gives_n_frames():
    X = np.random.default_rng(0).normal(size=(2, 4000))
    est = SpectrogramExtractor(n_fft=511, win_length=400).fit(X)
    assert est.transform(X).shape == (2, 256, est.n_frames_)


@pytest.mark.parametrize("n_samples", [3000, 16000])
def test_standardised_silence_is_zero(n_samples):
    est = MFCCExtractor(n_mfcc=8, n_mels=20, normalize="standard", top_db=None)
    out = est.fit_transform([np.zeros(n_samples, dtype=np.float32)])
    np.testing.assert_allclose(out, 0.0, atol=1e-3)


# --------------------------------------------------------------------------- files
_SUBTYPES = {"PCM_16": np.int16, "PCM_32": np.int32, "FLOAT": np.float32, "DOUBLE": np.float64}


@SETTINGS
@given(
    n=st.integers(1, 6000),
    channels=st.integers(1, 4),
    subtype=st.sampled_from(sorted(_SUBTYPES)),
    file_sr=RATES,
    amp=AMPLITUDES,
    extremes=st.booleans(),
    seed=st.integers(0, 99),
)
def test_files_of_any_channels_and_pcm_type(n, channels, subtype, file_sr, amp, extremes, seed):
    rng = np.random.default_rng(seed)
    dtype = _SUBTYPES[subtype]
    if np.dtype(dtype).kind == "i":
        info = np.iinfo(dtype)
        data = rng.integers(info.min, info.max, size=(n, channels), endpoint=True, dtype=dtype)
        if extremes:  # full-scale samples must map into [-1, 1]
            data[0] = info.min
            data[-1] = info.max
        expected = data.astype(np.float64) / -float(info.min)
    else:
        data = (amp * rng.uniform(-1, 1, size=(n, channels))).astype(dtype)
        expected = data.astype(np.float64)
    expected = expected.mean(axis=1)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "x.wav")
        sf.write(path, data, file_sr, subtype=subtype)

        y = load_audio(path, sr=file_sr)
        assert y.dtype == np.float32 and y.shape == (n,)
        scale = max(1.0, float(np.abs(expected).max()))
        np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-6 * scale)
        if np.dtype(dtype).kind == "i":
            assert np.abs(y).max() <= 1.0

        if int(n * 16000 / file_sr + 0.5) == 0:
            with pytest.raises(ValueError, match="empty after resampling"):
                load_audio(path, sr=16000)
            return
        at_16k = load_audio(path, sr=16000)
        assert at_16k.dtype == np.float32 and np.isfinite(at_16k).all()
        assert abs(len(at_16k) - n * 16000 / file_sr) <= 0.5 + 1e-9
        # audio_durations predicts the length from the header.
        assert abs(int(audio_durations([path], 16000)[0]) - len(at_16k)) <= 1

        if len(at_16k) == 0:
            return
        est = MelSpectrogramExtractor(n_mels=20)
        out = _quiet_transform(est, [path])
        assert out.shape == (1, 20, est.n_frames_)
        assert out.dtype == np.float32 and np.isfinite(out).all()


def test_audio_durations_equal_loaded_lengths(tmp_path):
    path = tmp_path / "x.wav"
    sf.write(path, np.zeros(3, dtype=np.float32), 11025)  # 4.35 samples at 16 kHz
    assert audio_durations([path], 16000)[0] == len(load_audio(path, sr=16000))


def _write_truncated(path, n, channels, subtype, keep):
    rng = np.random.default_rng(n)
    data = rng.uniform(-0.9, 0.9, size=(n, channels)).astype(np.float32)
    sf.write(path, data, 16000, subtype=subtype, format="WAV")
    size = os.path.getsize(path)
    header = 44 if subtype == "PCM_16" else size - n * channels * 4
    with open(path, "r+b") as f:
        f.truncate(header + keep(size - header))
    return data


@pytest.mark.parametrize("subtype", ["PCM_16", "FLOAT"])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize(
    "keep", [lambda b: b // 2, lambda b: b // 2 + 1, lambda b: 3], ids=["half", "odd", "3 bytes"]
)
def test_truncated_wav_loads_what_remains_or_names_the_file(tmp_path, subtype, channels, keep):
    path = tmp_path / "cut.wav"
    data = _write_truncated(path, 4000, channels, subtype, keep)
    try:
        y = load_audio(path)
    except ValueError as exc:
        assert "cut.wav" in str(exc)
        return
    assert 0 < len(y) <= len(data) // 2 + 1
    # What remains is the start of the original, mixed to mono.
    expected = data[: len(y)].astype(np.float64).mean(axis=1)
    np.testing.assert_allclose(y, expected, atol=1e-4)
    # Extractors see the same: header lengths are only used to size n_frames_.
    est = MelSpectrogramExtractor(n_mels=16)
    out = est.fit([path]).transform([path])
    assert out.shape == (1, 16, est.n_frames_) and np.isfinite(out).all()


@settings(max_examples=25, deadline=None, print_blob=True)
@given(content=st.binary(min_size=0, max_size=4096))
@example(content=b"")
@example(content=b"RIFF\x00\x00\x00\x00WAVE")
@example(content=b"\x00" * 512)
def test_garbage_wav_raises_value_error_naming_the_file(content):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "garbage.wav")
        with open(path, "wb") as f:
            f.write(content)
        with pytest.raises(ValueError, match=r"garbage\.wav"):
            load_audio(path)
        with pytest.raises(ValueError, match=r"garbage\.wav"):
            MelSpectrogramExtractor().fit([path])
        est = MelSpectrogramExtractor(max_frames=5).fit([np.zeros(800, dtype=np.float32)])
        with pytest.raises(ValueError, match=r"sample 1 .*garbage\.wav"):
            est.transform([np.zeros(800, dtype=np.float32), path])


def test_empty_wav_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.wav"):
        load_audio(path)
    # A valid header with no samples is empty audio, not a crash.
    sf.write(tmp_path / "nodata.wav", np.zeros((0, 1), dtype=np.float32), 16000)
    with pytest.raises(ValueError, match=r"nodata\.wav.*(empty|could not be read)"):
        load_audio(tmp_path / "nodata.wav")


# --------------------------------------------------------------------------- memory
def _unblocked_power(y, n_fft, hop_length, window):
    """The straightforward STFT: frames the whole padded signal at once."""
    pad = n_fft // 2
    padded = np.pad(y.astype(np.float32), ((0, 0), (pad, pad)))
    frames = sliding_window_view(padded, n_fft, axis=-1)[:, ::hop_length]
    spec = scipy.fft.rfft(np.multiply(frames, window, dtype=np.float32), axis=-1)
    return (spec.real**2 + spec.imag**2).astype(np.float32)


@SETTINGS
@given(
    n=st.integers(1, 4),
    length=st.integers(1, 20000),
    n_fft=st.integers(8, 1024),
    hop_length=st.integers(1, 700),
    block_frames=st.one_of(st.none(), st.integers(1, 300)),
    seed=st.integers(0, 99),
)
def test_blocked_stft_equals_unblocked(n, length, n_fft, hop_length, block_frames, seed):
    hop_length = max(hop_length, n * length // 4000)  # keep the reference small
    y = np.random.default_rng(seed).normal(size=(n, length)).astype(np.float32)
    window = analysis_window("hann", n_fft, n_fft)
    power = power_spectrogram(
        y, n_fft=n_fft, hop_length=hop_length, window=window, block_frames=block_frames
    )
    reference = _unblocked_power(y, n_fft, hop_length, window)
    assert power.shape == reference.shape
    assert power.shape[-1] == 1 + n_fft // 2
    np.testing.assert_allclose(power, reference, rtol=2e-6, atol=1e-5)
    # Bit for bit whatever the blocking, in particular with blocks inside long signals.
    whole = power_spectrogram(y, n_fft=n_fft, hop_length=hop_length, window=window,
                              block_frames=10**9)  # fmt: skip
    np.testing.assert_array_equal(power, whole)


def test_default_blocks_of_a_long_signal_equal_unblocked():
    # 70 s at hop 160: 7001 frames per signal, four blocks of 2048 frames by default.
    y = np.random.default_rng(1).normal(size=(1, 70 * 16000)).astype(np.float32)
    window = analysis_window("hann", 400, 512)
    power = power_spectrogram(y, n_fft=512, hop_length=160, window=window)
    assert power.shape == (1, 7001, 257)
    np.testing.assert_allclose(power, _unblocked_power(y, 512, 160, window), rtol=2e-6, atol=1e-5)
    whole = power_spectrogram(y, n_fft=512, hop_length=160, window=window, block_frames=10**9)
    np.testing.assert_array_equal(power, whole)


def test_long_file_is_transformed_with_bounded_memory(tmp_path):
    sr, seconds = 16000, 600
    rng = np.random.default_rng(0)
    path = tmp_path / "long.wav"
    with sf.SoundFile(path, "w", sr, 1, subtype="FLOAT") as f:
        for _ in range(seconds // 60):  # written a minute at a time
            f.write((0.1 * rng.standard_normal(60 * sr)).astype(np.float32))
    assert os.path.getsize(path) > 38_000_000

    est = MelSpectrogramExtractor(n_mels=64).fit([path])
    n_frames = est.n_frames_
    assert n_frames == 1 + seconds * sr // est.hop_length
    est.transform([np.zeros(4000, dtype=np.float32)])  # warm caches (filters, imports)

    tracemalloc.start()
    try:
        out = est.transform([path])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.shape == (1, 64, n_frames) and np.isfinite(out).all()

    # Framing the whole file at once needs the windowed frames (float32) and their complex
    # spectrum (complex64) together: 123 MB + 123 MB here, before the audio and the output.
    unblocked_stft = n_frames * est.n_fft * 4 + n_frames * (est.n_fft // 2 + 1) * 8
    # Blocked, the unavoidable parts are the audio (read, then stacked: 2 x 38 MB), the
    # power spectrogram (62 MB) and the mel output (15 MB) plus a few MB of blocks.
    audio = seconds * sr * 4
    power = n_frames * (est.n_fft // 2 + 1) * 4
    assert peak < 2 * audio + power + 4 * out.nbytes + 32_000_000
    assert peak < 0.8 * unblocked_stft, f"peak {peak / 1e6:.0f} MB"
