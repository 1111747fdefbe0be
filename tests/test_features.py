import shutil

import librosa
import numpy as np
import pytest
import soundfile as sf
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import check_estimator

from sklearn_ser import (
    FeatureStack,
    FeatureStatistics,
    MelSpectrogramExtractor,
    MFCCExtractor,
    SpectrogramExtractor,
)

from .conftest import EMODB, needs_emodb, tone

STFT = {"n_fft": 512, "win_length": 400, "hop_length": 160}
EXTRACTORS = [
    SpectrogramExtractor(),
    MelSpectrogramExtractor(n_mels=40),
    MFCCExtractor(n_mfcc=13, deltas=2),
]


def _librosa_reference(est, y):
    if isinstance(est, SpectrogramExtractor):
        return librosa.power_to_db(np.abs(librosa.stft(y, **STFT)) ** 2, top_db=80.0)
    mel = librosa.feature.melspectrogram(y=y, sr=16000, n_mels=est.n_mels, **STFT)
    if isinstance(est, MelSpectrogramExtractor):
        return librosa.power_to_db(mel, top_db=80.0)
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel, top_db=80.0), n_mfcc=est.n_mfcc)
    return np.concatenate([mfcc, librosa.feature.delta(mfcc), librosa.feature.delta(mfcc, order=2)])


@pytest.mark.parametrize("est", EXTRACTORS, ids=lambda e: type(e).__name__)
def test_parity_with_librosa(est, rng):
    y = (0.3 * rng.standard_normal(16000) + tone(300, 1.0)).astype(np.float32)
    ours = est.fit([y]).transform([y])[0]
    ref = _librosa_reference(est, y)
    assert ours.shape == ref.shape
    # Batched float32 FFTs against librosa's per-file ones: equal to a thousandth of a dB.
    np.testing.assert_allclose(ours, ref, atol=1e-3)


@pytest.mark.parametrize("est", [*EXTRACTORS, FeatureStatistics()], ids=lambda e: type(e).__name__)
def test_check_estimator(est):
    check_estimator(est)


@pytest.mark.parametrize("est", EXTRACTORS, ids=lambda e: type(e).__name__)
def test_parallel_equals_serial(est, waves):
    serial = est.set_params(n_jobs=None).fit(waves * 20).transform(waves * 20)
    parallel = est.set_params(n_jobs=2).transform(waves * 20)
    np.testing.assert_array_equal(serial, parallel)


def test_files_equal_arrays(tmp_path, waves):
    paths = []
    for i, w in enumerate(waves):
        paths.append(tmp_path / f"{i}.wav")
        sf.write(paths[-1], w, 16000, subtype="FLOAT")
    est = MelSpectrogramExtractor().fit(paths)
    np.testing.assert_allclose(est.transform(paths), est.transform(waves), atol=1e-5)


def test_output_length_learned_or_fixed(waves):
    est = MelSpectrogramExtractor().fit(waves)
    assert est.n_frames_ == 1 + 16000 // 160  # the longest utterance
    assert est.transform(waves).shape == (4, 64, est.n_frames_)
    assert MelSpectrogramExtractor(max_frames=30).fit_transform(waves).shape == (4, 64, 30)


def test_constant_padding_is_silence(waves):
    est = MelSpectrogramExtractor(max_frames=120).fit(waves)
    short = waves[2]  # 5000 samples
    padded = np.pad(short, (0, 119 * 160 - len(short)))
    np.testing.assert_allclose(est.transform([short]), est.transform([padded]), atol=1e-5)


def test_wrap_padding_repeats_and_crop_modes(waves):
    y = waves[2]
    wrapped = MelSpectrogramExtractor(max_frames=120, pad_mode="wrap").fit_transform([y])
    explicit = MelSpectrogramExtractor(max_frames=120).fit_transform([np.resize(y, 119 * 160)])
    np.testing.assert_allclose(wrapped, explicit, atol=1e-5)
    long = waves[3]
    start = MelSpectrogramExtractor(max_frames=21, crop="start").fit_transform([long])
    ref = MelSpectrogramExtractor(max_frames=21).fit_transform([long[: 20 * 160]])
    np.testing.assert_allclose(start, ref, atol=1e-5)
    center = MelSpectrogramExtractor(max_frames=21).fit_transform([long])
    assert not np.allclose(center, start)


@pytest.mark.parametrize("est", EXTRACTORS, ids=lambda e: type(e).__name__)
def test_silent_and_too_short_audio_is_finite(est):
    out = est.fit([np.zeros(16000), np.full(50, 0.1)]).transform([np.zeros(16000), np.ones(50)])
    assert np.isfinite(out).all()


def test_normalize_standard_and_mean(waves):
    std = MelSpectrogramExtractor(normalize="standard").fit_transform(waves)
    np.testing.assert_allclose(std.mean(axis=-1), 0, atol=1e-4)
    np.testing.assert_allclose(std.std(axis=-1)[std.std(axis=-1) > 0.5], 1, atol=1e-3)
    mean = MelSpectrogramExtractor(normalize="mean").fit_transform(waves)
    np.testing.assert_allclose(mean.mean(axis=-1), 0, atol=1e-3)


def test_dtype_and_feature_names(waves):
    est = MFCCExtractor(n_mfcc=5, deltas=1, dtype=np.float64).fit(waves)
    assert est.transform(waves).dtype == np.float64
    names = est.get_feature_names_out()
    assert list(names) == [f"mfcc{i}" for i in range(5)] + [f"d_mfcc{i}" for i in range(5)]
    assert est.n_bins_ == 10


@pytest.mark.parametrize(
    "params,match",
    [
        ({"n_fft": 0}, "n_fft"),
        ({"hop_length": 2.5}, "hop_length"),
        ({"win_length": 1024}, "win_length"),
        ({"pad_mode": "reflect"}, "pad_mode"),
        ({"normalize": "global"}, "normalize"),
        ({"sr": -1}, "sr"),
        ({"n_mels": 0}, "n_mels"),
        ({"fmax": 9000}, "fmax"),
        ({"top_db": -3}, "top_db"),
        ({"dtype": np.int32}, "dtype"),
    ],
)
def test_parameter_errors_name_the_parameter(params, match, waves):
    with pytest.raises(ValueError, match=match):
        MelSpectrogramExtractor(**params).fit(waves)


def test_mfcc_parameter_errors(waves):
    with pytest.raises(ValueError, match="n_mfcc"):
        MFCCExtractor(n_mfcc=80, n_mels=40).fit(waves)
    with pytest.raises(ValueError, match="deltas"):
        MFCCExtractor(deltas=3).fit(waves)


def test_transform_errors_name_the_sample(waves, tmp_path):
    est = MelSpectrogramExtractor().fit(waves)
    with pytest.raises(ValueError, match="sample 1 contains NaN"):
        est.transform([waves[0], np.full(100, np.nan)])
    with pytest.raises(FileNotFoundError, match=r"missing\.wav"):
        est.transform([tmp_path / "missing.wav"])


def test_verbose_shows_progress(waves, capsys):
    MelSpectrogramExtractor(verbose=1).fit(waves).transform(waves)
    assert "MelSpectrogramExtractor" in capsys.readouterr().err


def test_feature_stack_concatenates_bins(waves):
    stack = FeatureStack(
        [("spec", SpectrogramExtractor(max_frames=50)), ("mfcc", MFCCExtractor(max_frames=50))]
    )
    out = stack.fit_transform(waves)
    assert out.shape == (4, 257 + 40, 50) and stack.bin_splits_ == (257, 40)
    np.testing.assert_array_equal(out[:, 257:], MFCCExtractor(max_frames=50).fit_transform(waves))
    assert stack.get_feature_names_out()[-1] == "mfcc__mfcc39"
    assert stack.set_params(mfcc__n_mfcc=20).fit_transform(waves).shape == (4, 277, 50)
    with pytest.raises(ValueError, match="different numbers of frames"):
        FeatureStack(
            [("a", MFCCExtractor(max_frames=5)), ("b", MFCCExtractor(max_frames=6))]
        ).fit_transform(waves)


def test_statistics_pipeline_with_svc(waves):
    labels = ["low", "high", "low", "high"] * 3
    pipe = make_pipeline(
        MFCCExtractor(n_mfcc=8), FeatureStatistics(["mean", "std", "slope"]), SVC()
    )
    pipe.fit(waves * 3, labels)
    assert pipe.predict(waves).shape == (4,)
    names = pipe[:-1].get_feature_names_out()
    assert len(names) == 24 and names[0] == "mfcc0_mean" and names[-1] == "mfcc7_slope"


def test_statistics_values(rng):
    X = rng.standard_normal((3, 2, 50))
    out = FeatureStatistics(["mean", "std", "min", "max", "median", "range", "iqr"]).fit_transform(
        X
    )
    np.testing.assert_allclose(out[:, :2], X.mean(-1))
    np.testing.assert_allclose(out[:, 2:4], X.std(-1))
    np.testing.assert_allclose(out[:, 10:12], np.ptp(X, -1))
    ramp = np.arange(10.0)[None, None, :] * 2.5
    np.testing.assert_allclose(FeatureStatistics(["slope"]).fit_transform(ramp), [[2.5]])
    with pytest.raises(ValueError, match="statistics"):
        FeatureStatistics(["average"]).fit(X)


def test_pipeline_memory_caches_features(tmp_path, waves):
    audio = []
    for i, w in enumerate(waves * 2):
        audio.append(tmp_path / "audio" / f"{i}.wav")
        audio[-1].parent.mkdir(exist_ok=True)
        sf.write(audio[-1], w, 16000)
    labels = ["a", "b"] * 4
    pipe = Pipeline(
        [("mfcc", MFCCExtractor(n_mfcc=8)), ("stats", FeatureStatistics()), ("svc", SVC())],
        memory=str(tmp_path / "cache"),
    )
    pipe.fit(audio, labels)
    shutil.rmtree(tmp_path / "audio")  # the second fit can only succeed from the cache
    pipe.set_params(svc__C=10.0).fit(audio, labels)
    assert pipe.named_steps["svc"].C == 10.0


@needs_emodb
def test_real_emodb_files():
    files = sorted((EMODB / "wav").glob("*.wav"))[:12]
    out = MelSpectrogramExtractor(n_jobs=2).fit(files).transform(files)
    assert out.shape == (12, 64, 201)  # 2.00 s at 16 kHz, 10 ms hop
    assert np.isfinite(out).all() and out.std() > 1.0


@pytest.mark.parametrize("name", ["MelSpectrogramExtractor", "FunctionalsExtractor"])
def test_no_speech_warning_points_at_the_callers_line(name):
    import sklearn_ser

    silence = [np.zeros(8000, dtype=np.float32)]
    est = getattr(sklearn_ser, name)().fit(silence)
    with pytest.warns(sklearn_ser.NoSpeechWarning) as record:
        est.transform(silence)
    assert record[0].filename == __file__
