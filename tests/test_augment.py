"""AudioAugmenter and AugmentedClassifier: copies, their conditions, labels and speakers."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn
from joblib import parallel_config
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_ser import load_audio
from sklearn_ser.augment import AudioAugmenter, AugmentedClassifier
from sklearn_ser.preprocessing import SpeakerStandardScaler

SR = 16000


def tones(freqs, seconds=0.5, amp=0.3, sr=SR):
    t = np.arange(int(seconds * sr)) / sr
    return [(amp * np.sin(2 * np.pi * f * t)).astype(np.float32) for f in freqs]


def level_db(y):
    return 10 * np.log10(np.mean(np.square(y, dtype=np.float64)))


def band_energy(y, low, high, sr=SR):
    spec = np.abs(np.fft.rfft(y)) ** 2
    freqs = np.fft.rfftfreq(len(y), 1 / sr)
    return spec[(freqs >= low) & (freqs < high)].sum() / spec.sum()


class Loudness(TransformerMixin, BaseEstimator):
    """Two features per utterance (level and spectral centroid): a fast model of audio."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        waves = load_audio(X, sr=SR)
        rows = []
        for w in waves:
            spec = np.abs(np.fft.rfft(w)) + 1e-9
            centroid = (spec * np.arange(len(spec))).sum() / spec.sum() / len(spec)
            rows.append([level_db(w + 1e-9), centroid])
        return np.array(rows)


def one(family, wave, **params):
    augmenter = AudioAugmenter([family], n_copies=1, random_state=0, **params)
    X_res, _ = augmenter.fit_resample([wave, wave], ["a", "b"], groups=[0, 1])
    return X_res[2][0]


def test_output_layout_labels_and_provenance():
    X = tones([200, 300, 400])
    augmenter = AudioAugmenter(["gain", "noise"], n_copies=2, random_state=0)
    X_res, y_res = augmenter.fit_resample(X, ["a", "b", "c"], groups=["s1", "s1", "s2"])
    assert len(X_res) == 9
    assert all(sr == SR and w.dtype == np.float32 for w, sr in X_res)
    np.testing.assert_array_equal(X_res[1][0], X[1])  # the originals come first, as given
    assert y_res.tolist() == ["a", "b", "c", "a", "a", "b", "b", "c", "c"]
    assert augmenter.sample_indices_.tolist() == [0, 1, 2, 0, 0, 1, 1, 2, 2]
    assert augmenter.groups_.tolist() == ["s1", "s1", "s2", "s1", "s1", "s1", "s1", "s2", "s2"]
    assert set(augmenter.conditions_[3:]) <= {"gain", "noise"}
    assert (augmenter.conditions_[:3] == "original").all()
    for (copy, _), index in zip(X_res[3:], augmenter.sample_indices_[3:]):
        assert copy.shape == X[index].shape and not np.array_equal(copy, X[index])


def test_seeded_and_independent_of_n_jobs():
    X = tones([200, 300, 400, 500])
    params = dict(perturbations=["noise", "babble", "codec"], n_copies=2, random_state=3)
    first, _ = AudioAugmenter(**params).fit_resample(X, list("abab"), groups=[0, 0, 1, 1])
    with parallel_config(backend="threading"):  # as processes, but quicker to start
        again, _ = AudioAugmenter(**params, n_jobs=2).fit_resample(
            X, list("abab"), groups=[0, 0, 1, 1]
        )
    other, _ = AudioAugmenter(**{**params, "random_state": 4}).fit_resample(
        X, list("abab"), groups=[0, 0, 1, 1]
    )
    for (a, _), (b, _) in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for (a, _), (b, _) in zip(first, other))


def test_paths_and_pairs_are_loaded_at_sr(tmp_path):
    import soundfile as sf

    wave = tones([300], sr=8000)[0]
    sf.write(tmp_path / "a.wav", wave, 8000)
    X_res, _ = AudioAugmenter(["gain"], n_copies=1, random_state=0).fit_resample(
        [str(tmp_path / "a.wav"), (wave, 8000)], ["a", "b"]
    )
    assert [len(w) for w, _ in X_res] == [2 * len(wave)] * 4


def test_gain_changes_level_within_range():
    wave = tones([300], amp=0.1)[0]
    copy = one("gain", wave, gain_db=(-20.0, -10.0))
    assert -20.5 <= level_db(copy) - level_db(wave) <= -9.5


@pytest.mark.parametrize("family", ["noise", "babble"])
def test_noise_at_requested_snr(family):
    X = tones([300, 700, 1100, 1500])
    augmenter = AudioAugmenter([family], n_copies=1, snr_db=(10.0, 10.0), random_state=0)
    X_res, _ = augmenter.fit_resample(X, list("abcd"), groups=[0, 1, 2, 3])
    added = X_res[4][0] - X[0]
    assert level_db(X[0]) - level_db(added) == pytest.approx(10.0, abs=0.5)


def test_babble_is_other_speakers_speech():
    # Each speaker speaks at its own pitch: the murmur added to speaker 0 holds none of it.
    X = tones([300, 300, 900, 900, 2100, 2100])
    augmenter = AudioAugmenter(["babble"], n_copies=2, random_state=0)
    X_res, _ = augmenter.fit_resample(X, list("abcdef"), groups=[0, 0, 1, 1, 2, 2])
    speakers = np.array([0, 0, 1, 1, 2, 2])
    for draw in augmenter.draws_:
        assert 3 <= len(draw["talkers"]) <= 4  # capped by the 4 files of other speakers
        assert (speakers[draw["talkers"]] != speakers[draw["index"]]).all()
    for (copy, _), index in zip(X_res[6:], augmenter.sample_indices_[6:]):
        murmur = copy - X[index]
        own = {0: 300, 1: 300, 2: 900, 3: 900, 4: 2100, 5: 2100}[index]
        assert band_energy(murmur, own - 50, own + 50) < 1e-3
        assert band_energy(murmur, 0, 4000) > 0.99


def test_babble_needs_several_speakers():
    with pytest.raises(ValueError, match="single speaker"):
        AudioAugmenter(["babble"]).fit_resample(tones([300, 400]), ["a", "b"], groups=[1, 1])


def test_band_removes_what_a_telephone_cannot_carry():
    rng = np.random.default_rng(0)
    noise = (0.1 * rng.standard_normal(SR)).astype(np.float32)
    copy = one("band", noise)
    assert band_energy(copy, 5500, 8000) < 1e-2  # 37 % of white noise lies there
    assert band_energy(copy, 0, 80) < 1e-2


@pytest.mark.parametrize("seed", [0, 1])
def test_codec_keeps_length_and_content(seed):
    wave = tones([440])[0]
    augmenter = AudioAugmenter(["codec"], n_copies=3, random_state=seed)
    X_res, _ = augmenter.fit_resample([wave, wave], ["a", "b"])
    for copy, _ in X_res[2:]:
        assert copy.shape == wave.shape
        assert band_energy(copy, 390, 490) > 0.9


def test_speed_copies_are_pseudo_speakers():
    X = tones([300, 400, 500])
    augmenter = AudioAugmenter(["speed"], n_copies=2, speed_factors=[0.8], random_state=0)
    X_res, _ = augmenter.fit_resample(X, list("abc"), groups=[7, 7, 8])
    assert [len(w) for w, _ in X_res[3:]] == [len(X[0]) * 5 // 4] * 6
    assert augmenter.groups_.tolist() == ["7", "7", "8"] + ["7@speed0.8"] * 4 + ["8@speed0.8"] * 2


def test_simulated_rooms_spread_the_sound():
    click = np.zeros(SR // 2, dtype=np.float32)
    click[100] = 0.5
    copy = one("reverb", click, rt60=(0.3, 0.3), n_rooms=1)
    tail = np.abs(copy[200 + SR // 20 :]).sum() / np.abs(copy).sum()
    assert tail > 0.05  # energy remains 50 ms after the direct sound


def test_user_folders_of_noise_and_impulse_responses(tmp_path):
    import soundfile as sf

    rng = np.random.default_rng(0)
    (tmp_path / "noise").mkdir()
    (tmp_path / "rir").mkdir()
    hum = tones([3000], seconds=1.0)[0]
    sf.write(tmp_path / "noise" / "hum.wav", hum, SR)
    decay = (rng.standard_normal(SR // 4) * np.exp(-np.arange(SR // 4) / 800)).astype("float32")
    sf.write(tmp_path / "rir" / "room.wav", decay, SR)
    wave = tones([300])[0]
    noisy = one("noise", wave, noise_dir=tmp_path / "noise")
    assert band_energy(noisy - wave, 2950, 3050) > 0.9
    wet = one("reverb", wave, rir_dir=str(tmp_path / "rir"))
    assert wet.shape == wave.shape and not np.allclose(wet, wave)


def test_invalid_parameters_name_the_argument(tmp_path):
    X, y = tones([300, 400]), ["a", "b"]
    with pytest.raises(InvalidParameterError, match="perturbations"):
        AudioAugmenter(["echo"]).fit_resample(X, y)
    with pytest.raises(InvalidParameterError, match="snr_db"):
        AudioAugmenter(snr_db=(30, 5)).fit_resample(X, y)
    with pytest.raises(ValueError, match="noise_dir"):
        AudioAugmenter(["noise"], noise_dir=tmp_path / "absent").fit_resample(X, y)
    with pytest.raises(ValueError, match="one label per utterance"):
        AudioAugmenter(["gain"]).fit_resample(X, ["a"])


def test_imblearn_pipeline_augments_in_fit_only():
    from imblearn.pipeline import make_pipeline as make_imb_pipeline

    X, y = tones([200, 300, 2000, 3000]), ["low", "low", "high", "high"]
    pipe = make_imb_pipeline(
        AudioAugmenter(["gain", "noise"], n_copies=2, random_state=0),
        Loudness(),
        LogisticRegression(),
    )
    pipe.fit(X, y)
    assert pipe[-1].n_features_in_ == 2
    assert pipe.predict(X).shape == (4,)  # nothing is added at prediction


def test_augmented_classifier_routes_the_copies_speakers():
    X = tones([200, 250, 2000, 2500, 210, 2600])
    y = ["low", "low", "high", "high", "low", "high"]
    speakers = np.array([0, 0, 0, 0, 1, 1])
    model = AugmentedClassifier(
        make_pipeline(Loudness(), SpeakerStandardScaler(), LogisticRegression()),
        AudioAugmenter(["gain", "speed"], n_copies=2, random_state=0),
    ).fit(X, y, groups=speakers)
    scaler = model.estimator_[1]
    assert model.augmenter_.conditions_.shape == (18,)
    # Speakers 0 and 1, and a pseudo-speaker per speaker and speed factor drawn.
    assert scaler.n_speakers_ == len(np.unique(model.augmenter_.groups_))
    assert scaler.n_speakers_ > 2
    assert model.predict(X).shape == (6,)
    assert list(model.classes_) == ["high", "low"]
    # The wrapped estimator is not fitted, the augmenter not changed.
    assert not hasattr(model.estimator[1], "n_speakers_")
    assert model.augmenter.get_params() == clone(model.augmenter).get_params()


def test_augmented_classifier_in_routed_cross_validation():
    from sklearn.model_selection import LeaveOneGroupOut, cross_val_score

    X = tones([200, 250, 2000, 2500, 210, 2600, 220, 2700])
    y = ["low", "low", "high", "high", "low", "high", "low", "high"]
    speakers = [0, 0, 0, 0, 1, 1, 2, 2]
    model = AugmentedClassifier(
        make_pipeline(Loudness(), SpeakerStandardScaler(), LogisticRegression()),
        AudioAugmenter(["noise", "babble"], n_copies=1, random_state=0),
    )
    with sklearn.config_context(enable_metadata_routing=True):
        scores = cross_val_score(model, X, y, cv=LeaveOneGroupOut(), params={"groups": speakers})
    assert scores.shape == (3,)


def test_imblearn_pipeline_routes_groups_to_the_augmenter_only():
    # imbalanced-learn 0.14 routes the speaker ids to the sampler, but gives the steps
    # after it the ids as passed to fit: why AugmentedClassifier exists.
    from imblearn.pipeline import make_pipeline as make_imb_pipeline

    X = tones([200, 250, 2000, 2500, 210, 2600])
    y, speakers = ["low", "low", "high", "high", "low", "high"], [0, 0, 0, 0, 1, 1]
    augmenter = AudioAugmenter(["babble"], n_copies=1, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_imb_pipeline(augmenter, Loudness(), LogisticRegression())
        pipe.fit(X, y, groups=speakers)
        assert pipe[0].groups_.tolist() == speakers * 2
        aware = make_imb_pipeline(
            clone(augmenter), Loudness(), SpeakerStandardScaler(), LogisticRegression()
        )
        with pytest.raises(ValueError, match="groups"):
            aware.fit(X, y, groups=speakers)


@pytest.mark.parametrize(
    "check",
    [
        "check_no_attributes_set_in_init",
        "check_get_params_invariance",
        "check_set_params",
        "check_parameters_default_constructible",
    ],
)
@pytest.mark.parametrize(
    "est",
    [AudioAugmenter(), AugmentedClassifier(make_pipeline(Loudness(), LogisticRegression()))],
    ids=lambda e: type(e).__name__,
)
def test_estimator_api_checks(est, check):
    # The checks of scikit-learn's check_estimator that apply to audio input (the others
    # feed numeric feature matrices).
    from sklearn.utils import estimator_checks

    if check == "check_parameters_default_constructible" and isinstance(est, AugmentedClassifier):
        pytest.skip("a meta-estimator: the estimator has no default")
    getattr(estimator_checks, check)(type(est).__name__, est)


def test_make_ser_pipeline_augment():
    from sklearn_ser import make_ser_pipeline

    model = make_ser_pipeline(augment=True, random_state=3)
    assert isinstance(model, AugmentedClassifier)
    assert model.augmenter.random_state == 3 and model.augmenter.n_copies >= 1
    assert model.estimator.get_params()["classifier__random_state"] == 3
    own = AudioAugmenter(["noise"])
    assert make_ser_pipeline("cnn", augment=own).augmenter is own
    with pytest.raises(ValueError, match="augment"):
        make_ser_pipeline(augment="noise")


def test_copies_as_pseudo_speakers_per_condition():
    X = tones([300, 400, 500])
    augmenter = AudioAugmenter(
        ["gain", "noise"], n_copies=2, copy_groups="condition", random_state=0
    )
    augmenter.fit_resample(X, list("abc"), groups=[7, 7, 8])
    expected = [f"{[7, 7, 8][d['index']]}@{d['family']}" for d in augmenter.draws_]
    assert augmenter.groups_.tolist() == ["7", "7", "8", *expected]
