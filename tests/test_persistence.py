import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from sklearn_ser import (
    FeatureStack,
    MFCCExtractor,
    SERClassifier,
    SpectrogramExtractor,
    load_model,
    make_ser_pipeline,
    save_model,
)
from sklearn_ser.models import ModelOutput, SpecAugment


@pytest.fixture(scope="module")
def fitted_pipeline():
    rng = np.random.default_rng(0)
    waves = rng.normal(size=(12, 6000)).astype(np.float32)
    labels = np.array(["anger", "joy", "sadness"] * 4)
    pipe = make_ser_pipeline(
        "cnn",
        max_epochs=1,
        max_frames=40,
        window_frames=20,
        random_state=0,
        standardize="speaker",
    )
    pipe.set_params(
        classifier__module__channels=(4, 8), classifier__augment=SpecAugment(freq_width=3)
    )
    speakers = np.repeat(["s1", "s2"], 6)
    return pipe.fit(waves, labels, classifier__groups=speakers), waves


def test_pipeline_round_trip(fitted_pipeline, tmp_path):
    pipe, waves = fitted_pipeline
    loaded = load_model(save_model(pipe, tmp_path / "m.safetensors"))
    np.testing.assert_array_equal(loaded.predict_proba(waves), pipe.predict_proba(waves))
    np.testing.assert_array_equal(loaded.predict(waves), pipe.predict(waves))
    np.testing.assert_array_equal(loaded.transform(waves), pipe.transform(waves))
    speakers = np.repeat(["x", "y", "z"], 4)
    np.testing.assert_array_equal(
        loaded.predict_proba(waves, groups=speakers), pipe.predict_proba(waves, groups=speakers)
    )
    np.testing.assert_array_equal(
        loaded.named_steps["classifier"].speaker_scale_,
        pipe.named_steps["classifier"].speaker_scale_,
    )
    assert loaded.get_params(deep=False).keys() == pipe.get_params(deep=False).keys()
    assert loaded.named_steps["classifier"].get_params()["augment"].freq_width == 3


def test_classifier_with_combined_input(tmp_path):
    rng = np.random.default_rng(1)
    waves, labels = rng.normal(size=(8, 4000)), ["a", "b"] * 4
    stack = FeatureStack(
        [
            ("spec", SpectrogramExtractor(max_frames=20)),
            ("mfcc", MFCCExtractor(n_mfcc=10, max_frames=20)),
        ]
    )
    X = stack.fit_transform(waves)
    clf = SERClassifier(
        max_epochs=1, module__input_splits=stack.bin_splits_, module__channels=(4,)
    ).fit(X, labels)
    loaded = load_model(save_model(clf, tmp_path / "c.safetensors"))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert list(loaded.classes_) == ["a", "b"]


def test_tampered_truncated_and_foreign_files(fitted_pipeline, tmp_path):
    path = save_model(fitted_pipeline[0], tmp_path / "m.safetensors")
    data = bytearray(path.read_bytes())
    tampered = tmp_path / "tampered.safetensors"
    data[-10] ^= 0xFF  # flip bits in the last weights
    tampered.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="integrity check"):
        load_model(tampered)
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(path.read_bytes()[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable sklearn-ser model file"):
        load_model(truncated)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(3)}, str(foreign))
    with pytest.raises(ValueError, match="foreign"):
        load_model(foreign)
    text = tmp_path / "text.safetensors"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a readable"):
        load_model(text)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.safetensors")


def test_spec_tampering_is_detected(fitted_pipeline, tmp_path):
    path = save_model(fitted_pipeline[0], tmp_path / "m.safetensors")
    data = path.read_bytes()
    edited = data.replace(b"MelSpectrogramExtractor", b"MelSpectrogramExtractoR")
    assert edited != data
    (tmp_path / "e.safetensors").write_bytes(edited)
    with pytest.raises(ValueError, match="integrity check"):
        load_model(tmp_path / "e.safetensors")


class _Custom(nn.Module):
    def __init__(self, n_classes, input_shape):
        super().__init__()
        self.linear = nn.Linear(int(np.prod(input_shape)), n_classes)

    def forward(self, x):
        logits = self.linear(x.flatten(1))
        return ModelOutput(logits, logits, None)


def test_unsafe_components_are_refused(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(10, 3, 4)).astype(np.float32), ["a", "b"] * 5
    clf = SERClassifier(_Custom, lambda_recon=0, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match=r"cannot save .*_Custom"):
        save_model(clf, tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


def test_run_time_settings_are_not_persisted(fitted_pipeline, tmp_path, capsys):
    # A model trained with verbose, on a device, with callbacks and a checkpoint does not
    # print progress on every later predict: run-time settings load as their defaults.
    from skorch.callbacks import Callback

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(12, 4, 6)).astype(np.float32), ["a", "b"] * 6
    clf = SERClassifier(
        max_epochs=1,
        module__channels=(4,),
        verbose=1,
        device="cpu",
        callbacks=[Callback()],
        checkpoint=tmp_path / "run.ckpt",
        random_state=0,
    ).fit(X, y)
    capsys.readouterr()
    loaded = load_model(save_model(clf, tmp_path / "m.safetensors"))
    defaults = SERClassifier().get_params()
    for name in ("verbose", "device", "callbacks", "checkpoint", "accelerator"):
        assert loaded.get_params()[name] == defaults[name], name
    assert loaded.net_.verbose == 0
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert capsys.readouterr().out == ""
    # The extractor's progress bar and parallel jobs are run-time settings too.
    pipe, _ = fitted_pipeline
    pipe.set_params(features__verbose=1, features__n_jobs=2)
    try:
        path = save_model(pipe, tmp_path / "p.safetensors")
    finally:
        pipe.set_params(features__verbose=0, features__n_jobs=None)
    features = load_model(path).named_steps["features"]
    assert features.verbose == 0 and features.n_jobs is None


# --------------------------------------------------------------------------- issue 21
@pytest.fixture(scope="module")
def speech():
    from sklearn_ser.datasets import make_emotional_speech

    return make_emotional_speech(n_speakers=3, n_utterances=2, duration=1.0, random_state=0)


def _assert_same_predictions(loaded, model, data):
    import sklearn

    np.testing.assert_array_equal(loaded.predict_proba(data.data), model.predict_proba(data.data))
    np.testing.assert_array_equal(loaded.predict(data.data), model.predict(data.data))
    with sklearn.config_context(enable_metadata_routing=True):
        np.testing.assert_array_equal(
            loaded.predict_proba(data.data, groups=data.speaker),
            model.predict_proba(data.data, groups=data.speaker),
        )


def test_functionals_pipeline_round_trip(speech, tmp_path):
    from sklearn.linear_model import LogisticRegression

    from sklearn_ser import FunctionalsExtractor, SpeakerStandardScaler

    pipe = make_ser_pipeline().fit(speech.data, speech.target, scaler__groups=speech.speaker)
    path = save_model(pipe, tmp_path / "functionals.safetensors")
    assert b"__pickle__" not in path.read_bytes()[:64]
    loaded = load_model(path)
    assert type(loaded) is type(pipe)
    features, scaler, clf = (step for _, step in loaded.steps)
    assert isinstance(features, FunctionalsExtractor)
    assert isinstance(scaler, SpeakerStandardScaler) and scaler.n_speakers_ == 3
    assert isinstance(clf, LogisticRegression)
    assert loaded.get_params(deep=True).keys() == pipe.get_params(deep=True).keys()
    assert clf.get_params() == pipe.named_steps["classifier"].get_params()
    _assert_same_predictions(loaded, pipe, speech)


def test_fusion_round_trip(speech, tmp_path):
    from sklearn_ser.ensemble import LateFusionClassifier

    fusion = make_ser_pipeline("fusion", max_frames=40, max_epochs=1, module__channels=(4,))
    fusion.set_params(weights=[2.0, 1.0])
    fusion.fit(speech.data, speech.target, groups=speech.speaker)
    loaded = load_model(save_model(fusion, tmp_path / "fusion.safetensors"))
    assert isinstance(loaded, LateFusionClassifier)
    assert list(loaded.named_estimators_) == ["functionals", "cnn"]
    assert loaded.named_estimators_.cnn is loaded.estimators_[1]
    assert loaded.weights == [2.0, 1.0]
    # The unfitted members (the fusion's parameters) come back unfitted, for clone.
    assert not hasattr(loaded.estimators[1][1].named_steps["classifier"], "net_")
    _assert_same_predictions(loaded, fusion, speech)


def test_unknown_step_is_named(speech, tmp_path):
    from sklearn.preprocessing import StandardScaler

    pipe = make_ser_pipeline()
    pipe.steps.insert(1, ("my_scaler", StandardScaler()))
    pipe.fit(speech.data, speech.target, scaler__groups=speech.speaker)
    with pytest.raises(ValueError, match=r"model\.my_scaler .*StandardScaler.*sklearn"):
        save_model(pipe, tmp_path / "x.safetensors")
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary file left


def test_folder_is_reported_as_folder(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder"):
        load_model(tmp_path)
    with pytest.raises(IsADirectoryError, match="is a folder"):
        save_model(None, tmp_path)


def test_interrupted_save_leaves_the_old_file(fitted_pipeline, tmp_path, monkeypatch):
    pipe, _ = fitted_pipeline
    path = save_model(pipe, tmp_path / "m.safetensors")
    before = path.read_bytes()

    def interrupted(tensors, filename, metadata):
        with open(filename, "wb") as f:
            f.write(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr("safetensors.numpy.save_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_model(pipe, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_concurrent_saves_never_leave_a_torn_file(fitted_pipeline, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    pipe, waves = fitted_pipeline
    path = tmp_path / "m.safetensors"
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: save_model(pipe, path), range(8)))
    np.testing.assert_array_equal(load_model(path).predict_proba(waves), pipe.predict_proba(waves))
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_augmented_models_round_trip(speech, tmp_path):
    from imblearn.pipeline import Pipeline as ImbPipeline
    from sklearn.linear_model import LogisticRegression
    from sklearn.utils import Bunch

    from sklearn_ser import FunctionalsExtractor
    from sklearn_ser.augment import AudioAugmenter, AugmentedClassifier

    half = slice(None, None, 2)  # every emotion and speaker, half the time
    speech = Bunch(data=speech.data[half], target=speech.target[half], speaker=speech.speaker[half])
    augmenter = AudioAugmenter(["gain", "noise"], n_copies=1, random_state=0)
    model = AugmentedClassifier(make_ser_pipeline(), augmenter)
    model.fit(speech.data, speech.target, groups=speech.speaker)
    loaded = load_model(save_model(model, tmp_path / "augmented.safetensors"))
    assert isinstance(loaded, AugmentedClassifier)
    # The augmenter keeps its settings, not the record of the fit.
    assert loaded.augmenter_.get_params()["perturbations"] == ["gain", "noise"]
    _assert_same_predictions(loaded, model, speech)
    # An imbalanced-learn pipeline with the augmenter as a sampler step.
    pipe = ImbPipeline(
        [
            ("augment", AudioAugmenter(["gain"], n_copies=1, random_state=0)),
            ("features", FunctionalsExtractor(feature_set="compact")),
            ("classifier", LogisticRegression()),
        ]
    ).fit(speech.data, speech.target)
    loaded = load_model(save_model(pipe, tmp_path / "imblearn.safetensors"))
    assert type(loaded) is ImbPipeline and isinstance(loaded[0], AudioAugmenter)
    np.testing.assert_array_equal(
        loaded.predict_proba(speech.data), pipe.predict_proba(speech.data)
    )


def test_digest_is_that_of_earlier_files(fitted_pipeline, tmp_path):
    # Files were first written from torch tensors: the digest still hashes each tensor's
    # shape, torch dtype name and bytes, so those files keep passing the integrity check.
    import hashlib

    from safetensors import safe_open

    path = save_model(fitted_pipeline[0], tmp_path / "m.safetensors")
    with safe_open(str(path), framework="pt") as f:
        metadata, tensors = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}
    assert any(t.ndim == 0 for t in tensors.values())  # a 0-d tensor keeps its shape
    h = hashlib.sha256(metadata["spec"].encode())
    for key in sorted(tensors):
        t = tensors[key]
        h.update(key.encode())
        h.update(str(tuple(t.shape)).encode() + str(t.dtype).encode())
        h.update(t.contiguous().view(-1).view(dtype=torch.uint8).numpy().tobytes())
    assert h.hexdigest() == metadata["sha256"]


def test_functionals_model_needs_no_torch(tmp_path):
    import os
    import subprocess
    import sys

    code = """
import sys
import numpy as np
from sklearn_ser import load_model, make_ser_pipeline, save_model
from sklearn_ser.datasets import make_emotional_speech
data = make_emotional_speech(n_speakers=2, n_utterances=1, duration=0.5, random_state=0)
pipe = make_ser_pipeline().fit(data.data, data.target, scaler__groups=data.speaker)
loaded = load_model(save_model(pipe, sys.argv[1]))
assert np.array_equal(loaded.predict_proba(data.data), pipe.predict_proba(data.data))
print("torch" in sys.modules)
"""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": root, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "f.safetensors")],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert out.stdout.strip() == "False"


def test_frame_descriptor_cnn_round_trip(speech, tmp_path):
    pipe = make_ser_pipeline(
        "cnn", features="llds", max_frames=24, max_epochs=1, module__channels=(4,)
    )
    pipe.fit(speech.data, speech.target, classifier__groups=speech.speaker)
    loaded = load_model(save_model(pipe, tmp_path / "llds.safetensors"))
    _assert_same_predictions(loaded, pipe, speech)
