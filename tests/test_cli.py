import copy
import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from sklearn_ser import load_model, save_model
from sklearn_ser.cli import main
from sklearn_ser.datasets import make_emotional_speech

from .conftest import tone


@pytest.fixture(scope="module")
def model_and_audio(tmp_path_factory):
    """A tiny trained pipeline, saved safely, and a folder of audio with one broken file."""
    from sklearn_ser import make_ser_pipeline

    root = tmp_path_factory.mktemp("cli")
    data = make_emotional_speech(n_speakers=2, n_utterances=3, random_state=0)
    pipe = make_ser_pipeline(
        "cnn",
        max_epochs=1,
        max_frames=60,
        window_frames=None,
        random_state=0,
        module__channels=(4,),
    )
    pipe.fit(data.data, data.target)
    model = save_model(pipe, root / "model.safetensors")
    audio = root / "audio"
    audio.mkdir()
    for i, y in enumerate(data.data[:5]):
        sf.write(audio / f"u{i}.wav", y, 16000, subtype="FLOAT")
    (audio / "broken.wav").write_bytes(b"not audio at all")
    return model, audio, pipe, data


def test_help_is_fast_and_does_not_import_torch():
    code = (
        "import sys; from sklearn_ser.cli import build_parser; build_parser(); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    for command in ("demo", "evaluate", "train", "predict", "embed", "timeline"):
        with pytest.raises(SystemExit) as exc:
            main([command, "--help"])
        assert exc.value.code == 0


def test_predict_skips_unreadable_and_fails_at_the_end(model_and_audio, tmp_path, capsys):
    model, audio, pipe, data = model_and_audio
    out = tmp_path / "pred.csv"
    code = main(["predict", str(model), str(audio), "-o", str(out)])
    assert code == 1
    assert "broken.wav" in capsys.readouterr().err
    rows = list(csv.DictReader(out.open()))
    assert [r["path"].rsplit("/", 1)[-1] for r in rows] == [f"u{i}.wav" for i in range(5)]
    # By default each file is its own speaker, and long files are covered whole.
    expected = _cover(pipe).predict_proba(data.data[:5], groups=np.arange(5))
    classes = list(pipe.classes_)
    for row, p in zip(rows, expected):
        got = [float(row[f"p_{c}"]) for c in classes]
        np.testing.assert_allclose(got, p, atol=1e-4)
        assert row["label"] == classes[int(np.argmax(p))]


def test_predict_group_by_file_standardises_each_file_alone(model_and_audio, tmp_path):
    model, audio, pipe, data = model_and_audio
    assert pipe.named_steps["classifier"].standardize == "speaker"
    files = [str(audio / f"u{i}.wav") for i in range(3)]
    out = tmp_path / "pred.csv"
    argv = ["predict", str(model), *files, "--crop", "model", "-o", str(out)]
    assert main([*argv, "--group-by", "file"]) == 0
    classes = list(pipe.classes_)
    got = [[float(r[f"p_{c}"]) for c in classes] for r in csv.DictReader(out.open())]
    expected = pipe.predict_proba(data.data[:3], groups=["a", "b", "c"])
    np.testing.assert_allclose(got, expected, atol=1e-4)
    # Without groups the library also predicts each file alone; one speaker differs.
    np.testing.assert_allclose(pipe.predict_proba(data.data[:3]), expected, atol=1e-5)
    together = pipe.predict_proba(data.data[:3], groups=["a", "a", "a"])
    assert not np.allclose(expected, together, atol=1e-3)
    # The default is each file alone: a file's result does not depend on the others.
    assert main(argv) == 0
    default = [[float(r[f"p_{c}"]) for c in classes] for r in csv.DictReader(out.open())]
    np.testing.assert_allclose(default, expected, atol=1e-4)
    assert main(["predict", str(model), files[0], "--crop", "model", "-o", str(out)]) == 0
    alone = [float(v) for k, v in next(csv.DictReader(out.open())).items() if k.startswith("p_")]
    np.testing.assert_allclose(alone, default[0], atol=1e-4)


def _cover(pipe):
    """The fitted pipeline as the CLI predicts with it: long files covered whole."""
    return copy.deepcopy(pipe).set_params(features__crop="cover")


def test_predict_json_all_readable(model_and_audio, capsys):
    model, audio, _, _ = model_and_audio
    code = main(
        ["predict", str(model), str(audio / "u0.wav"), str(audio / "u1.wav"), "--format", "json"]
    )
    assert code == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 2 and {"path", "label"} <= set(records[0])


def test_embed_npy_and_csv(model_and_audio, tmp_path):
    model, audio, pipe, data = model_and_audio
    assert main(["embed", str(model), str(audio), "-o", str(tmp_path / "e.npy")]) == 1
    emb = np.load(tmp_path / "e.npy")
    covering = _cover(pipe)
    features = covering[:-1].transform(data.data[:5])
    expected = covering[-1].transform(features, groups=np.arange(5))
    np.testing.assert_allclose(emb, expected, atol=1e-5)
    assert len((tmp_path / "e.paths.txt").read_text().split()) == 5
    assert main(["embed", str(model), str(audio / "u0.wav"), "-o", str(tmp_path / "e.csv")]) == 0
    header = (tmp_path / "e.csv").read_text().splitlines()[0]
    assert header.startswith("path,e0,")


def _mini_emodb(root):
    wav = root / "emodb" / "wav"
    wav.mkdir(parents=True)
    for speaker in ("03", "08", "09"):
        for i, letter in enumerate("WTWTWT"):
            sf.write(
                wav / f"{speaker}a0{i}{letter}a.wav",
                tone(150 + 40 * i + 100 * (letter == "W"), 0.6),
                16000,
            )
    return root


def test_train_and_evaluate_on_a_corpus(tmp_path, capsys):
    home = _mini_emodb(tmp_path)
    model = tmp_path / "m.safetensors"
    assert (
        main(
            [
                "train",
                "--corpus",
                "emodb",
                "--data-home",
                str(home),
                "--model",
                "cnn",
                "--epochs",
                "1",
                "-o",
                str(model),
            ]
        )
        == 0
    )
    assert model.exists() and "anger" in capsys.readouterr().out
    assert (
        main(
            [
                "evaluate",
                "--corpus",
                "emodb",
                "--data-home",
                str(home),
                "--json",
                str(tmp_path / "r.json"),
            ]
        )
        == 0
    )
    # Both protocols, from one fit per fold.
    out = capsys.readouterr().out
    assert "Protocol 'file'" in out and "Protocol 'speaker'" in out
    protocols = json.loads((tmp_path / "r.json").read_text())["protocols"]
    assert sorted(protocols) == ["file", "speaker"]
    for name, result in protocols.items():
        assert result["protocol"] == name and 0.0 <= result["ua"] <= 1.0


def test_train_from_labels_csv(tmp_path, model_and_audio):
    _, audio, _, data = model_and_audio
    labels = tmp_path / "labels.csv"
    rows = [f"u{i}.wav,{data.target[i]}" for i in range(5)]
    labels.write_text("path,label\n" + "\n".join(rows) + "\n")
    out = tmp_path / "m.safetensors"
    assert (
        main(
            [
                "train",
                "--labels",
                str(labels),
                "--audio-dir",
                str(audio),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert out.exists()


@pytest.mark.parametrize(
    "argv,message",
    [
        (["predict", "missing.safetensors", "x.wav"], "does not exist"),
        (["evaluate", "--corpus", "emodb", "--data-home", "/nonexistent"], "emodb"),
        (["train", "-o", "m.safetensors"], "--corpus NAME"),
        (["train", "--labels", "nope.csv", "-o", "m.safetensors"], "nope.csv"),
    ],
)
def test_user_errors_are_one_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert err.startswith("sklearn-ser ")


def test_embed_rejects_bad_output(model_and_audio, capsys):
    model, audio, _, _ = model_and_audio
    assert main(["embed", str(model), str(audio / "u0.wav"), "-o", "e.txt"]) == 2
    assert ".npy or .csv" in capsys.readouterr().err


# --------------------------------------------------------------------------- issue 16
def test_output_path_is_checked_before_any_work(model_and_audio, capsys, monkeypatch):
    model, audio, _, _ = model_and_audio
    calls = []
    monkeypatch.setattr("sklearn_ser.cli._load_model", lambda path: calls.append(path))
    for argv in (
        ["predict", str(model), str(audio), "-o", "/nonexistent/dir/out.csv"],
        ["embed", str(model), str(audio), "-o", "/nonexistent/dir/e.npy"],
        ["timeline", str(model), str(audio), "-o", "/nonexistent/dir/t.csv"],
        ["train", "--labels", "x.csv", "-o", "/nonexistent/dir/m.safetensors"],
        ["evaluate", "--corpus", "emodb", "--json", "/nonexistent/dir/r.json"],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "/nonexistent/dir" in err and "does not exist" in err, err
    assert calls == []  # failed before loading the model or reading any audio
    assert main(["predict", str(model), str(audio), "-o", str(audio)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_empty_label_cell_is_rejected_with_its_row(tmp_path, model_and_audio, capsys):
    _, audio, _, _ = model_and_audio
    labels = tmp_path / "labels.csv"
    labels.write_text("path,label\nu0.wav,anger\nu1.wav,\nu2.wav,sadness\n")
    argv = ["train", "--labels", str(labels), "--audio-dir", str(audio), "-o", "m.safetensors"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "row 3" in err and "'label'" in err


def test_train_prints_progress_without_verbose_and_no_ansi(tmp_path, model_and_audio, capsys):
    _, audio, _, data = model_and_audio
    labels = tmp_path / "labels.csv"
    rows = [f"u{i}.wav,{data.target[i]}" for i in range(5)]
    labels.write_text("path,label\n" + "\n".join(rows) + "\n")
    out = tmp_path / "m.safetensors"
    argv = ["train", "--labels", str(labels), "--audio-dir", str(audio), "--model", "cnn"]
    argv += ["--epochs", "2"]
    assert main([*argv, "--threads", "1", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    text = captured.out + captured.err
    lines = [line for line in captured.out.splitlines() if line.strip()[:1].isdigit()]
    assert len(lines) == 2  # one line per epoch
    assert "\x1b[" not in text  # captured output is not a terminal: no colour codes
    assert "np.str_" not in text


def test_model_file_follows_the_umask(tmp_path, model_and_audio):
    _, _, pipe, _ = model_and_audio
    previous = os.umask(0o022)
    try:
        path = save_model(pipe, tmp_path / "shared.safetensors")
    finally:
        os.umask(previous)
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
    assert load_model(path) is not None


def test_evaluate_limits_speakers_and_folds_and_records_settings(tmp_path, capsys):
    home = _mini_emodb(tmp_path)
    report = tmp_path / "r.json"
    argv = ["evaluate", "--corpus", "emodb", "--data-home", str(home)]
    argv += ["--model", "cnn", "--epochs", "1"]
    assert main([*argv, "--speakers", "2", "--folds", "1", "--json", str(report)]) == 0
    assert "2 speakers" in capsys.readouterr().out
    result = json.loads(report.read_text())
    assert result["n_folds_run"] == 1
    assert len(result["protocols"]["speaker"]["per_speaker_accuracy"]) == 1
    settings = result["settings"]
    assert settings["seed"] == 0 and settings["speakers"] == 2 and settings["epochs"] == 1
    assert settings["library_version"]


def test_timeline_command_csv_and_json(model_and_audio, tmp_path, capsys):
    model, _, _, data = model_and_audio
    recording = np.concatenate([data.data[0], np.zeros(32000, np.float32), data.data[1]])
    path = tmp_path / "long.wav"
    sf.write(path, recording, 16000, subtype="FLOAT")
    out = tmp_path / "t.csv"
    assert main(["timeline", str(model), str(path), "-o", str(out), "--hop", "0.3"]) == 0
    rows = list(csv.DictReader(out.open()))
    labels = [r["label"] for r in rows]
    assert "no speech" in labels and set(labels) - {"no speech"}
    silent = [r for r in rows if r["label"] == "no speech"]
    assert all(r["p_anger"] == "" for r in silent)
    assert main(["timeline", str(model), str(path), "--format", "json", "-q"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert abs(record["duration"] - len(recording) / 16000) < 1e-3
    assert record["segments"][0]["start"] == 0.0
    assert abs(record["segments"][-1]["end"] - record["duration"]) < 1e-3
    assert any(s["label"] == "no speech" for s in record["segments"])


# --------------------------------------------------------------------------- issue 21
def _cli_env() -> dict:
    """Environment of a CLI subprocess: this checkout first, one thread."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


@pytest.fixture(scope="module")
def corpus_folder(tmp_path_factory):
    """Synthetic speech of two speakers, a folder each, and a labels CSV with speakers."""
    root = tmp_path_factory.mktemp("speakers")
    data = make_emotional_speech(n_speakers=2, n_utterances=2, duration=0.8, random_state=0)
    rows = []
    for i, (wave, label, speaker) in enumerate(zip(data.data, data.target, data.speaker)):
        (root / speaker).mkdir(exist_ok=True)
        sf.write(root / speaker / f"u{i}.wav", wave, 16000, subtype="FLOAT")
        rows.append(f"{speaker}/u{i}.wav,{label},{speaker}")
    labels = root / "labels.csv"
    labels.write_text("path,label,speaker\n" + "\n".join(rows) + "\n")
    files = [str(root / row.split(",")[0]) for row in rows]
    return labels, files


CNN_ARGS = ["--epochs", "1", "--threads", "1"]


@pytest.fixture(scope="module")
def trained(corpus_folder, tmp_path_factory):
    """Each model trained by the command line: name -> model file."""
    labels, _ = corpus_folder
    root = tmp_path_factory.mktemp("models")
    paths = {}
    for model in ("functionals", "cnn", "fusion"):
        paths[model] = root / f"{model}.safetensors"
        argv = ["train", "--labels", str(labels), "-o", str(paths[model])]
        if model != "functionals":
            argv += ["--model", model, *CNN_ARGS]
        assert main(argv) == 0
    return paths


def _labels(corpus_folder) -> list[str]:
    labels, _ = corpus_folder
    return [row["label"] for row in csv.DictReader(labels.open())]


def _probabilities(path) -> np.ndarray:
    return np.array(
        [
            [float(v) for k, v in row.items() if k.startswith("p_")]
            for row in csv.DictReader(open(path))
        ]
    )


def test_train_default_is_the_functionals_model(trained):
    from sklearn_ser import FunctionalsExtractor

    model = load_model(trained["functionals"])
    assert isinstance(model.steps[0][1], FunctionalsExtractor)
    assert model.named_steps["scaler"].n_speakers_ == 2  # the CSV's speakers reached it
    assert isinstance(
        load_model(trained["fusion"]).estimators_[1][-1], type(load_model(trained["cnn"])[-1])
    )


@pytest.mark.parametrize("name", ["functionals", "cnn", "fusion"])
def test_every_model_predicts_from_the_command_line(name, trained, corpus_folder, tmp_path):
    import sklearn

    _, files = corpus_folder
    model = load_model(trained[name])
    out = tmp_path / "p.csv"
    got = {}
    for group_by in ("file", "all"):
        argv = ["predict", str(trained[name]), *files, "--crop", "model", "--group-by", group_by]
        assert main([*argv, "-o", str(out)]) == 0
        got[group_by] = _probabilities(out)
    with sklearn.config_context(enable_metadata_routing=True):
        for group_by, groups in (("file", files), ("all", ["all"] * len(files))):
            expected = model.predict_proba(files, groups=groups)
            np.testing.assert_allclose(got[group_by], expected, atol=1e-4)
    # Every model standardises per speaker: one speaker for all files changes the result.
    assert not np.allclose(got["file"], got["all"], atol=1e-3)
    timeline = tmp_path / "t.csv"
    assert main(["timeline", str(trained[name]), files[0], "-q", "-o", str(timeline)]) == 0
    rows = list(csv.DictReader(timeline.open()))
    assert rows and {f"p_{c}" for c in model.classes_} <= set(rows[0])


def test_embed_of_each_model(trained, corpus_folder, tmp_path, capsys):
    import sklearn

    _, files = corpus_folder
    out = tmp_path / "e.npy"
    # The functionals model: its standardised functionals, each file alone by default.
    assert main(["embed", str(trained["functionals"]), *files, "-o", str(out)]) == 0
    assert "standardised functionals" in capsys.readouterr().out
    model = load_model(trained["functionals"])
    with sklearn.config_context(enable_metadata_routing=True):
        expected = model[:-1].transform(files, groups=files)
    np.testing.assert_allclose(np.load(out), expected, rtol=1e-6)
    assert main(["embed", str(trained["cnn"]), *files, "-o", str(out)]) == 0
    assert np.load(out).shape == (len(files), load_model(trained["cnn"])[-1].embedding_dim_)
    # A fusion has no single embedding: said, nothing written.
    assert main(["embed", str(trained["fusion"]), *files, "-o", str(tmp_path / "f.npy")]) == 2
    assert "no single embedding" in capsys.readouterr().err
    assert not (tmp_path / "f.npy").exists()


def test_cnn_options_with_the_functionals_model_are_refused(corpus_folder, capsys, tmp_path):
    labels, _ = corpus_folder
    argv = ["train", "--labels", str(labels), "-o", str(tmp_path / "m.safetensors")]
    assert main([*argv, "--epochs", "3"]) == 2
    err = capsys.readouterr().err
    assert "--epochs" in err and "--model cnn" in err
    assert main([*argv, "--checkpoint", str(tmp_path / "c.pt")]) == 2
    err = capsys.readouterr().err
    assert "--checkpoint" in err and "--model cnn" in err
    assert not (tmp_path / "m.safetensors").exists()


def test_main_restores_thread_settings(model_and_audio, tmp_path):
    import torch
    from threadpoolctl import threadpool_info

    model, audio, _, _ = model_and_audio
    before = (torch.get_num_threads(), [p["num_threads"] for p in threadpool_info()])
    env_before = os.environ.get("OMP_NUM_THREADS")
    argv = ["predict", str(model), str(audio / "u0.wav"), "-o", str(tmp_path / "p.csv")]
    assert main([*argv, "--threads", str(before[0] + 1)]) == 0
    assert (torch.get_num_threads(), [p["num_threads"] for p in threadpool_info()]) == before
    assert os.environ.get("OMP_NUM_THREADS") == env_before


def test_folder_as_model_and_read_only_demo_folder(tmp_path, capsys):
    assert main(["predict", str(tmp_path), "x.wav"]) == 2
    err = capsys.readouterr().err
    assert "is a folder" in err and "Traceback" not in err
    # A folder that cannot be created (under a file; a read-only folder, where the user
    # is not root, gives the same message).
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert main(["demo", "--out", str(blocker / "figures")]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "cannot create the folder" in err and "Traceback" not in err


@pytest.mark.parametrize("where", ["extraction", "saving"])
def test_interrupted_train_leaves_the_output_unchanged(
    where, corpus_folder, tmp_path, monkeypatch, capsys
):
    # Ctrl-C injected where it would land (a real one during training: the next test).
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    def half_written(tensors, filename, metadata=None):
        with open(filename, "wb") as f:
            f.write(b"half")
        raise KeyboardInterrupt

    labels, _ = corpus_folder
    out = tmp_path / "model.safetensors"
    out.write_bytes(b"a good model")
    argv = ["train", "--labels", str(labels), "-o", str(out)]
    if where == "extraction":
        monkeypatch.setattr("sklearn_ser.FunctionalsExtractor.transform", interrupt)
    else:
        monkeypatch.setattr("safetensors.numpy.save_file", half_written)
        argv += ["--model", "cnn", *CNN_ARGS]  # the quickest model to train
    assert main(argv) == 130
    captured = capsys.readouterr()
    assert "nothing was written" in captured.err and "is unchanged" in captured.err
    assert "Saved" not in captured.out
    assert out.read_bytes() == b"a good model"
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # no temporary


def _train_until_epoch(argv: list, epoch: int) -> subprocess.CompletedProcess:
    """Run ``train`` in a subprocess and press Ctrl-C once ``epoch`` epochs are done."""
    import signal

    proc = subprocess.Popen(
        [sys.executable, "-m", "sklearn_ser", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_cli_env(),
    )
    for line in proc.stdout:
        if line.split()[:1] == [str(epoch)]:  # skorch's epoch table: the epoch first
            proc.send_signal(signal.SIGINT)
            break
    out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


@pytest.mark.slow
def test_ctrl_c_during_training_then_resume_from_checkpoint(corpus_folder, tmp_path):
    labels, files = corpus_folder
    out, checkpoint = tmp_path / "model.safetensors", tmp_path / "train.ckpt"
    out.write_bytes(b"a good model")
    argv = ["train", "--labels", str(labels), "--model", "cnn", "--threads", "1"]
    argv += ["--epochs", "5", "-o", str(out), "--checkpoint", str(checkpoint)]
    interrupted = _train_until_epoch(argv, 2)
    assert interrupted.returncode == 130, interrupted.stderr
    assert "nothing was written" in interrupted.stderr
    assert "resume" in interrupted.stderr and str(checkpoint) in interrupted.stderr
    assert out.read_bytes() == b"a good model" and checkpoint.exists()
    # The same command again resumes from the last finished epoch and saves the model.
    resumed = subprocess.run(
        [sys.executable, "-m", "sklearn_ser", *argv],
        capture_output=True,
        text=True,
        env=_cli_env(),
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    epochs = [line.split()[0] for line in resumed.stdout.splitlines() if line.split()[:1]]
    epochs = [e for e in epochs if e.isdigit()]
    assert epochs and epochs[0] != "1" and epochs[-1] == "5"
    assert load_model(out).predict_proba(files[:2]).shape == (2, 4)


def test_missing_corpus_names_the_command_line_options(tmp_path, capsys):
    assert main(["train", "--corpus", "emodb", "--data-home", str(tmp_path), "-o", "m.st"]) == 2
    err = capsys.readouterr().err
    assert "--data-home" in err and "--download" in err and "Traceback" not in err


def test_predict_with_an_augmented_model(corpus_folder, tmp_path):
    import sklearn

    from sklearn_ser import make_ser_pipeline
    from sklearn_ser.augment import AudioAugmenter, AugmentedClassifier

    _, files = corpus_folder
    speakers = [os.path.basename(os.path.dirname(f)) for f in files]
    model = AugmentedClassifier(
        make_ser_pipeline(), AudioAugmenter(["gain"], n_copies=1, random_state=0)
    ).fit(files, _labels(corpus_folder), groups=speakers)
    path = save_model(model, tmp_path / "augmented.safetensors")
    out = tmp_path / "p.csv"
    assert main(["predict", str(path), *files, "--group-by", "folder", "-o", str(out)]) == 0
    with sklearn.config_context(enable_metadata_routing=True):
        expected = model.predict_proba(files, groups=[os.path.dirname(f) for f in files])
    np.testing.assert_allclose(_probabilities(out), expected, atol=1e-4)
    assert main(["timeline", str(path), files[0], "-q", "-o", str(tmp_path / "t.csv")]) == 0


def test_train_options_reach_make_ser_pipeline():
    from sklearn_ser.augment import AugmentedClassifier
    from sklearn_ser.cli import _pipeline, build_parser

    args = build_parser().parse_args(["train", "--labels", "x.csv", "-o", "m.st", "--augment"])
    model = _pipeline(args)
    assert isinstance(model, AugmentedClassifier)
    assert model.augmenter.random_state == 0  # --seed
    argv = ["train", "--labels", "x.csv", "-o", "m.st", "--model", "cnn", "--features", "llds"]
    model = _pipeline(build_parser().parse_args([*argv, "--epochs", "3", "--seed", "5"]))
    assert type(model[0]).__name__ == "FrameDescriptorExtractor"
    assert model[-1].max_epochs == 3 and model[-1].random_state == 5
