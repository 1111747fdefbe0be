import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut, cross_validate
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import check_estimator
from skorch.callbacks import Callback
from torch import nn

from sklearn_ser import SERClassifier
from sklearn_ser.models import CenterLoss, ModelOutput, MultitaskCNN, SpecAugment

TINY = {"module__channels": (8, 16), "module__embedding_dim": 8, "batch_size": 16}


@pytest.fixture
def data(rng):
    """Three emotions separable by where the energy sits; six 'speakers' of 15 samples."""
    X = rng.normal(size=(90, 12, 16)).astype(np.float32)
    y = np.array(["anger", "neutral", "sadness"] * 30)
    X[y == "anger", :4] += 1.5
    X[y == "sadness", 8:] += 1.5
    groups = np.repeat([f"spk{i}" for i in range(6)], 15)
    return X, y, groups


class TinyCNN(MultitaskCNN):
    """MultitaskCNN with a tiny default width: check_estimator trains many networks."""

    def __init__(self, n_classes, input_shape, *, channels=(4, 8), embedding_dim=8, **kwargs):
        super().__init__(
            n_classes, input_shape, channels=channels, embedding_dim=embedding_dim, **kwargs
        )


def test_check_estimator():
    # A tiny network with the defaults otherwise (a short schedule at a higher rate; as a
    # module class, since check_estimator wants every constructor argument a parameter).
    # One check cannot apply: float32 convolutions round differently (about 1e-7
    # relative) when the batch holds other samples.
    check_estimator(
        SERClassifier(TinyCNN, max_epochs=10, lr=1e-2, batch_size=16, random_state=0),
        expected_failed_checks={
            "check_methods_sample_order_invariance": "float32 convolutions give "
            "batch-composition dependent rounding (~1e-7 relative)"
        },
    )


def test_fit_predict_strings(data):
    X, y, _ = data
    clf = SERClassifier(max_epochs=30, random_state=0, **TINY).fit(X, y)
    assert list(clf.classes_) == ["anger", "neutral", "sadness"]
    pred = clf.predict(X)
    assert pred.dtype.kind == "U" and set(pred) <= set(y)
    assert clf.score(X, y) > 0.9
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], pred)
    assert clf.transform(X).shape == (90, 8)
    assert list(clf.get_feature_names_out()[:2]) == ["serclassifier0", "serclassifier1"]


def test_history_records_loss_parts(data):
    X, y, _ = data
    clf = SERClassifier(max_epochs=2, random_state=0, **TINY).fit(X, y)
    row = clf.history_[-1]
    for key in ("train_loss", "train_ce", "train_center", "train_recon"):
        assert np.isfinite(row[key])
    expected = row["train_ce"] + 0.01 * row["train_center"] + 0.1 * row["train_recon"]
    assert row["train_loss"] == pytest.approx(expected, rel=1e-4)
    plain = SERClassifier(max_epochs=1, lambda_center=0, lambda_recon=0, random_state=0, **TINY)
    row = plain.fit(X, y).history_[-1]
    assert "train_center" not in row and "train_recon" not in row
    assert row["train_loss"] == pytest.approx(row["train_ce"], rel=1e-5)


def test_same_seed_same_model(data):
    X, y, _ = data
    a = SERClassifier(max_epochs=3, random_state=7, **TINY).fit(X, y)
    b = SERClassifier(max_epochs=3, random_state=7, **TINY).fit(X, y)
    c = SERClassifier(max_epochs=3, random_state=8, **TINY).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_pickle_and_joblib_round_trip(data, tmp_path):
    X, y, _ = data
    clf = SERClassifier(max_epochs=2, random_state=0, **TINY).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    joblib.dump(clf, tmp_path / "m.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "m.joblib").transform(X), clf.transform(X))


def test_params_routed_to_module_and_cloned(data):
    X, y, _ = data
    clf = SERClassifier(max_epochs=1, module__channels=(4,), module__embedding_dim=5)
    assert clf.get_params()["module__channels"] == (4,)
    cloned = clone(clf)
    assert cloned.get_params()["module__embedding_dim"] == 5
    cloned.set_params(module__embedding_dim=3).fit(X, y)
    assert cloned.transform(X).shape == (90, 3)
    assert isinstance(cloned.net_.module_, MultitaskCNN)
    with pytest.raises(ValueError, match="modul__channels"):
        SERClassifier(modul__channels=(4,)).fit(X, y)


def test_early_stopping_split_is_speaker_disjoint(data):
    X, y, groups = data
    clf = SERClassifier(
        max_epochs=4, early_stopping=True, n_iter_no_change=2, random_state=0, **TINY
    ).fit(X, y, groups=groups)
    assert "valid_ua" in clf.history_[-1]
    valid_rows = clf.net_.train_split.keywords["valid_ds"].indices
    valid_speakers = set(groups[valid_rows])
    train_speakers = set(groups) - valid_speakers
    assert valid_speakers and train_speakers
    # every sample of a validation speaker is in the validation set
    assert len(valid_rows) == sum(np.isin(groups, list(valid_speakers)))


def test_early_stopping_without_groups_warns(data):
    X, y, _ = data
    with pytest.warns(UserWarning, match="mixes speakers"):
        SERClassifier(max_epochs=1, early_stopping=True, **TINY).fit(X, y)


def test_embeddings_feed_another_classifier(data):
    X, y, _ = data
    pipe = make_pipeline(
        SERClassifier(max_epochs=10, random_state=0, **TINY), KNeighborsClassifier(3)
    )
    assert pipe.fit(X, y).score(X, y) > 0.8


def test_grid_search_and_cross_validate_by_speaker(data):
    X, y, groups = data
    clf = SERClassifier(max_epochs=2, random_state=0, **TINY)
    search = GridSearchCV(
        clf, {"lambda_center": [0.0, 0.1]}, cv=LeaveOneGroupOut(), scoring="balanced_accuracy"
    )
    search.fit(X[:60], y[:60], groups=groups[:60])
    assert search.best_params_["lambda_center"] in (0.0, 0.1)
    res = cross_validate(clf, X, y, groups=groups, cv=LeaveOneGroupOut())
    assert len(res["test_score"]) == 6


def test_combined_model_with_input_splits(data):
    X, y, _ = data
    clf = SERClassifier(max_epochs=1, module__input_splits=(5, 7), random_state=0, **TINY)
    clf.fit(X, y)
    assert len(clf.net_.module_.encoders) == 2


def test_options_run(data):
    X, y, _ = data
    clf = SERClassifier(
        max_epochs=2,
        class_weight="balanced",
        label_smoothing=0.1,
        optimizer="sgd",
        lr_schedule=None,
        augment=SpecAugment(freq_width=3, time_width=4, max_shift=2),
        mixed_precision=True,
        random_state=0,
        **TINY,
    ).fit(X[:40], y[:40])
    weight = clf.net_.criterion_.weight
    counts = np.unique(y[:40], return_counts=True)[1]
    np.testing.assert_allclose(weight.numpy(), 40 / (3 * counts), rtol=1e-6)
    assert np.isfinite(clf.predict_proba(X)).all()


def test_2d_input_is_one_row_map(rng):
    X = rng.normal(size=(40, 6)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    clf = SERClassifier(max_epochs=2, random_state=0, **TINY).fit(X, y)
    assert clf.input_shape_ == (1, 6) and clf.predict(X).dtype.kind == "i"


@pytest.mark.parametrize(
    "change,match",
    [
        (lambda X, y: (np.where(X > 2, np.nan, X), y), "NaN"),
        (lambda X, y: (X, np.full(len(y), "anger")), "only one class"),
        (lambda X, y: (X[:-1], y), "inconsistent numbers of samples"),
        (lambda X, y: (X, None), "requires y"),
    ],
)
def test_bad_fit_input(data, change, match):
    X, y = change(*data[:2])
    with pytest.raises(ValueError, match=match):
        SERClassifier(max_epochs=1, **TINY).fit(X, y)


def test_predict_shape_mismatch(data):
    X, y, _ = data
    clf = SERClassifier(max_epochs=1, **TINY).fit(X, y)
    with pytest.raises(ValueError, match="13 features, but SERClassifier is expecting 12"):
        clf.predict(np.zeros((2, 13, 16), dtype=np.float32))  # e.g. another n_mels
    with pytest.raises(ValueError, match=r"per-sample shape \(12, 17\).*\(12, 16\)"):
        clf.predict(np.zeros((2, 12, 17), dtype=np.float32))  # e.g. another max_frames


@pytest.mark.parametrize(
    "params,match",
    [
        ({"max_epochs": 0}, "max_epochs"),
        ({"lr": -1.0}, "lr"),
        ({"lambda_center": -0.1}, "lambda_center"),
        ({"center_alpha": 2.0}, "center_alpha"),
        ({"optimizer": "adagrad"}, "optimizer"),
        ({"module": "cnn"}, "module"),
        ({"validation_fraction": 1.5}, "validation_fraction"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_bad_params_are_named(data, params, match):
    with pytest.raises(ValueError, match=match):
        SERClassifier(**params).fit(*data[:2])


@pytest.mark.parametrize(
    "name,value,expected",
    [
        ("max_epochs", 0, "an int in the range [1, inf)"),
        ("lr", 0.0, "a float in the range (0.0, inf)"),
        ("center_alpha", 1.5, "a float in the range [0.0, 1.0]"),
        ("lambda_recon", "yes", "a str among {'auto'}"),
        ("label_smoothing", 1.0, "a float in the range [0.0, 1.0)"),
        ("module", nn.Linear(2, 2), "a torch.nn.Module class"),
        ("optimizer", "adagrad", "a torch.optim.Optimizer class"),
        ("window_frames", 0, "an int in the range [1, inf)"),
        ("speaker_context", "some", "'full'"),
        ("early_stopping", "yes", "an instance of 'bool'"),
    ],
)
def test_constraint_errors_name_parameter_value_and_expected(data, name, value, expected):
    # One table (_parameter_constraints), checked in fit by scikit-learn's validation.
    with pytest.raises(ValueError) as info:
        SERClassifier(**{name: value}).fit(*data[:2])
    message = str(info.value)
    assert f"'{name}' parameter of SERClassifier" in message
    assert expected in message and repr(value) in message


def test_lambda_recon_auto_follows_the_module(data):
    assert SERClassifier()._lambda_recon() == 0.1
    assert SERClassifier(module__reconstruct=False)._lambda_recon() == 0.0
    assert SERClassifier(lambda_recon=0.3)._lambda_recon() == 0.3


def test_recon_without_decoder_is_explained(data):
    with pytest.raises(ValueError, match="needs a module with a decoder"):
        SERClassifier(max_epochs=1, lambda_recon=0.1, module__reconstruct=False, **TINY).fit(
            *data[:2]
        )
    # The default ("auto") drops the reconstruction loss when there is no decoder.
    clf = SERClassifier(max_epochs=1, module__reconstruct=False, random_state=0, **TINY)
    assert "train_recon" not in clf.fit(*data[:2]).history_[-1]


class _ExplodingModule(nn.Module):
    """Returns NaN logits from the third training batch on."""

    def __init__(self, n_classes, input_shape):
        super().__init__()
        self.linear = nn.Linear(int(np.prod(input_shape)), n_classes)
        self.embedding_dim = n_classes
        self.calls = 0

    def forward(self, x):
        self.calls += self.training
        logits = self.linear(x.flatten(1))
        if self.calls >= 3:
            logits = logits * float("nan")
        return ModelOutput(logits, logits, None)


def test_non_finite_loss_stops_with_epoch_and_batch(data):
    X, y, _ = data
    clf = SERClassifier(_ExplodingModule, lambda_recon=0, max_epochs=3, batch_size=32)
    with pytest.raises(FloatingPointError, match="epoch 1, batch 3"):
        clf.fit(X, y)
    assert all(torch.isfinite(p).all() for p in clf.net_.module_.parameters())


def test_center_loss_update_rule():
    loss = CenterLoss(n_classes=3, embedding_dim=2, alpha=0.5)
    loss.centers.copy_(torch.tensor([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]))
    x = torch.tensor([[1.0, 0.0], [3.0, 0.0], [1.0, 3.0]])
    labels = torch.tensor([0, 0, 1])
    # 1/2 * mean(1 + 9 + (0 + 4)) = 7/3
    assert float(loss(x, labels)) == pytest.approx(7 / 3)
    loss.update_centers(x, labels)
    # class 0: delta = ((0-1) + (0-3), 0) / 3 -> c = 0 - 0.5 * (-4/3, 0) = (2/3, 0)
    torch.testing.assert_close(loss.centers[0], torch.tensor([2 / 3, 0.0]))
    # class 1: delta = (0, -2) / 2 -> c = (1, 1) + 0.5 * (0, 1) = (1, 1.5)
    torch.testing.assert_close(loss.centers[1], torch.tensor([1.0, 1.5]))
    torch.testing.assert_close(loss.centers[2], torch.tensor([5.0, 5.0]))  # absent: unchanged


def test_center_loss_tightens_clusters(data):
    X, y, _ = data
    kw = {"max_epochs": 30, "random_state": 0, "lambda_recon": 0.0, **TINY}
    plain = SERClassifier(lambda_center=0.0, **kw).fit(X, y)
    center = SERClassifier(lambda_center=0.1, **kw).fit(X, y)

    def spread(clf):  # within-class over total variance of the embeddings
        emb = clf.transform(X)
        within = sum(((emb[y == c] - emb[y == c].mean(0)) ** 2).sum() for c in clf.classes_)
        return within / ((emb - emb.mean(0)) ** 2).sum()

    assert spread(center) < spread(plain)


def test_multitask_cnn_shapes_and_errors():
    model = MultitaskCNN(n_classes=3, input_shape=(7, 9), channels=(4, 8), embedding_dim=6)
    out = model(torch.randn(2, 7, 9))
    assert out.logits.shape == (2, 3) and out.embedding.shape == (2, 6)
    assert out.reconstruction.shape == (2, 7, 9)
    assert MultitaskCNN(3, (7, 9), reconstruct=False)(torch.randn(2, 7, 9)).reconstruction is None
    with pytest.raises(ValueError, match=r"built for inputs of shape \(batch, 7, 9\)"):
        model(torch.randn(2, 8, 9))
    with pytest.raises(ValueError, match="input_splits"):
        MultitaskCNN(3, (7, 9), input_splits=(3, 3))


def test_trains_through_accelerate_cpu(data):
    accelerate = pytest.importorskip("accelerate")
    X, y, _ = data
    clf = SERClassifier(
        max_epochs=3,
        accelerator=accelerate.Accelerator(cpu=True),
        random_state=0,
        augment=SpecAugment(freq_width=2, time_width=2),
        **TINY,
    ).fit(X, y)
    assert type(clf.net_).__name__ == "_AcceleratedSERNet"
    assert np.isfinite(clf.history_[-1]["train_center"])  # the library's training step ran
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)


def test_numpy_array_of_paths_is_accepted(tmp_path):
    import soundfile as sf

    from sklearn_ser import MelSpectrogramExtractor

    paths = []
    for i in range(3):
        paths.append(str(tmp_path / f"{i}.wav"))
        sf.write(paths[-1], np.sin(np.arange(4000) * (i + 1) / 10), 16000)
    out = MelSpectrogramExtractor(max_frames=10).fit_transform(np.array(paths))
    assert out.shape == (3, 64, 10)


class _InterruptAt(Callback):
    """Simulates Ctrl-C at the end of an epoch."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


def test_ctrl_c_leaves_a_usable_model_with_the_best_weights(data):
    X, y, groups = data
    clf = SERClassifier(
        max_epochs=10, early_stopping=True, random_state=0, callbacks=[_InterruptAt(3)], **TINY
    )
    with pytest.warns(UserWarning, match="interrupted after 3 of 10 epochs"):
        clf.fit(X, y, groups=groups)
    assert clf.interrupted_
    assert len(clf.history_) == 3
    assert clf.predict(X).shape == (90,)
    best = int(np.argmax(clf.history_[:, "valid_ua"]))
    assert clf.history_[best, "valid_ua_best"]


def test_checkpoint_resume_equals_uninterrupted_run(data, tmp_path):
    X, y, _ = data
    kw = {
        "max_epochs": 5,
        "random_state": 3,
        "augment": SpecAugment(freq_width=2, time_width=3),
        **TINY,
    }
    full = SERClassifier(**kw).fit(X, y)
    path = tmp_path / "run.ckpt"
    with pytest.warns(UserWarning, match="partly trained"):
        interrupted = SERClassifier(checkpoint=path, callbacks=[_InterruptAt(2)], **kw).fit(X, y)
    assert len(interrupted.history_) == 2 and path.exists()
    resumed = SERClassifier(checkpoint=path, **kw).fit(X, y)
    assert len(resumed.history_) == 5 and not resumed.interrupted_ and not full.interrupted_
    np.testing.assert_allclose(resumed.predict_proba(X), full.predict_proba(X), rtol=1e-5)
    assert not np.allclose(interrupted.predict_proba(X), full.predict_proba(X))
    # One callback saves and restores; a finished run resumes to the same model.
    kinds = [type(cb).__name__ for _, cb in resumed.net_.callbacks_]
    assert sum("Checkpoint" in k or "LoadInitState" in k for k in kinds) == 1
    again = SERClassifier(checkpoint=path, **kw).fit(X, y)
    assert len(again.history_) == 5
    np.testing.assert_array_equal(again.predict_proba(X), resumed.predict_proba(X))
    other = np.where(y == "anger", "joy", y)
    with pytest.raises(ValueError, match="saved for other data"):
        SERClassifier(checkpoint=path, **kw).fit(X, other)


def test_speaker_standardisation_per_speaker_statistics(rng):
    # Two speakers with very different levels and spreads: each comes out of speaker
    # standardisation near mean 0 and std 1 (200 utterances outweigh the 5-utterance prior).
    X = np.concatenate(
        [rng.normal(5.0, 2.0, size=(200, 4, 10)), rng.normal(-2.0, 1.0, size=(200, 4, 10))]
    ).astype(np.float32)
    y = np.array(["a", "b"] * 200)
    groups = np.repeat(["loud", "quiet"], 200)
    clf = SERClassifier(standardize="speaker", max_epochs=1, random_state=0, **TINY)
    clf.fit(X, y, groups=groups)
    rows = clf.scaler_.transform(X, groups=groups)
    for speaker in ("loud", "quiet"):
        part = rows[groups == speaker]
        np.testing.assert_allclose(part.mean(axis=(0, 2)), 0.0, atol=0.1)
        np.testing.assert_allclose(part.std(axis=(0, 2)), 1.0, atol=0.1)
    # Corpus standardisation leaves the speakers apart.
    corpus = (X - clf.feature_mean_[:, None]) / clf.feature_scale_[:, None]
    assert corpus[groups == "loud"].mean() > 0.5 > -0.5 > corpus[groups == "quiet"].mean()


def test_speaker_standardisation_uses_prediction_groups(data):
    X, y, groups = data
    clf = SERClassifier(standardize="speaker", max_epochs=3, random_state=0, **TINY)
    clf.fit(X[:60], y[:60], groups=groups[:60])
    X_test = X[60:].copy()
    X_test[:15] += 4.0  # the first test speaker is much louder than the second
    test_groups = groups[60:]
    together = clf.predict_proba(X_test, groups=test_groups)
    # Speakers are standardised independently: predicting each alone changes nothing...
    for speaker in np.unique(test_groups):
        mask = test_groups == speaker
        np.testing.assert_allclose(
            clf.predict_proba(X_test[mask], groups=test_groups[mask]), together[mask], atol=1e-5
        )
    # ...while pooling both speakers' statistics (no groups) does.
    assert not np.allclose(clf.predict_proba(X_test), together, atol=1e-3)
    assert clf.transform(X_test, groups=test_groups).shape == (30, 8)
    assert clf.score(X_test, y[60:], groups=test_groups) == np.mean(
        clf.predict(X_test, groups=test_groups) == y[60:]
    )
    with pytest.raises(ValueError, match="one entry per sample"):
        clf.predict(X_test, groups=test_groups[:3])


def test_corpus_standardisation_ignores_groups(data):
    X, y, groups = data
    clf = SERClassifier(max_epochs=2, random_state=0, **TINY).fit(X, y, groups=groups)
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X, groups=groups))


def test_fit_transform_passes_groups(data):
    X, y, groups = data
    params = dict(standardize="speaker", max_epochs=2, random_state=0, **TINY)
    emb = SERClassifier(**params).fit_transform(X, y, groups=groups)
    ref = SERClassifier(**params).fit(X, y, groups=groups).transform(X, groups=groups)
    np.testing.assert_allclose(emb, ref, atol=1e-5)


def test_bad_standardize_names_parameter(data):
    X, y, _ = data
    with pytest.raises(
        ValueError, match=r"'standardize' parameter of SERClassifier must be a str among .*Got 'z'"
    ):
        SERClassifier(standardize="z").fit(X, y)


def test_prediction_groups_of_wrong_length_are_named(data):
    X, y, groups = data
    clf = SERClassifier(standardize="speaker", max_epochs=1, random_state=0, **TINY)
    clf.fit(X, y, groups=groups)
    with pytest.raises(ValueError, match=rf"groups must have one entry per sample \({len(X)}\)"):
        clf.predict(X, groups=groups[:-1])


def test_trained_convolutions_stay_channels_last(data):
    # The layout that makes CPU training about twice as fast must survive skorch's
    # initialisation and the move to the device.
    X, y, _ = data
    clf = SERClassifier(max_epochs=1, random_state=0, **TINY).fit(X, y)
    convs = [m for m in clf.net_.module_.modules() if isinstance(m, nn.Conv2d)]
    assert convs and all(c.weight.is_contiguous(memory_format=torch.channels_last) for c in convs)
