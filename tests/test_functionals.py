import warnings

import librosa
import numpy as np
import pytest
import soundfile as sf
from sklearn.utils.estimator_checks import check_estimator

from sklearn_ser import FunctionalsExtractor, NoSpeechWarning
from sklearn_ser.features._functionals import (
    _ALL_FUNCTIONALS,
    FrameAnalysis,
    _functionals,
    frame_descriptors,
    neutral_f0,
    summarise_frames,
)

from .conftest import tone

SR = 16000
SETS = ["compact", "extended"]


def _voice(f0=200.0, seconds=1.0, amp=0.3, seed=0):
    """A harmonic tone (five partials) with a little noise: a crude voiced vowel."""
    t = np.arange(int(seconds * SR)) / SR
    y = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 6))
    noise = np.random.default_rng(seed).standard_normal(t.size)
    return (amp * y / 2 + 0.002 * noise).astype(np.float32)


def _column(fx, X, name):
    names = list(fx.get_feature_names_out())
    return X[:, names.index(name)]


@pytest.mark.parametrize("feature_set", SETS)
def test_shapes_and_names(feature_set):
    fx = FunctionalsExtractor(feature_set=feature_set)
    X = fx.fit_transform([_voice(), _voice(150, 0.5)])
    names = fx.get_feature_names_out()
    assert X.shape == (2, len(names)) == (2, fx.n_features_out_)
    assert len(set(names)) == len(names)
    assert X.dtype == np.float64 and np.isfinite(X).all()


def test_extended_contains_compact():
    waves = [_voice(), _voice(300, 0.7)]
    compact, extended = (FunctionalsExtractor(feature_set=s).fit(waves) for s in SETS)
    names = list(extended.get_feature_names_out())
    cols = [names.index(n) for n in compact.get_feature_names_out()]
    np.testing.assert_allclose(extended.transform(waves)[:, cols], compact.transform(waves))


def test_pauses_do_not_change_all_frame_functionals():
    # Functionals of non-pitch LLDs are taken over the active frames: silence padding
    # around an utterance leaves its level statistics (nearly) unchanged.
    fx = FunctionalsExtractor(feature_set="compact").fit([_voice()])
    voice = _voice(seconds=0.5)
    padded = np.concatenate([np.zeros(SR // 2, np.float32), voice, np.zeros(SR // 2, np.float32)])
    X = fx.transform([voice, padded])
    assert (
        abs(np.diff(_column(fx, X, "loudness_mean"))[0]) < 0.1 * _column(fx, X, "loudness_mean")[0]
    )


def test_set_sizes():
    assert 80 <= FunctionalsExtractor(feature_set="compact").fit([[0.0] * 9]).n_features_out_ <= 130
    assert FunctionalsExtractor(feature_set="extended").fit([[0.0] * 9]).n_features_out_ > 3000


@pytest.mark.parametrize("feature_set", SETS)
def test_finite_on_degenerate_input(feature_set):
    voice = _voice()
    clicks = np.zeros(SR, dtype=np.float32)
    clicks[::1600] = 1.0
    inputs = [
        np.zeros(SR, dtype=np.float32),  # silence
        voice[:160],  # 10 ms
        voice[:1],  # one sample
        np.clip(10 * voice, -1, 1),  # clipped
        voice + 0.5,  # DC offset
        clicks,
        np.full(SR, 0.3, dtype=np.float32),  # pure DC
    ]
    fx = FunctionalsExtractor(feature_set=feature_set)
    with pytest.warns(NoSpeechWarning, match="silent"):
        X = fx.fit_transform(inputs)
    assert np.isfinite(X).all()
    # A DC offset is removed before analysis: the same functionals as without it (up to
    # rounding, which can flip a peak count of a flat descriptor).
    close = np.isclose(X[4], fx.transform([voice])[0], rtol=1e-3, atol=1e-3)
    assert close.mean() > 0.99


def test_silence_warning_names_samples():
    # Syllables (a steady tone is no speech to the detector, as hum is not).
    voice = _voice() * np.sin(np.linspace(0, 4 * np.pi, SR)).astype(np.float32) ** 2
    fx = FunctionalsExtractor(feature_set="compact").fit([voice])
    with pytest.warns(NoSpeechWarning, match=r"[Ss]ilent.*: 1\b"):
        fx.transform([voice, np.zeros(SR)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fx.transform([voice])


def test_empty_input_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        FunctionalsExtractor().fit_transform([np.zeros(0)])


@pytest.mark.filterwarnings("ignore:With fmin=50")  # librosa's advice for the lowest F0 only
def test_descriptors_agree_with_librosa(rng):
    y = (_voice(180) + 0.05 * rng.standard_normal(SR)).astype(np.float32)
    y -= y.mean()
    an = FrameAnalysis(SR, 50.0, 600.0)
    d = frame_descriptors(y, an)
    voiced = d["aperiodicity"] < 0.5
    stft = {"n_fft": an.n_fft, "hop_length": an.hop}
    np.testing.assert_allclose(
        d["rms"], librosa.feature.rms(y=y, frame_length=an.n_fft, hop_length=an.hop)[0], atol=1e-6
    )
    np.testing.assert_allclose(
        d["zcr"],
        librosa.feature.zero_crossing_rate(y, frame_length=an.n_fft, hop_length=an.hop)[0],
        atol=1e-9,
    )
    for name, fn in [
        ("spectral_centroid", librosa.feature.spectral_centroid),
        ("spectral_bandwidth", librosa.feature.spectral_bandwidth),
    ]:
        ref = fn(y=y, sr=SR, win_length=an.win, **stft)[0]
        np.testing.assert_allclose(d[name], ref, rtol=1e-3, atol=1e-2)
    ref = librosa.feature.spectral_rolloff(y=y, sr=SR, win_length=an.win, roll_percent=0.9, **stft)
    # float32 spectra: a cumulative sum at the threshold may tip one bin either way.
    assert np.mean(np.abs(d["spectral_rolloff90"] - ref[0]) <= SR / an.n_fft + 1e-6) > 0.95
    ref = librosa.feature.spectral_flatness(y=y, win_length=an.win, **stft)[0]
    np.testing.assert_allclose(d["spectral_flatness"], ref, rtol=1e-3, atol=1e-6)
    mel = librosa.feature.melspectrogram(
        y=y, sr=SR, win_length=an.win, n_mels=26, fmin=20.0, **stft
    )
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel, top_db=None), n_mfcc=15)
    np.testing.assert_allclose(d["mfcc3"], mfcc[3], atol=1e-2)
    np.testing.assert_allclose(d["logmel5"], librosa.power_to_db(mel, top_db=None)[5], atol=1e-2)
    ref = librosa.yin(y, fmin=50, fmax=600, sr=SR, frame_length=an.yin_length, hop_length=an.hop)
    # Same algorithm; the frames we skip as too quiet are the only ones allowed to differ.
    np.testing.assert_allclose(d["f0_hz"][voiced], ref[voiced], rtol=1e-3)
    assert voiced.mean() > 0.9


def test_known_pitch_and_loudness():
    fx = FunctionalsExtractor(feature_set="extended")
    low, high, loud = _voice(120), _voice(240), 4 * _voice(120)
    # A glide from 150 to 300 Hz: rising pitch.
    t = np.arange(SR) / SR
    glide = 0.3 * np.sin(2 * np.pi * (150 * t + 75 * t**2)).astype(np.float32)
    X = fx.fit_transform([low, high, loud, glide])
    f0 = 27.5 * 2 ** (_column(fx, X, "f0_semitone_voiced_mean") / 12)
    np.testing.assert_allclose(f0[:3], [120, 240, 120], rtol=0.02)
    # The glide's median is ~225 Hz, and its contour rises (by 12 semitones per second).
    f0_med = 27.5 * 2 ** (_column(fx, X, "f0_semitone_voiced_pctl50")[3] / 12)
    assert 200 < f0_med < 250
    assert 8 < _column(fx, X, "f0_semitone_voiced_linreg_slope")[3] < 16
    # Level-type functionals are relative to the utterance: 4 times louder is the same.
    for name in ("loudness_mean", "log_energy_mean", "rms_pctl99", "logmel3_mean"):
        assert _column(fx, X, name)[2] == pytest.approx(_column(fx, X, name)[0], rel=1e-3)
    assert (_column(fx, X, "voiced_ratio")[:3] > 0.9).all()


def test_functionals_of_a_known_row():
    x = np.array([[1.0, 3.0, 2.0, 5.0, 4.0]])
    f = dict(zip(_ALL_FUNCTIONALS, _functionals(x, frame_rate=100.0)[0]))
    assert f["mean"] == pytest.approx(3.0)
    assert f["std"] == pytest.approx(np.std(x))
    assert f["pctl50"] == pytest.approx(3.0)
    assert f["pctl25"] == pytest.approx(np.percentile(x, 25))
    assert f["linreg_slope"] == pytest.approx(100 * np.polyfit(np.arange(5), x[0], 1)[0])
    assert f["quadreg_a"] == pytest.approx(np.polyfit(np.arange(5) / 4, x[0], 2)[0])
    assert f["maxpos"] == pytest.approx(3 / 5)
    assert f["peak_rate"] == pytest.approx(2 * 100 / 5)  # peaks at 3 and 5
    assert np.isfinite(_functionals(np.ones((2, 1)), 100.0)).all()
    assert not _functionals(np.zeros((3, 0)), 100.0).any()


def test_parallel_equals_serial_and_batch_independent():
    waves = [_voice(100 + 20 * i, 0.3 + 0.1 * i, seed=i) for i in range(20)]
    fx = FunctionalsExtractor(feature_set="compact")
    serial = fx.fit_transform(waves)
    parallel = fx.set_params(n_jobs=2).transform(waves)
    np.testing.assert_array_equal(serial, parallel)
    alone = fx.set_params(n_jobs=None).transform([waves[7]])
    np.testing.assert_array_equal(alone[0], serial[7])


def test_files_equal_arrays(tmp_path):
    waves = [_voice(150), _voice(220, 0.5)]
    paths = []
    for i, w in enumerate(waves):
        paths.append(tmp_path / f"{i}.wav")
        sf.write(paths[-1], w, SR, subtype="FLOAT")
    fx = FunctionalsExtractor(feature_set="compact")
    np.testing.assert_allclose(fx.fit_transform(paths), fx.transform(waves))


def test_resampled_input_matches(tmp_path):
    # A file at 8 kHz is resampled to sr: its pitch is still found.
    y = librosa.resample(_voice(200), orig_sr=SR, target_sr=8000)
    sf.write(tmp_path / "a.wav", y, 8000)
    fx = FunctionalsExtractor(feature_set="compact")
    X = fx.fit_transform([tmp_path / "a.wav"])
    assert 27.5 * 2 ** (_column(fx, X, "f0_semitone_voiced_mean")[0] / 12) == pytest.approx(
        200, rel=0.02
    )


@pytest.mark.parametrize(
    "params, match",
    [
        ({"feature_set": "huge"}, "feature_set"),
        ({"fmin": 300.0, "fmax": 200.0}, "fmax"),
        ({"sr": 0}, "sr"),
        ({"sr": 1000, "fmax": 600.0}, "fmax"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        FunctionalsExtractor(**params).fit([_voice()])


def test_verbose_progress_bar(capsys):
    FunctionalsExtractor(feature_set="compact", verbose=1).fit_transform([tone(200, 0.3)])
    assert "FunctionalsExtractor" in capsys.readouterr().err


def test_in_a_pipeline_with_pandas_output():
    pytest.importorskip("pandas")
    fx = FunctionalsExtractor(feature_set="compact").set_output(transform="pandas")
    df = fx.fit_transform([_voice(), _voice(300)])
    assert list(df.columns) == list(fx.get_feature_names_out())


@pytest.mark.filterwarnings("ignore::sklearn_ser.NoSpeechWarning")
def test_check_estimator():
    check_estimator(FunctionalsExtractor(feature_set="compact"))


def _utterance(f0=150.0, seed=0):
    """A voiced glide in a noise floor, with pauses before and after it."""
    t = np.arange(SR) / SR
    voice = sum(np.sin(2 * np.pi * k * (f0 * t + 40 * t**2)) / k for k in range(1, 6))
    voice = 0.15 * voice * np.hanning(SR) ** 0.3
    y = np.concatenate([np.zeros(4000), voice, np.zeros(3000)])
    return (y + 1e-3 * np.random.default_rng(seed).standard_normal(y.size)).astype(np.float32)


def test_gain_changes_no_feature():
    # Level invariance by design: -35 dB .. +10 dB of gain (no clipping) changes the
    # functionals only by the float32 rounding of the spectra, measured against how much
    # they differ between utterances.
    y = _utterance()
    gains = [-35.0, -20.0, -6.0, 10.0]
    assert np.abs(y).max() * 10 ** (max(gains) / 20) < 1.0
    fx = FunctionalsExtractor().fit([y])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoSpeechWarning)  # -35 dB is below the warning's floor
        X = fx.transform([y] + [y * np.float32(10 ** (g / 20)) for g in gains])
    others = fx.transform([_utterance(f0, seed) for f0, seed in [(130, 1), (170, 2), (200, 3)]])
    spread = np.vstack([X[:1], others]).std(axis=0) + 1e-6 * (1 + np.abs(X[0]))
    change = np.abs(X[1:] - X[0]).max(axis=0) / spread
    assert np.quantile(change, 0.999) < 0.01
    # A rounding flip of a frame count (rise time, peaks) is the largest change.
    assert change.max() < 0.5


def test_gain_changes_no_prediction():
    import sklearn

    from sklearn_ser import make_ser_pipeline
    from sklearn_ser.datasets import make_emotional_speech

    data = make_emotional_speech(n_speakers=3, n_utterances=6, random_state=0)
    waves = [np.asarray(w, dtype=np.float32) for w in data.data]
    waves = [0.5 * w / np.abs(w).max() for w in waves]
    pipe = make_ser_pipeline(random_state=0)
    pipe.set_params(features__feature_set="compact")
    with sklearn.config_context(enable_metadata_routing=True):
        pipe.fit(waves, data.target, groups=data.speaker)
        expected = pipe.predict_proba(waves)
        for gain in (-35.0, 6.0):
            quiet = [w * np.float32(10 ** (gain / 20)) for w in waves]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NoSpeechWarning)
                np.testing.assert_allclose(pipe.predict_proba(quiet), expected, atol=1e-3)


@pytest.mark.parametrize("mains", [50.0, 60.0])
def test_mains_hum_is_not_voiced(mains):
    t = np.arange(SR) / SR
    hum = sum(np.sin(2 * np.pi * k * mains * t + k) / k**1.5 for k in range(1, 8))
    hum = (0.1 * hum + 1e-3 * np.random.default_rng(0).standard_normal(SR)).astype(np.float32)
    fx = FunctionalsExtractor(feature_set="compact")
    X = fx.fit_transform([hum, _voice(90)])
    ratio = _column(fx, X, "voiced_ratio")
    assert ratio[0] < 0.05 and ratio[1] > 0.9  # a low voice is still voiced


def test_unvoiced_file_has_neutral_pitch_statistics():
    noise = 0.1 * np.random.default_rng(0).standard_normal(SR).astype(np.float32)
    fx = FunctionalsExtractor()
    X = fx.fit_transform([noise, _voice(200)])
    names = list(fx.get_feature_names_out())
    neutral = 12 * np.log2(neutral_f0(fx.fmin, fx.fmax) / 27.5)
    assert _column(fx, X, "voiced_ratio")[0] == 0
    for fn in ("mean", "pctl1", "pctl50", "pctl99"):
        assert _column(fx, X, f"f0_semitone_voiced_{fn}")[0] == pytest.approx(neutral)
    for fn in ("std", "range1_99", "linreg_slope"):
        assert _column(fx, X, f"f0_semitone_voiced_{fn}")[0] == pytest.approx(0, abs=1e-9)
    # Other voiced-frame descriptors are those of the active frames, not zeros.
    i, j = names.index("spectral_centroid_voiced_mean"), names.index("spectral_centroid_mean")
    assert X[0, i] == pytest.approx(X[0, j])


def test_pauses_and_padding_are_not_unvoiced_frames():
    # Unvoiced frames are active frames without voicing: silence around the utterance
    # (more frames than the hiss in it) leaves their medians and segment lengths nearly
    # as they were (only the frames that overlap the edge of the padding are new).
    rng = np.random.default_rng(1)
    hiss = (0.05 * rng.standard_normal(SR // 4)).astype(np.float32)
    speech = np.concatenate([hiss, _voice(seconds=0.5), hiss, _voice(seconds=0.5), hiss])
    silence = np.zeros(SR // 2, np.float32)
    padded = np.concatenate([silence, speech, silence])
    fx = FunctionalsExtractor()
    X = fx.fit_transform([speech, padded])
    names = list(fx.get_feature_names_out())
    cols = [i for i, n in enumerate(names) if n.endswith("_unvoiced_pctl50")]
    np.testing.assert_allclose(X[1, cols], X[0, cols], rtol=0.25, atol=0.05)
    for name, tol in [("unvoiced_segment_length_mean", 0.03), ("voiced_ratio", 0.02)]:
        assert _column(fx, X, name)[1] == pytest.approx(_column(fx, X, name)[0], abs=tol)


def test_voiced_deltas_skip_the_gaps():
    # Two steady vowels at different pitches with a pause between: within each voiced
    # stretch F0 is constant, so its deltas stay near 0; the jump is no delta.
    gap = np.zeros(SR // 4, np.float32)
    y = np.concatenate([_voice(150, 0.5), gap, _voice(250, 0.5)])
    fx = FunctionalsExtractor()
    X = fx.fit_transform([y])
    jump = 12 * np.log2(250 / 150)
    assert abs(_column(fx, X, "f0_semitone_delta_voiced_pctl99")[0]) < 0.1 * jump
    assert abs(_column(fx, X, "f0_semitone_delta_voiced_pctl1")[0]) < 0.1 * jump


def test_summarise_frames_of_a_window():
    # The two halves of frame_descriptors: frames are computed once, any window summarised.
    y = _utterance()
    an = FrameAnalysis(SR, 65.0, 600.0)
    frames = frame_descriptors(y, an)
    fx = FunctionalsExtractor(feature_set="compact")
    np.testing.assert_allclose(summarise_frames(frames, an, "compact"), fx.fit_transform([y])[0])
    a, b = 50, 120  # frames 0.5 s .. 1.2 s
    window = summarise_frames({k: v[a:b] for k, v in frames.items()}, an, "compact")
    alone = fx.transform([y[a * an.hop : b * an.hop]])[0]
    assert window.shape == alone.shape and np.isfinite(window).all()
    # Same pitch found in the window as in that stretch of audio analysed alone.
    i = list(fx.get_feature_names_out()).index("f0_semitone_voiced_pctl50")
    assert window[i] == pytest.approx(alone[i], abs=0.2)
