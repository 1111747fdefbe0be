"""Tests of sklearn_ser.datasets.make_emotional_speech."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import soundfile as sf
from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklearn_ser.datasets import make_emotional_speech


def test_shapes_labels_and_speakers():
    data = make_emotional_speech(
        n_speakers=3,
        n_utterances=2,
        emotions=("fear", "boredom"),
        sr=8000,
        duration=0.5,
        random_state=0,
    )
    assert len(data.data) == 3 * 2 * 2
    assert all(w.shape == (4000,) and w.dtype == np.float32 for w in data.data)
    assert data.sr == 8000
    assert data.target.tolist().count("fear") == 6
    assert data.target_names.tolist() == ["fear", "boredom"]
    assert sorted(set(data.speaker)) == ["s01", "s02", "s03"]
    assert dict(zip(data.speaker, data.gender)) == {"s01": "female", "s02": "male", "s03": "female"}
    assert len(data.target) == len(data.speaker) == len(data.gender) == 12
    assert data.DESCR and "filenames" not in data
    assert all(np.isfinite(w).all() and np.abs(w).max() < 1 and w.std() > 0 for w in data.data)


def test_deterministic_under_random_state():
    a = make_emotional_speech(n_speakers=2, n_utterances=1, duration=0.4, random_state=3)
    b = make_emotional_speech(n_speakers=2, n_utterances=1, duration=0.4, random_state=3)
    c = make_emotional_speech(n_speakers=2, n_utterances=1, duration=0.4, random_state=4)
    assert all(np.array_equal(x, y) for x, y in zip(a.data, b.data))
    assert not np.allclose(a.data[0], c.data[0])


def test_default_set_shape():
    # Its speed is a benchmark matter, not a test's: timing asserts fail on busy machines.
    data = make_emotional_speech(random_state=0)
    assert len(data.data) == 6 * 4 * 10
    assert data.data[0].shape == (24000,)


def test_prosody_differs_between_emotions():
    data = make_emotional_speech(n_speakers=4, n_utterances=4, noise=0.0, random_state=1)
    rms = {
        e: np.mean([np.sqrt(np.mean(w**2)) for w, t in zip(data.data, data.target) if t == e])
        for e in data.target_names
    }
    assert rms["anger"] > rms["neutral"] > rms["sadness"]

    def median_f0(emotion):
        values = []
        for w, t, s in zip(data.data, data.target, data.speaker):
            if t == emotion and s == "s02":  # one male speaker, to compare like with like
                f0 = librosa.yin(w, fmin=60, fmax=500, sr=data.sr)
                values.append(np.median(f0))
        return np.median(values)

    assert median_f0("happiness") > median_f0("neutral") > median_f0("sadness")


def test_noise_parameter():
    quiet = make_emotional_speech(
        n_speakers=1, n_utterances=1, duration=0.5, noise=0.0, random_state=0
    )
    noisy = make_emotional_speech(
        n_speakers=1, n_utterances=1, duration=0.5, noise=1.0, random_state=0
    )
    # the first samples are silence before the first syllable
    assert np.abs(quiet.data[0][:100]).max() == 0
    assert np.abs(noisy.data[0][:100]).max() > 0


def test_directory_writes_readable_wavs(tmp_path):
    data = make_emotional_speech(
        n_speakers=2,
        n_utterances=2,
        emotions=("anger", "sadness"),
        duration=0.3,
        random_state=0,
        directory=tmp_path / "out",
    )
    names = [p.split("/")[-1] for p in data.filenames]
    assert len(set(names)) == len(names) == 8
    assert names[:3] == ["s01_anger_000.wav", "s01_anger_001.wav", "s01_sadness_000.wav"]
    for path, wave, label, spk in zip(data.filenames, data.data, data.target, data.speaker):
        assert f"{spk}_{label}_" in path
        info = sf.info(path)
        assert info.subtype == "PCM_16" and info.samplerate == 16000
        read, _ = sf.read(path, dtype="float32")
        np.testing.assert_allclose(read, wave, atol=2 / 32768)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_speakers": 0}, "n_speakers"),
        ({"n_utterances": 1.5}, "n_utterances"),
        ({"emotions": ("anger", "joy")}, "joy"),
        ({"emotions": ()}, "emotions"),
        ({"emotions": ("anger", "anger")}, "duplicates"),
        ({"sr": 4000}, "sr"),
        ({"duration": 0.1}, "duration"),
        ({"noise": -1}, "noise"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_emotional_speech(**kwargs)


def test_learnable_but_not_trivial_speaker_independent():
    data = make_emotional_speech(n_speakers=4, n_utterances=8, random_state=0)
    features = []
    for wave in data.data:
        mfcc = librosa.feature.mfcc(y=wave, sr=data.sr, n_mfcc=13)
        features.append(np.r_[mfcc.mean(axis=1), mfcc.std(axis=1)])
    pred = cross_val_predict(
        make_pipeline(StandardScaler(), SVC()),
        np.array(features),
        data.target,
        groups=data.speaker,
        cv=LeaveOneGroupOut(),
    )
    accuracy = np.mean(pred == data.target)
    chance = 1 / len(data.target_names)
    assert chance + 0.15 < accuracy < 0.95
