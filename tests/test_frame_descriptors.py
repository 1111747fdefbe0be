"""FrameDescriptorExtractor: frame-level descriptors as a CNN input (issue 22)."""

import numpy as np
import pytest

from sklearn_ser import make_ser_pipeline
from sklearn_ser.features import FrameDescriptorExtractor

SR = 16000


def _voice(seconds=1.0, f0=180.0, seed=0):
    # A harmonic tone with a little noise and a vibrato: voiced speech-like frames.
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.03 * np.sin(2 * np.pi * 5 * t))) / SR
    y = sum(np.sin(k * phase) / k for k in range(1, 6))
    return (0.05 * y + 0.002 * rng.normal(size=t.size)).astype(np.float32)


def test_maps_have_one_row_per_descriptor_and_the_fixed_length():
    X = FrameDescriptorExtractor(max_frames=40).fit_transform([_voice(0.3), _voice(0.8)])
    names = FrameDescriptorExtractor().fit([_voice(0.3)]).descriptor_names_
    assert X.shape == (2, len(names), 40)
    assert X.dtype == np.float32 and np.isfinite(X).all()


def test_speech_only_drops_silence_and_padding_before_the_crop():
    voice = _voice(0.6)
    padded = np.r_[np.zeros(SR // 2, np.float32), voice, np.zeros(SR // 2, np.float32)]
    level = list(FrameDescriptorExtractor().fit([voice]).descriptor_names_).index("log_energy")
    speech = FrameDescriptorExtractor(max_frames=150).fit_transform([padded])[0, level]
    everything = FrameDescriptorExtractor(max_frames=150, speech_only=False).fit_transform(
        [padded]
    )[0, level]
    assert speech.min() > -45.0  # only frames within 45 dB of the loudest
    assert everything.min() < -45.0  # the silence is there without speech_only
    # The same speech, padded or not, gives nearly the same map.
    alone = FrameDescriptorExtractor(max_frames=150).fit_transform([voice])[0, level]
    assert np.median(np.abs(speech - alone)) < 1.0


def test_levels_are_relative_to_the_utterance():
    voice = _voice(0.5)
    ex = FrameDescriptorExtractor(max_frames=50).fit([voice])
    names = list(ex.descriptor_names_)
    rows = [names.index("log_energy"), names.index("logmel10")]
    quiet, loud = ex.transform([voice])[0, rows], ex.transform([8 * voice])[0, rows]
    np.testing.assert_allclose(quiet, loud, atol=0.05)


def test_fmax_is_checked_against_the_sampling_rate():
    with pytest.raises(ValueError, match="fmax"):
        FrameDescriptorExtractor(fmax=5000.0).fit([_voice(0.2)])


def test_cnn_recipe_takes_frame_descriptors():
    pipe = make_ser_pipeline("cnn", features="llds", max_frames=120)
    extractor = pipe.steps[0][1]
    assert isinstance(extractor, FrameDescriptorExtractor)
    assert extractor.max_frames == 120


def test_saved_and_loaded_safely(tmp_path):
    from sklearn_ser import load_model, save_model

    voice = _voice(0.3)
    ex = FrameDescriptorExtractor(max_frames=30, speech_only=False).fit([voice])
    save_model(ex, tmp_path / "llds.ser")
    loaded = load_model(tmp_path / "llds.ser")
    assert loaded.get_params() == ex.get_params()
    np.testing.assert_array_equal(loaded.transform([voice]), ex.transform([voice]))
