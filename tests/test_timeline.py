"""predict_timeline: long recordings streamed in windows, silence, one-speaker context."""

import numpy as np
import pytest
import soundfile as sf

from sklearn_ser import Timeline, make_ser_pipeline, predict_timeline
from sklearn_ser._timeline import NO_SPEECH, _windows
from sklearn_ser.datasets import make_emotional_speech

from .conftest import EMODB, needs_emodb

SR = 16000


@pytest.fixture(scope="module")
def data():
    return make_emotional_speech(n_speakers=2, n_utterances=2, random_state=0)


@pytest.fixture(scope="module")
def pipe(data):
    """A tiny speaker-standardising pipeline with a 1 s input."""
    model = make_ser_pipeline(
        "cnn", max_frames=100, max_epochs=1, module__channels=(4,), random_state=0
    )
    return model.fit(data.data, data.target, classifier__groups=data.speaker)


@pytest.fixture(scope="module")
def functionals_pipe(data):
    """The default pipeline (functionals, scaler, logistic regression), fitted with speakers."""
    import sklearn

    model = make_ser_pipeline(random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        return model.fit(data.data, data.target, groups=data.speaker)


def _recording(data, pauses=(2.0, 3.0, 1.0)):
    """Utterances (1.5 s) separated by silences; returns the audio and the speech spans."""
    parts, spans, t = [np.zeros(int(0.5 * SR), np.float32)], [], 0.5
    for i, pause in enumerate(pauses):
        utt = data.data[i]
        parts += [utt, np.zeros(int(pause * SR), np.float32)]
        spans.append((t, t + len(utt) / SR))
        t += len(utt) / SR + pause
    return np.concatenate(parts), spans


def test_finds_speech_segments_and_silences(pipe, data):
    audio, spans = _recording(data)
    timeline = predict_timeline(pipe, audio, hop=0.25)
    assert isinstance(timeline, Timeline)
    n = len(timeline)
    assert timeline.proba.shape == (n, 4) and timeline.start.shape == timeline.label.shape
    assert np.array_equal(timeline.classes, pipe.classes_)
    # Segments follow the detector's frames, not the windows: speech starts and ends
    # within 0.15 s (a frame, the hangover, the fading edges of the utterances) of the
    # truth.
    tol = 0.15
    speech = [s for s in timeline.segments if s.label != NO_SPEECH]
    for seg in speech:
        assert any(a - tol <= seg.start and seg.end <= b + tol for a, b in spans), seg
    for a, b in spans:
        found = [s for s in speech if s.start < b and s.end > a]
        assert found and min(s.start for s in found) == pytest.approx(a, abs=tol)
        assert max(s.end for s in found) == pytest.approx(b, abs=tol)
    # Leading, inner and trailing silences are marked, whatever the window length.
    silences = [s for s in timeline.segments if s.label == NO_SPEECH]
    assert len(silences) == 4
    assert silences[0].start == 0.0 and silences[0].end == pytest.approx(0.5, abs=tol)
    # Segments tile the recording; non-speech windows carry no probabilities.
    assert timeline.segments[0].start == 0.0
    assert timeline.segments[-1].end == pytest.approx(len(audio) / SR)
    for left, right in zip(timeline.segments, timeline.segments[1:]):
        assert left.end == right.start and left.label != right.label
    assert np.isnan(timeline.proba[~timeline.speech]).all()
    np.testing.assert_allclose(timeline.proba[timeline.speech].sum(axis=1), 1.0, atol=1e-5)
    assert set(timeline.label[timeline.speech]) <= {str(c) for c in pipe.classes_}


def test_streamed_file_equals_in_memory_array(pipe, data, tmp_path):
    audio, _ = _recording(data)
    path = tmp_path / "long.wav"
    sf.write(path, audio, SR, subtype="FLOAT")
    in_memory = predict_timeline(pipe, audio)
    streamed = predict_timeline(pipe, path, block_size=3000)  # many small blocks
    np.testing.assert_array_equal(streamed.start, in_memory.start)
    np.testing.assert_array_equal(streamed.speech, in_memory.speech)
    # The same frames (to float32 rounding of the filter bank's product).
    np.testing.assert_allclose(streamed.proba, in_memory.proba, atol=1e-5)
    assert [s.start for s in streamed.segments] == [s.start for s in in_memory.segments]


def _window_features(pipe, audio, timeline):
    """The features predict_timeline gave the speech windows, and their rows."""
    from sklearn_ser._audio import speech_activity
    from sklearn_ser._timeline import _speech_features, _split_model

    features, _, extractor = _split_model(pipe)
    starts = np.round(timeline.start * SR).astype(int)
    win, step = round(timeline.window * SR), round(timeline.hop * SR)
    rows = np.flatnonzero(timeline.speech)
    active = speech_activity(audio, SR)
    out = list(
        _speech_features(
            features, extractor, iter([audio]), starts, win, step, rows, active, SR, 64
        )
    )
    return np.concatenate([r for r, _ in out]), np.concatenate([x for _, x in out])


def test_recording_is_one_speaker(pipe, data):
    """Windows share one speaker's statistics: as predict_proba with one group for all."""
    audio = np.concatenate(data.data[:4])
    timeline = predict_timeline(pipe, audio, hop=0.5)
    assert timeline.speech.all()
    rows, features = _window_features(pipe, audio, timeline)
    expected = pipe[-1].predict_proba(features, groups=np.zeros(len(rows)))
    np.testing.assert_allclose(timeline.proba[rows], expected, atol=1e-5)
    alone = predict_timeline(pipe, audio, hop=0.5, context="window")
    each = pipe[-1].predict_proba(features, groups=np.arange(len(rows)))
    np.testing.assert_allclose(alone.proba[rows], each, atol=1e-5)


def test_window_edges_see_the_recording(pipe, data):
    """A window's frames come from the recording's frames: equal to the window analysed
    alone except at its edges, where the window alone sees zero padding."""
    audio = np.concatenate(data.data[:4])
    timeline = predict_timeline(pipe, audio, hop=0.5)
    _, features = _window_features(pipe, audio, timeline)
    s, e = round(timeline.start[1] * SR), round(timeline.end[1] * SR)
    alone = pipe[:-1].transform([audio[s:e]])[0]
    inner = slice(2, -2)
    np.testing.assert_allclose(features[1][:, inner], alone[:, inner], atol=1e-3)


def test_default_functionals_pipeline(functionals_pipe, data, monkeypatch):
    """The default (functionals) pipeline: 3 s windows, the recording as one speaker."""
    import sklearn

    pipe = functionals_pipe
    audio, _ = _recording(data)
    timeline = predict_timeline(pipe, audio, hop=0.5)
    assert timeline.window == pytest.approx(3.0)
    assert np.isnan(timeline.proba[~timeline.speech]).all()
    assert (timeline.label[~timeline.speech] == NO_SPEECH).all()
    rows, features = _window_features(pipe, audio, timeline)
    with sklearn.config_context(enable_metadata_routing=True):
        together = pipe[1:].predict_proba(features, groups=np.zeros(len(rows)))
    np.testing.assert_allclose(timeline.proba[rows], together, atol=1e-8)
    each = predict_timeline(pipe, audio, hop=0.5, context="window")
    np.testing.assert_allclose(each.proba[rows], pipe[1:].predict_proba(features), atol=1e-8)
    # The window's functionals from the shared frames are those of the window alone but
    # for its edge frames: most differ by a small fraction of their training spread.
    s, e = round(timeline.start[rows[2]] * SR), round(timeline.end[rows[2]] * SR)
    alone = pipe[0].transform([audio[s:e]])[0]
    shift = np.abs(features[2] - alone) / pipe[1].scale_
    assert np.median(shift) < 0.25 and np.percentile(shift, 75) < 0.6
    # Blocks and windows in parallel threads: the same result (to rounding: BLAS may sum
    # in another order in a worker thread).
    parallel = predict_timeline(pipe.set_params(features__n_jobs=2), audio, hop=0.5)
    pipe.set_params(features__n_jobs=None)
    np.testing.assert_allclose(parallel.proba, timeline.proba, rtol=0, atol=1e-10)
    # The frames do not depend on the blocks the audio is read in.
    small_blocks = predict_timeline(pipe, audio, hop=0.5, block_size=3000)
    np.testing.assert_allclose(small_blocks.proba, timeline.proba, atol=1e-10)
    import sklearn_ser._timeline as module

    monkeypatch.setattr(module, "_CACHE_BYTES", 1)  # every batch's features spilled to disk
    spilled = predict_timeline(pipe, audio, hop=0.5, batch_size=4)
    np.testing.assert_allclose(spilled.proba, timeline.proba, atol=1e-10)


def test_any_pipeline_gets_the_recording_as_one_speaker(data):
    """A pipeline whose speaker step is not first: all windows' features in one call."""
    import sklearn
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from sklearn_ser import FunctionalsExtractor, SpeakerStandardScaler

    pipe = make_pipeline(
        FunctionalsExtractor(feature_set="compact"),
        FunctionTransformer(),
        SpeakerStandardScaler(),
        LogisticRegression(),
    )
    with sklearn.config_context(enable_metadata_routing=True):
        pipe.fit(data.data, data.target, groups=data.speaker)
    audio = np.concatenate(data.data[:4])
    timeline = predict_timeline(pipe, audio, hop=1.0)
    rows, features = _window_features(pipe, audio, timeline)
    with sklearn.config_context(enable_metadata_routing=True):
        expected = pipe[1:].predict_proba(features, groups=np.zeros(len(rows)))
    np.testing.assert_allclose(timeline.proba[rows], expected, atol=1e-8)


def test_features_spilled_to_disk_give_the_same_result(pipe, data, monkeypatch):
    import sklearn_ser._timeline as module

    audio, _ = _recording(data)
    kept = predict_timeline(pipe, audio, batch_size=4)
    monkeypatch.setattr(module, "_CACHE_BYTES", 1)
    spilled = predict_timeline(pipe, audio, batch_size=4)
    np.testing.assert_allclose(spilled.proba, kept.proba, atol=1e-6)


def test_memory_is_bounded_by_the_block_not_the_recording():
    """The window generator holds at most one block plus one window of audio."""
    window, hop, block = 1000, 500, 700
    consumed = []

    def blocks():
        for i in range(200):  # 140000 samples
            consumed.append(i)
            yield np.full(block, i, dtype=np.float32)

    starts = []
    for start, wave in _windows(blocks(), window, hop):
        starts.append(start)
        assert wave.shape == (window,)
        # Lazily: no more blocks read than needed to complete this window.
        assert len(consumed) * block < start + window + block
    assert starts[:3] == [0, 500, 1000]
    assert starts[-1] == 200 * block - window  # the last window ends on the last sample


def test_silent_and_short_recordings(pipe):
    silent = predict_timeline(pipe, np.zeros(3 * SR, np.float32))
    assert not silent.speech.any() and np.isnan(silent.proba).all()
    assert [s.label for s in silent.segments] == [NO_SPEECH]
    short = predict_timeline(pipe, 0.3 * np.sin(np.arange(800) / 5).astype(np.float32))
    assert len(short) == 1 and short.end[0] == pytest.approx(0.05)


def test_declared_rate_and_errors(pipe, data):
    import soxr

    audio = np.concatenate(data.data[:2])
    at_22k = soxr.resample(audio, SR, 22050)
    timeline = predict_timeline(pipe, (at_22k, 22050))
    assert timeline.duration == pytest.approx(len(audio) / SR, abs=1e-3)
    with pytest.raises(TypeError, match="pipeline"):
        predict_timeline(pipe[-1], audio)
    with pytest.raises(ValueError, match="window"):
        predict_timeline(pipe, audio, window=-1)
    with pytest.raises(ValueError, match="context"):
        predict_timeline(pipe, audio, context="speaker")


def test_long_file_is_covered_whole_not_cut_to_its_silent_centre(pipe, data):
    """Speech at both ends, silence in the middle: not predicted like a silent file."""
    long = np.concatenate([data.data[0], np.zeros(4 * SR, np.float32), data.data[5]])
    silent = np.zeros(2 * SR, np.float32)
    covering = pipe.set_params(features__crop="cover")
    try:
        with pytest.warns(UserWarning, match="silent"):
            proba = covering.predict_proba([long, silent], groups=[0, 1])
        assert not np.allclose(proba[0], proba[1], atol=1e-3)
        # Alone or with other files: the same prediction.
        alone = covering.predict_proba([long], groups=[0])
        np.testing.assert_allclose(alone[0], proba[0], atol=1e-6)
        # Cropping the centre (the old behaviour) sees only silence.
        with pytest.warns(UserWarning, match="silent"):
            cropped = pipe.set_params(features__crop="center")[:-1].transform([long, silent])
        np.testing.assert_array_equal(cropped[0], cropped[1])
    finally:
        pipe.set_params(features__crop="center")


def test_plot_timeline(pipe, data):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sklearn_ser.plotting import TimelineDisplay, plot_timeline

    audio, _ = _recording(data)
    timeline = predict_timeline(pipe, audio)
    disp = plot_timeline(timeline)
    assert isinstance(disp, TimelineDisplay)
    # One bar per segment, in its emotion's collection; no speech hatched.
    shown = {s.label for s in timeline.segments}
    assert set(disp.bars_) == shown
    for label, bars in disp.bars_.items():
        n = sum(s.label == label for s in timeline.segments)
        assert len(bars.get_paths()) == n
    assert disp.ax_.get_xlim()[1] == pytest.approx(timeline.duration)
    lines = plot_timeline(timeline, kind="lines")
    assert len(lines.lines_) == len(timeline.classes)
    assert len(lines.spans_) == sum(s.label == NO_SPEECH for s in timeline.segments)
    # An hour is pooled into about 300 bars; a zoom shows its own span.
    long = Timeline(
        start=timeline.start * 600,
        end=timeline.end * 600,
        label=timeline.label,
        proba=timeline.proba,
        speech=timeline.speech,
        classes=timeline.classes,
        duration=timeline.duration * 600,
        window=timeline.window * 600,
        hop=timeline.hop * 600,
    )
    pooled = plot_timeline(long)
    assert sum(len(b.get_paths()) for b in pooled.bars_.values()) <= 301
    zoom = plot_timeline(long, span=(100.0, 200.0))
    assert zoom.ax_.get_xlim() == (100.0, 200.0)
    with pytest.raises(ValueError, match="span"):
        plot_timeline(long, span=(5.0, 1.0))
    disp2 = TimelineDisplay.from_predictions(pipe, audio, kind="stacked")
    assert disp2.ax_.get_xlim()[1] == pytest.approx(timeline.duration)
    plt.close("all")


def test_crop_cover_keeps_every_part_of_long_speech():
    from sklearn_ser import MelSpectrogramExtractor

    t = np.arange(2 * SR) / SR
    freqs = [300, 800, 1500, 2500, 4000]
    parts = [0.3 * np.sin(2 * np.pi * f * t).astype(np.float32) for f in freqs]
    long = np.concatenate([parts[0], np.zeros(3 * SR, np.float32), *parts[1:]])
    cover = MelSpectrogramExtractor(max_frames=300, crop="cover").fit([long])
    center = MelSpectrogramExtractor(max_frames=300).fit([long])
    dominant = lambda X: set(X[0].argmax(axis=0).tolist())  # noqa: E731
    # Each tone has its own dominant mel band: all five are kept, not only the middle one.
    assert len(dominant(cover.transform([long]))) >= 5
    assert len(dominant(center.transform([long]))) <= 2
    # Short audio is unchanged.
    short = long[: SR // 2]
    np.testing.assert_array_equal(cover.transform([short]), center.transform([short]))


def test_cli_predict_says_no_speech(pipe, data, tmp_path):
    """Silent, too-short and noise-only files are "no speech" in predict's output."""
    import json
    import subprocess
    import sys

    from sklearn_ser import save_model

    model = save_model(pipe, tmp_path / "model.safetensors")
    rng = np.random.default_rng(0)
    files = {
        "speech.wav": data.data[0],
        "silent.wav": np.zeros(2 * SR, np.float32),
        "short.wav": data.data[0][:160],
        "noise.wav": np.clip(3 * rng.standard_normal(2 * SR), -1, 1).astype(np.float32),
    }
    for name, y in files.items():
        sf.write(tmp_path / name, y, SR)
    out = tmp_path / "out.json"
    cmd = [sys.executable, "-m", "sklearn_ser", "predict", str(model)]
    cmd += [str(tmp_path / n) for n in files] + ["--format", "json", "-o", str(out)]
    subprocess.run(cmd, check=True, capture_output=True)
    records = {r["path"].rsplit("/", 1)[-1]: r for r in json.loads(out.read_text())}
    assert records["speech.wav"]["label"] in {str(c) for c in pipe.classes_}
    for name in ("silent.wav", "short.wav", "noise.wav"):
        assert records[name]["label"] == NO_SPEECH
        assert all(v is None for k, v in records[name].items() if k.startswith("p_"))


def test_functionals_timeline_imports_no_torch(functionals_pipe, data, tmp_path):
    """Loading a functionals model and running a timeline imports neither torch, skorch,
    transformers nor matplotlib (a fresh process: this one has torch already)."""
    import subprocess
    import sys

    import joblib

    joblib.dump(functionals_pipe, tmp_path / "model.joblib")
    audio, _ = _recording(data)
    sf.write(tmp_path / "rec.wav", audio, SR)
    code = (
        "import sys, joblib\n"
        "from sklearn_ser import predict_timeline\n"
        f"model = joblib.load({str(tmp_path / 'model.joblib')!r})\n"
        f"predict_timeline(model, {str(tmp_path / 'rec.wav')!r})\n"
        "print(sorted(m for m in ('torch', 'skorch', 'transformers', 'matplotlib', 'numba')"
        " if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    "params",
    [
        {"sr": 16000, "n_fft": 512, "n_mels": 26, "fmin": 20.0},
        {"sr": 22050, "n_fft": 1024, "n_mels": 128, "fmin": 50.0, "fmax": 8000.0},
    ],
)
def test_mel_filters_equal_librosa(params):
    """The NumPy mel filter bank of the timeline and the functionals is librosa's."""
    import librosa

    from sklearn_ser.features._base import mel_filters

    np.testing.assert_allclose(
        mel_filters(**params), librosa.filters.mel(**params), rtol=1e-5, atol=1e-9
    )


def _one_speaker_recording(files, seed=0):
    """Utterances with pauses of 0.5-2 s; returns the audio and each utterance's span."""
    from sklearn_ser import load_audio

    rng = np.random.default_rng(seed)
    parts, spans, t = [np.zeros(SR, np.float32)], [], 1.0
    for y in load_audio(list(files), sr=SR):
        pause = np.zeros(int(rng.uniform(0.5, 2.0) * SR), np.float32)
        parts += [y, pause]
        spans.append((t, t + len(y) / SR))
        t += (len(y) + len(pause)) / SR
    return np.concatenate(parts), spans


def _utterance_labels(timeline, spans):
    labels = []
    for a, b in spans:
        cover = {}
        for s in timeline.segments:
            overlap = min(b, s.end) - max(a, s.start)
            if overlap > 0 and s.label != NO_SPEECH:
                cover[s.label] = cover.get(s.label, 0.0) + overlap
        labels.append(max(cover, key=cover.get) if cover else NO_SPEECH)
    return np.array(labels)


@needs_emodb
def test_timeline_agrees_with_predict_on_a_corpus_speaker():
    """A recording of one EmoDB speaker (held out): the timeline labels its utterances as
    predict does with the speaker's context. A compact functionals model on three other
    speakers keeps the test short; benchmarks/timeline.py --agreement measures the default
    models, the CNN included."""
    import sklearn
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from sklearn_ser import FunctionalsExtractor, SpeakerStandardScaler
    from sklearn_ser.datasets import load_emodb
    from sklearn_ser.ensemble import call_with_groups

    bunch = load_emodb(data_home=str(EMODB.parent))
    files, target = np.asarray(bunch.filenames), np.asarray(bunch.target)
    speaker = np.asarray(bunch.speaker)
    train = np.isin(speaker, ["03", "08", "09"])
    test = np.flatnonzero(speaker == "16")[:24]
    pipe = make_pipeline(
        FunctionalsExtractor(feature_set="compact"),
        SpeakerStandardScaler(training_context="random", random_state=0),
        LogisticRegression(max_iter=1000),
    )
    with sklearn.config_context(enable_metadata_routing=True):
        pipe.fit(list(files[train]), target[train], groups=speaker[train])
    audio, spans = _one_speaker_recording(files[test])
    in_context = call_with_groups(pipe, "predict", list(files[test]), groups=["16"] * len(test))
    labels = _utterance_labels(predict_timeline(pipe, audio), spans)
    # The >= 85 % target is the benchmark's (default models, all training speakers); this
    # small model on 24 utterances guards against the failure seen before (under 50 %).
    assert np.mean(labels == in_context) >= 0.75
