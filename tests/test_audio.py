import numpy as np
import pytest
import soundfile as sf

from sklearn_ser import as_audio_sources, audio_durations, load_audio

from .conftest import tone


def test_wav_stereo_int16_is_mixed_resampled_and_scaled(tmp_path):
    left, right = tone(200, 1.0, 22050), tone(300, 1.0, 22050)
    stereo = np.stack([left, right], axis=1)
    path = tmp_path / "stereo.wav"
    sf.write(path, stereo, 22050, subtype="PCM_16")
    y = load_audio(path, sr=16000)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - 16000) <= 1
    assert 0.3 < np.abs(y).max() <= 1.0  # int16 scaled to [-1, 1), mono average of two tones
    direct = load_audio([(left + right) / 2], sr=16000, input_sr=22050)[0]
    np.testing.assert_allclose(y, direct, atol=1e-3)


@pytest.mark.parametrize("fmt,ext", [("FLAC", "flac"), ("OGG", "ogg"), ("WAV", "wav")])
def test_formats(tmp_path, fmt, ext):
    path = tmp_path / f"a.{ext}"
    sf.write(path, tone(440, 0.5), 16000, format=fmt)
    y = load_audio([str(path)], sr=16000)[0]
    assert abs(len(y) - 8000) <= 1 and np.isfinite(y).all()


def test_ragged_waveforms_and_matrix(waves):
    out = load_audio(waves, sr=16000)
    assert [len(y) for y in out] == [len(w) for w in waves]
    matrix = np.stack([w[:5000] for w in waves])
    assert len(load_audio(matrix)) == 4


def test_integer_pcm_array_is_scaled():
    pcm = (tone(100, 0.1) * 32767).astype(np.int16)
    y = load_audio([pcm])[0]
    assert y.dtype == np.float32 and np.abs(y).max() <= 1.0
    np.testing.assert_allclose(y, tone(100, 0.1), atol=1e-4)


def test_channels_first_waveform_is_mixed():
    stereo = np.stack([tone(100), -tone(100)])
    np.testing.assert_allclose(load_audio([stereo])[0], 0.0, atol=1e-7)


def test_missing_file_names_path_and_index(tmp_path):
    ok = tmp_path / "ok.wav"
    sf.write(ok, tone(), 16000)
    with pytest.raises(FileNotFoundError, match=r"sample 1 .*nope\.wav"):
        load_audio([ok, tmp_path / "nope.wav"])


def test_unreadable_file(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    with pytest.raises(ValueError, match=r"sample 0 .*bad\.wav.*could not be read"):
        load_audio([bad])


@pytest.mark.parametrize(
    "X,match",
    [
        ([np.zeros(0)], "empty"),
        ([np.array([0.0, np.nan])], "NaN or infinity"),
        ([np.array([0.0, np.inf])], "NaN or infinity"),
        ([np.zeros((2, 2, 2))], "1-D"),
        (np.zeros((2, 3, 4)), "2-D array"),
        (np.zeros(100), "2-D array"),
        ([0.1, 0.2, 0.3], "single 1-D waveform"),
        ([], "no utterances"),
    ],
)
def test_bad_input(X, match):
    with pytest.raises(ValueError, match=match):
        load_audio(X)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(ValueError, match="empty"):
        load_audio([path])


@pytest.mark.parametrize("sr", [0, -16000, 1.5, "16k"])
def test_bad_sample_rate(sr):
    with pytest.raises(ValueError, match="sr"):
        load_audio([tone()], sr=sr)


def test_sources_and_durations(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, tone(seconds=1.0, sr=8000), 8000)
    assert as_audio_sources([path]) == [path]
    np.testing.assert_array_equal(audio_durations([path, np.zeros(10)], sr=16000), [16000, 10])
    with pytest.raises(ValueError, match="single path"):
        as_audio_sources(str(path))


# --------------------------------------------------------------------------- issue 16
def test_declared_rate_pair_gives_the_same_features_as_the_file(tmp_path):
    from sklearn_ser import MelSpectrogramExtractor

    y = tone(220, 1.0, 22050) + 0.3 * tone(1250, 1.0, 22050)
    path = tmp_path / "a.wav"
    sf.write(path, y, 22050, subtype="FLOAT")
    ext = MelSpectrogramExtractor(max_frames=80).fit([str(path)])
    from_file = ext.transform([str(path)])
    from_pair = ext.transform([(y, 22050)])
    np.testing.assert_allclose(from_pair, from_file, atol=1e-4)
    # The same array without its rate is read as 16 kHz audio: a different signal.
    assert not np.allclose(ext.transform([y]), from_file, atol=1e-2)
    assert load_audio([(y, 22050)], sr=16000)[0].shape == load_audio(path, sr=16000).shape
    assert audio_durations([(y, 22050)], 16000)[0] == load_audio(path, sr=16000).shape[0]


def test_mixing_declared_and_undeclared_rates_is_refused():
    y = tone(220, 0.2, 22050)
    with pytest.raises(ValueError, match=r"undeclared sampling rate \(samples 1\)"):
        as_audio_sources([(y, 22050), y])
    with pytest.raises(ValueError, match=r"single \(waveform, sr\) pair"):
        as_audio_sources((y, 22050))
    with pytest.raises(ValueError, match="sampling rate of the pair"):
        load_audio([(y, 0)])


def _syllables(seconds=1.0, amp=0.3, f0=180.0, sr=16000):
    """A crude voice: harmonics of f0 whose level rises and falls four times a second."""
    t = np.arange(int(seconds * sr)) / sr
    y = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 6))
    return (amp * y / 2 * np.sin(np.pi * 4 * t) ** 2).astype(np.float32)


def test_detect_speech_with_the_fixed_level():
    from sklearn_ser import detect_speech

    sr = 16000
    y = np.concatenate([np.zeros(sr), tone(200, 1.0), np.zeros(sr), tone(300, 0.5)])
    intervals = detect_speech(y, sr, vad="threshold")
    np.testing.assert_allclose(intervals / sr, [[1.0, 2.0], [3.0, 3.5]], atol=0.03)
    assert detect_speech(np.zeros(2 * sr), sr, vad="threshold").shape == (0, 2)
    noise = 1e-4 * np.random.default_rng(0).standard_normal(2 * sr)
    assert detect_speech(noise, sr, vad="threshold").shape == (0, 2)
    short_pause = np.concatenate([tone(200, 0.5), np.zeros(1600), tone(200, 0.5)])
    assert len(detect_speech(short_pause, sr, vad="threshold")) == 1


@pytest.mark.parametrize("level_db", [0, -20, -40])
def test_energy_detector_is_level_relative(level_db):
    """Speech in steady noise and hum is found at any level; noise and hum alone never."""
    from sklearn_ser import detect_speech, speech_activity

    sr, rng = 16000, np.random.default_rng(0)
    voice = _syllables(1.5)
    clean = np.concatenate([np.zeros(sr), voice, np.zeros(sr), voice, np.zeros(sr)])
    t = np.arange(clean.size) / sr
    background = 0.01 * rng.standard_normal(clean.size) + 0.02 * np.sin(2 * np.pi * 50 * t)
    gain = 10 ** (level_db / 20)
    intervals = detect_speech(gain * (clean + background), sr) / sr
    np.testing.assert_allclose(intervals, [[1.0, 2.5], [3.5, 5.0]], atol=0.15)
    assert not speech_activity(gain * background, sr).any()
    assert detect_speech(np.zeros(2 * sr), sr).shape == (0, 2)


def test_detectors_agree_on_a_clear_recording():
    pytest.importorskip("silero_vad")
    from sklearn_ser import speech_activity

    sr = 16000
    y = np.concatenate([np.zeros(sr), _syllables(2.0), np.zeros(sr)])
    energy = speech_activity(y, sr)
    assert speech_activity(y, sr, vad="threshold").shape == energy.shape
    with pytest.raises(ValueError, match="vad must be one of"):
        speech_activity(y, sr, vad="neural")


def test_has_speech_is_the_no_speech_decision():
    from sklearn_ser import has_speech

    sr = 16000
    t = np.arange(2 * sr) / sr
    noise = np.clip(3 * np.random.default_rng(0).standard_normal(2 * sr), -1, 1)
    hum = 0.2 * np.sin(2 * np.pi * 50 * t)
    quiet = 0.01 * np.concatenate([np.zeros(sr // 2), _syllables(1.0), np.zeros(sr // 2)])
    X = [_syllables(1.0), np.zeros(2 * sr), noise, hum, _syllables(0.1), quiet]
    assert has_speech(X, sr=sr).tolist() == [True, False, False, False, False, True]


def test_transform_warns_naming_silent_and_short_files(tmp_path):
    from sklearn_ser import MelSpectrogramExtractor, NoSpeechWarning

    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(32000, np.float32), 16000)
    voice = _syllables(1.0)
    ext = MelSpectrogramExtractor(max_frames=50).fit([voice])
    noise = np.clip(3 * np.random.default_rng(0).standard_normal(16000), -1, 1)
    with pytest.warns(NoSpeechWarning) as record:
        ext.transform([voice, str(silent), voice[:160], noise])
    message = str(record[0].message)
    assert "3 of 4" in message and "1 (silent.wav)" in message
    assert "shorter than 0.25 s: 2" in message and "noise or hum only): 3" in message
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", NoSpeechWarning)
        ext.transform([voice, _syllables(1.0, f0=120)])  # speech: no warning


def test_stream_audio_equals_whole_file_resampled(tmp_path):
    from sklearn_ser._audio import stream_audio

    y = tone(220, 3.0, 22050) + 0.1 * tone(3000, 3.0, 22050)
    path = tmp_path / "a.flac"
    sf.write(path, y, 22050)
    blocks, duration = stream_audio(path, 16000, block_size=5000)
    streamed = np.concatenate(list(blocks))
    whole = load_audio(path, sr=16000)
    assert abs(duration - 3.0) < 1e-6
    assert abs(len(streamed) - len(whole)) <= 1
    n = min(len(streamed), len(whole))
    np.testing.assert_allclose(streamed[:n], whole[:n], atol=2e-3)
