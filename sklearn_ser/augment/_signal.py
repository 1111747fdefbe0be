"""Signal-level perturbations of one mono waveform: one function per condition family.

Every function takes a float32 waveform at ``sr`` Hz and a :class:`numpy.random.Generator`
(or explicit parameters) and returns a float32 waveform of the same length (speed excepted),
so that a copy is reproducible from its seed alone. Heavy libraries (audiomentations,
pyroomacoustics) are imported inside the functions that use them.
"""

from __future__ import annotations

import contextlib
import io
import random
import threading
from collections.abc import Iterator, Sequence

import numpy as np

EPS = 1e-12
# audiomentations draws from the global generators: one seeded draw at a time.
_GLOBAL_RNG_LOCK = threading.Lock()


def _audiomentations():
    try:
        import audiomentations
    except ImportError as exc:  # pragma: no cover - the augment extra installs it
        raise ImportError(
            "AudioAugmenter's noise and impulse-response files, white and pink noise need "
            "audiomentations: pip install 'sklearn-ser[augment]'."
        ) from exc
    return audiomentations


def rms(y: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(y, dtype=np.float64)) + EPS))


def _fit_length(y: np.ndarray, n: int) -> np.ndarray:
    """Crop or zero-pad ``y`` to ``n`` samples."""
    if y.shape[0] >= n:
        return y[:n]
    return np.pad(y, (0, n - y.shape[0]))


def _loop_to(y: np.ndarray, n: int, offset: int = 0) -> np.ndarray:
    """``n`` samples of ``y`` repeated end to end, starting at ``offset``."""
    reps = int(np.ceil((n + offset) / max(y.shape[0], 1))) + 1
    return np.tile(y, reps)[offset : offset + n]


def _limit(y: np.ndarray) -> np.ndarray:
    """Scale down (never up) so that no sample leaves [-1, 1], as a recorder would."""
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    return (y / peak if peak > 1.0 else y).astype(np.float32)


@contextlib.contextmanager
def seeded_globals(seed: int) -> Iterator[None]:
    """Seed Python's and NumPy's global generators (audiomentations draws from them), then
    restore their state, so that a copy depends on its own seed and nothing else."""
    with _GLOBAL_RNG_LOCK:
        py_state, np_state = random.getstate(), np.random.get_state()  # noqa: NPY002
        random.seed(seed)
        np.random.seed(seed % 2**32)  # noqa: NPY002
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)  # noqa: NPY002


# --------------------------------------------------------------------------- level
def gain(y: np.ndarray, gain_db: float) -> np.ndarray:
    """``y`` scaled by ``gain_db`` decibels (clipping-free: limited to full scale)."""
    return _limit(y * np.float32(10.0 ** (gain_db / 20.0)))


# --------------------------------------------------------------------------- noise
def mix_at_snr(y: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``y`` plus ``noise`` scaled to ``snr_db`` dB below the signal's RMS level.

    The levels are those of the whole signal (as audiomentations and most corpora define
    SNR); a silent signal is returned unchanged.
    """
    noise = noise[: y.shape[0]]
    scale = rms(y) / rms(noise) * 10.0 ** (-snr_db / 20.0)
    if rms(y) <= np.sqrt(EPS):
        return y.astype(np.float32)
    return _limit(y + noise.astype(np.float32) * np.float32(scale))


def colored_noise(y: np.ndarray, sr: int, snr_db: float, color: str, seed: int) -> np.ndarray:
    """White or pink noise at ``snr_db`` through audiomentations (seeded)."""
    am = _audiomentations()
    if color == "white":
        transform = am.AddGaussianSNR(min_snr_db=snr_db, max_snr_db=snr_db, p=1.0)
    else:
        # Pink noise: a 1/f power spectrum, -3.01 dB per octave.
        transform = am.AddColorNoise(
            min_snr_db=snr_db, max_snr_db=snr_db, min_f_decay=-3.01, max_f_decay=-3.01, p=1.0
        )
    with seeded_globals(seed):
        return _limit(transform(samples=y.astype(np.float32), sample_rate=sr))


def babble(
    y: np.ndarray, talkers: Sequence[np.ndarray], snr_db: float, rng: np.random.Generator
) -> np.ndarray:
    """``y`` plus the sum of ``talkers`` (each at equal level, looped from a random
    offset), at ``snr_db`` dB SNR: the murmur of other people speaking."""
    n = y.shape[0]
    murmur = np.zeros(n, dtype=np.float64)
    for talker in talkers:
        offset = int(rng.integers(0, max(talker.shape[0], 1)))
        murmur += _loop_to(talker, n, offset) / rms(talker)
    return mix_at_snr(y, murmur, snr_db)


def noise_files(y: np.ndarray, sr: int, folder: str, snr_db: float, seed: int) -> np.ndarray:
    """A noise file of ``folder`` (chosen and offset by the seed) at ``snr_db``, through
    audiomentations' ``AddBackgroundNoise``."""
    transform = _audiomentations().AddBackgroundNoise(
        sounds_path=folder, min_snr_db=snr_db, max_snr_db=snr_db, p=1.0
    )
    with seeded_globals(seed):
        return _limit(transform(samples=y.astype(np.float32), sample_rate=sr))


def rir_files(y: np.ndarray, sr: int, folder: str, seed: int) -> np.ndarray:
    """``y`` convolved with an impulse response of ``folder`` (chosen by the seed), through
    audiomentations' ``ApplyImpulseResponse``, brought back to the level of ``y``."""
    transform = _audiomentations().ApplyImpulseResponse(
        ir_path=folder, p=1.0, leave_length_unchanged=True
    )
    with seeded_globals(seed):
        wet = transform(samples=y.astype(np.float32), sample_rate=sr)
    return _limit(wet * np.float32(rms(y) / rms(wet)))


# --------------------------------------------------------------------------- channel
def band_limit(
    y: np.ndarray, sr: int, low_hz: float, high_hz: float, channel_sr: int | None, order: int
) -> np.ndarray:
    """Band-pass ``low_hz``-``high_hz`` (Butterworth, ``order``), and the trip through a
    ``channel_sr`` Hz channel (e.g. 8000 for a telephone line) when given."""
    import soxr
    from scipy.signal import butter, sosfilt

    out = y.astype(np.float64)
    if channel_sr is not None and channel_sr < sr:
        out = soxr.resample(out, sr, channel_sr)
        rate = channel_sr
    else:
        rate = sr
    high_hz = min(high_hz, 0.45 * rate)
    sos = butter(order, [low_hz, high_hz], btype="bandpass", fs=rate, output="sos")
    out = sosfilt(sos, out)
    if rate != sr:
        out = soxr.resample(out, rate, sr)
    return _limit(_fit_length(out, y.shape[0]).astype(np.float32))


def codec(y: np.ndarray, sr: int, fmt: str, compression: float) -> np.ndarray:
    """``y`` encoded and decoded again by libsndfile (through soundfile) in memory.

    ``fmt`` is ``"mp3"`` (MPEG layer III, constant bit rate), ``"ogg"`` (Vorbis) or
    ``"opus"``; ``compression`` in [0, 1) is libsndfile's compression level (higher: lower
    bit rate; MP3 at 16 kHz: 0.5 is about 80 kbit/s, 0.9 about 25 kbit/s).
    """
    import soundfile as sf

    formats = {
        "mp3": ("MP3", "MPEG_LAYER_III", {"bitrate_mode": "CONSTANT"}),
        "ogg": ("OGG", "VORBIS", {}),
        "opus": ("OGG", "OPUS", {}),
    }
    container, subtype, extra = formats[fmt]
    rate = sr
    if fmt == "opus" and sr not in (8000, 12000, 16000, 24000, 48000):
        rate = 48000
    data = y if rate == sr else _resample(y, sr, rate)
    buffer = io.BytesIO()
    sf.write(
        buffer,
        np.clip(data, -1.0, 1.0),
        rate,
        format=container,
        subtype=subtype,
        compression_level=float(compression),
        **extra,
    )
    buffer.seek(0)
    decoded, _ = sf.read(buffer, dtype="float32")
    if rate != sr:
        decoded = _resample(decoded, rate, sr)
    # MP3 starts 1105 samples late (encoder and decoder delay; kept, as in MP3 files read
    # through soundfile) and ends padded to whole frames: keep the original length.
    return _fit_length(decoded.astype(np.float32), y.shape[0])


def _resample(y: np.ndarray, from_sr: float, to_sr: float) -> np.ndarray:
    import soxr

    return soxr.resample(y, from_sr, to_sr).astype(np.float32)


def speed(y: np.ndarray, sr: int, factor: float) -> np.ndarray:
    """``y`` played ``factor`` times as fast: tempo and pitch together (Ko et al., 2015)."""
    return _resample(y, sr * factor, sr)


# --------------------------------------------------------------------------- room
def simulate_rir(rt60: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """The impulse response of a random shoebox room with reverberation time ``rt60`` s.

    Image-source method of pyroomacoustics (deterministic), walls' absorption from
    Sabine's formula; room 3-10 m x 3-8 m x 2.5-4 m, source and microphone at least 0.5 m
    from the walls and from each other.
    """
    try:
        import pyroomacoustics as pra
    except ImportError as exc:  # pragma: no cover - the augment extra installs it
        raise ImportError(
            "Simulated reverberation needs pyroomacoustics: pip install 'sklearn-ser[augment]', "
            "or give rir_dir= a folder of impulse responses."
        ) from exc
    dims = np.array([rng.uniform(3, 10), rng.uniform(3, 8), rng.uniform(2.5, 4)])
    absorption, max_order = pra.inverse_sabine(rt60, dims)
    room = pra.ShoeBox(
        dims, fs=sr, materials=pra.Material(absorption), max_order=max_order, use_rand_ism=False
    )
    while True:
        source, mic = (rng.uniform(0.5, dims - 0.5) for _ in range(2))
        if np.linalg.norm(source - mic) >= 0.5:
            break
    room.add_source(source)
    room.add_microphone(mic)
    room.compute_rir()
    rir = np.asarray(room.rir[0][0], dtype=np.float64)
    return (rir / (np.max(np.abs(rir)) + EPS)).astype(np.float32)


def reverberate(y: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """``y`` convolved with the impulse response ``rir``, aligned on its direct path and
    brought back to the level of ``y`` (a room changes the sound, not the microphone gain)."""
    from scipy.signal import fftconvolve

    start = int(np.argmax(np.abs(rir)))
    wet = fftconvolve(y.astype(np.float64), rir[start:].astype(np.float64))[: y.shape[0]]
    return _limit((wet * rms(y) / rms(wet)).astype(np.float32))
