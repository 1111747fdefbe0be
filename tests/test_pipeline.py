"""make_ser_pipeline: the functionals default, every CNN input kind, and their fusion."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression

from sklearn_ser import (
    FeatureStack,
    FunctionalsExtractor,
    SpeakerStandardScaler,
    make_ser_pipeline,
)
from sklearn_ser.datasets import make_emotional_speech
from sklearn_ser.ensemble import LateFusionClassifier


@pytest.fixture(scope="module")
def speech():
    return make_emotional_speech(n_speakers=3, n_utterances=4, random_state=0)


def test_default_is_functionals_per_speaker_linear_model(speech):
    pipe = make_ser_pipeline(random_state=0)
    assert pipe.named_steps["scaler"].random_state == 0
    assert [name for name, _ in pipe.steps] == ["features", "scaler", "classifier"]
    features, scaler, clf = (step for _, step in pipe.steps)
    assert isinstance(features, FunctionalsExtractor) and features.feature_set == "extended"
    assert isinstance(scaler, SpeakerStandardScaler) and scaler.training_context == "random"
    assert isinstance(clf, LogisticRegression)
    with sklearn.config_context(enable_metadata_routing=True):
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # the scaler got the speakers
            pipe.fit(speech.data, speech.target, groups=speech.speaker)
        context = pipe.predict_proba(speech.data, groups=speech.speaker)
    assert pipe.named_steps["scaler"].n_speakers_ == 3
    alone = pipe.predict_proba(speech.data)
    assert context.shape == alone.shape == (len(speech.data), len(pipe.classes_))
    assert not np.allclose(context, alone)
    # Each file alone: the same whatever else is in the call.
    np.testing.assert_allclose(pipe.predict_proba(speech.data[:1]), alone[:1])
    # Routing off: the speakers reach the scaler by its step name.
    legacy = make_ser_pipeline(random_state=0)
    legacy.fit(speech.data, speech.target, scaler__groups=speech.speaker)
    np.testing.assert_allclose(legacy.predict_proba(speech.data), alone)


def test_fusion_averages_functionals_and_cnn(speech):
    fusion = make_ser_pipeline("fusion", max_frames=40, max_epochs=1, module__channels=(4,))
    assert isinstance(fusion, LateFusionClassifier)
    assert [name for name, _ in fusion.estimators] == ["functionals", "cnn"]
    fusion.fit(speech.data, speech.target, groups=speech.speaker)  # routing off: still passed
    members = fusion.named_estimators_
    assert members.functionals.named_steps["scaler"].n_speakers_ == 3
    assert members.cnn.named_steps["classifier"].scaler_.n_speakers_ == 3
    expected = (
        members.functionals.predict_proba(speech.data) + members.cnn.predict_proba(speech.data)
    ) / 2
    np.testing.assert_allclose(fusion.predict_proba(speech.data), expected)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"model": "mlp"}, r"model must be one of .*'mlp'"),
        ({"model": "mfcc"}, r"features='mfcc'"),
        ({"features": "mfcc"}, r"chooses the CNN's input"),
        ({"model": "cnn", "features": "mel"}, r"features must be one of .*'mel'"),
    ],
)
def test_bad_choices_are_named(params, match):
    with pytest.raises(ValueError, match=match):
        make_ser_pipeline(**params)


@pytest.mark.parametrize(
    "features, n_bins",
    [
        ("logmel", 64),
        ("mfcc", 40),
        ("spectrogram", 257),
        ("both", 297),
        ("logmel+mfcc", 104),
        ("llds", 68),
    ],
)
def test_every_input_kind_fits_and_predicts(features, n_bins, rng):
    waves = rng.normal(size=(8, 4000)).astype(np.float32)
    labels = np.array(["anger", "sadness"] * 4)
    speakers = np.repeat(["a", "b"], 4)
    pipe = make_ser_pipeline(
        "cnn",
        features=features,
        max_frames=24,
        max_epochs=1,
        module__channels=(4,),
        random_state=0,
    )
    pipe.fit(waves, labels, classifier__groups=speakers)
    clf = pipe.named_steps["classifier"]
    assert clf.net_.module_.input_shape == (n_bins, 24)
    extractor = pipe.named_steps["features"]
    if isinstance(extractor, FeatureStack):
        # One encoder per feature kind, split where the extractor's parts meet.
        assert tuple(clf.net_.module_.splits) == extractor.bin_splits_
        assert len(clf.net_.module_.encoders) == 2
    else:
        assert len(clf.net_.module_.encoders) == 1
    proba = pipe.predict_proba(waves, groups=speakers)
    assert proba.shape == (8, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert set(pipe.predict(waves, groups=speakers)) <= {"anger", "sadness"}


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score"])
def test_groups_without_routing_names_the_fix(speech, method):
    pipe = make_ser_pipeline().fit(speech.data, speech.target, scaler__groups=speech.speaker)
    args = (speech.data, speech.target) if method == "score" else (speech.data,)
    with pytest.raises(TypeError, match=r"sklearn\.set_config\(enable_metadata_routing=True\)"):
        getattr(pipe, method)(*args, groups=speech.speaker)
    with pytest.raises(TypeError, match=r"scaler__groups="):
        make_ser_pipeline().fit(speech.data, speech.target, groups=speech.speaker)
    # The methods the final step has are offered, the others are not.
    assert hasattr(pipe, "predict_proba") and not hasattr(pipe, "transform")


def test_cnn_pipeline_takes_groups_without_routing(speech):
    # Its final step is the only one that uses speakers: predict(groups=) needs no routing.
    pipe = make_ser_pipeline("cnn", max_frames=24, max_epochs=1, module__channels=(4,))
    pipe.fit(speech.data, speech.target, classifier__groups=speech.speaker)
    alone = pipe.predict_proba(speech.data)
    context = pipe.predict_proba(speech.data, groups=speech.speaker)
    assert not np.allclose(alone, context)
    # Pipeline.transform and score take no keyword arguments without routing (score would
    # drop them silently): the fix is named.
    with pytest.raises(TypeError, match="enable_metadata_routing"):
        pipe.transform(speech.data[:2], groups=speech.speaker[:2])
    with pytest.raises(TypeError, match="enable_metadata_routing"):
        pipe.score(speech.data, speech.target, groups=speech.speaker)


@pytest.mark.parametrize(
    "model, params",
    [("functionals", {}), ("cnn", {"max_frames": 24, "max_epochs": 1, "module__channels": (4,)})],
)
def test_default_random_state_makes_identical_calls_agree(speech, model, params):
    fit_params = {
        "scaler__groups" if model == "functionals" else "classifier__groups": (speech.speaker)
    }
    probas = [
        make_ser_pipeline(model, **params)
        .fit(speech.data, speech.target, **fit_params)
        .predict_proba(speech.data)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(probas[0], probas[1])
    # The seed is passed through to every random step.
    pipe = make_ser_pipeline(model, random_state=3, **params)
    seeds = {k: v for k, v in pipe.get_params().items() if k.endswith("random_state")}
    assert seeds and set(seeds.values()) == {3}, seeds


def test_spec_augment_as_augment_names_the_classifier_parameter():
    from sklearn_ser.models import SpecAugment

    with pytest.raises(ValueError, match=r"set_params\(classifier__augment=\.\.\.\)"):
        make_ser_pipeline("cnn", augment=SpecAugment())
