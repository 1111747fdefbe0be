"""Tests of sklearn_ser.model_selection.evaluate_speaker_independent."""

from __future__ import annotations

import json
from typing import ClassVar

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    LeaveOneGroupOut,
    PredefinedSplit,
)
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sklearn_ser.metrics import unweighted_accuracy, weighted_accuracy
from sklearn_ser.model_selection import SpeakerIndependentResult, evaluate_speaker_independent

EMOTIONS = np.array(["ang", "hap", "neu", "sad"])
N_SPEAKERS = 5


@pytest.fixture
def data():
    X, y_int = make_classification(
        n_samples=100,
        n_features=8,
        n_informative=5,
        n_classes=4,
        weights=[0.4, 0.3, 0.2, 0.1],
        random_state=0,
    )
    speakers = np.array([f"spk{i}" for i in np.random.default_rng(0).integers(0, N_SPEAKERS, 100)])
    return X, EMOTIONS[y_int], speakers


def _manual_logo(estimator, X, y, groups):
    y_pred = np.empty_like(y)
    fold_ua, fold_wa = [], []
    for train, test in LeaveOneGroupOut().split(X, y, groups):
        est = clone(estimator).fit(X[train], y[train])
        y_pred[test] = est.predict(X[test])
        fold_ua.append(unweighted_accuracy(y[test], y_pred[test]))
        fold_wa.append(weighted_accuracy(y[test], y_pred[test]))
    return y_pred, np.array(fold_ua), np.array(fold_wa)


def test_pooled_predictions_equal_manual_loop(data):
    X, y, groups = data
    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    res = evaluate_speaker_independent(est, X, y, groups)
    y_manual, fold_ua, fold_wa = _manual_logo(est, X, y, groups)

    assert isinstance(res, SpeakerIndependentResult)
    np.testing.assert_array_equal(res.y_pred, y_manual)
    np.testing.assert_array_equal(res.test_indices, np.arange(len(y)))
    np.testing.assert_allclose(res.fold_ua, fold_ua)
    np.testing.assert_allclose(res.fold_wa, fold_wa)
    assert res.n_folds == N_SPEAKERS
    assert [g.tolist() for g in res.fold_test_groups] == [[f"spk{i}"] for i in range(N_SPEAKERS)]


def test_result_fields_are_consistent(data):
    X, y, groups = data
    res = evaluate_speaker_independent(LogisticRegression(max_iter=500), X, y, groups)

    assert res.ua == pytest.approx(unweighted_accuracy(y, res.y_pred))
    assert res.wa == pytest.approx(weighted_accuracy(y, res.y_pred))
    assert res.ua != pytest.approx(res.wa)  # imbalanced classes
    assert res.ua_std == pytest.approx(np.std(res.fold_ua))
    assert res.wa_std == pytest.approx(np.std(res.fold_wa))
    assert res.confusion_matrix.sum() == len(y)
    np.testing.assert_array_equal(res.labels, EMOTIONS)
    np.testing.assert_array_equal(
        res.confusion_matrix, confusion_matrix(y, res.y_pred, labels=res.labels)
    )
    # per-class recall = diagonal / row sums of the pooled confusion matrix
    diag = np.diag(res.confusion_matrix) / res.confusion_matrix.sum(axis=1)
    assert res.per_class_recall == pytest.approx(dict(zip(EMOTIONS.tolist(), diag)))
    assert list(res.per_speaker_accuracy) == [f"spk{i}" for i in range(N_SPEAKERS)]
    for spk, acc in res.per_speaker_accuracy.items():
        mask = groups == spk
        assert acc == pytest.approx(np.mean(res.y_pred[mask] == y[mask]))
    assert res.fit_time.shape == res.predict_time.shape == (N_SPEAKERS,)
    assert np.all(res.fit_time >= 0)


def test_parallel_equals_serial(data):
    X, y, groups = data
    est = LogisticRegression(max_iter=500)
    serial = evaluate_speaker_independent(est, X, y, groups, n_jobs=1)
    parallel = evaluate_speaker_independent(est, X, y, groups, n_jobs=2)
    np.testing.assert_array_equal(serial.y_pred, parallel.y_pred)
    np.testing.assert_allclose(serial.fold_ua, parallel.fold_ua)
    np.testing.assert_array_equal(serial.confusion_matrix, parallel.confusion_matrix)
    assert serial.ua == parallel.ua and serial.wa == parallel.wa


class GroupRecorder(ClassifierMixin, BaseEstimator):
    """Column 0 of X is the speaker id; checks groups at fit and speaker-disjointness at predict.

    Every instance appends the groups it received to the class-level ``calls`` list.
    """

    calls: ClassVar[list] = []

    def fit(self, X, y, groups=None):
        X = np.asarray(X)
        if groups is not None:
            groups = np.asarray(groups)
            # the groups must be aligned with the training rows
            np.testing.assert_array_equal(groups, X[:, 0])
        self.groups_ = groups
        GroupRecorder.calls.append(groups)
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[np.argmax(counts)]
        return self

    def predict(self, X):
        X = np.asarray(X)
        if self.groups_ is not None:
            leaked = np.intersect1d(self.groups_, X[:, 0])
            assert leaked.size == 0, f"held-out speakers {leaked} were in the fit groups"
        return np.full(X.shape[0], self.majority_)


@pytest.fixture
def numeric_speaker_data():
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(4), 6)
    X = np.column_stack([groups, rng.normal(size=(24, 2))])
    y = rng.choice(EMOTIONS[:2], size=24)
    return X, y, groups


@pytest.mark.parametrize(
    "make_est",
    [
        GroupRecorder,
        lambda: Pipeline([("ident", FunctionTransformer()), ("ser", GroupRecorder())]),
    ],
    ids=["estimator", "pipeline"],
)
def test_training_groups_passed_without_held_out_speaker(numeric_speaker_data, make_est):
    X, y, groups = numeric_speaker_data
    GroupRecorder.calls = []
    res = evaluate_speaker_independent(make_est(), X, y, groups)
    assert len(GroupRecorder.calls) == 4
    for held_out, received in zip(res.fold_test_groups, GroupRecorder.calls):
        assert received is not None
        assert held_out[0] not in received
        assert set(received.tolist()) == set(range(4)) - {held_out[0]}


def test_groups_not_passed_to_estimators_without_groups(numeric_speaker_data):
    X, y, groups = numeric_speaker_data
    # LogisticRegression.fit has no groups parameter: passing one would raise a TypeError.
    res = evaluate_speaker_independent(
        Pipeline([("ident", FunctionTransformer()), ("clf", LogisticRegression())]), X, y, groups
    )
    assert res.y_pred.shape == (24,)


def test_user_groups_in_fit_params_take_precedence(numeric_speaker_data):
    X, y, groups = numeric_speaker_data
    GroupRecorder.calls = []
    # Same values as the automatic groups (the recorder checks alignment with X[:, 0]) but
    # given explicitly: they are indexed per fold like any per-sample fit parameter.
    evaluate_speaker_independent(GroupRecorder(), X, y, groups, fit_params={"groups": groups})
    assert [len(g) for g in GroupRecorder.calls] == [18] * 4


def test_nested_grid_search_gets_training_speakers(data):
    X, y, groups = data
    search = GridSearchCV(
        LogisticRegression(max_iter=500), {"C": [0.1, 1.0]}, cv=LeaveOneGroupOut()
    )
    # Without the training speakers, LeaveOneGroupOut inside the search would raise.
    res = evaluate_speaker_independent(search, X, y, groups, cv=GroupKFold(n_splits=3))
    assert res.n_folds == 3
    assert res.confusion_matrix.sum() == len(y)


def test_fit_params_indexed_per_fold(data):
    X, y, groups = data
    weights = np.random.default_rng(0).uniform(0.1, 2.0, size=len(y))
    res = evaluate_speaker_independent(
        LogisticRegression(max_iter=500), X, y, groups, fit_params={"sample_weight": weights}
    )
    expected = np.empty_like(y)
    for train, test in LeaveOneGroupOut().split(X, y, groups):
        clf = LogisticRegression(max_iter=500).fit(X[train], y[train], sample_weight=weights[train])
        expected[test] = clf.predict(X[test])
    np.testing.assert_array_equal(res.y_pred, expected)


_TABLE: dict[str, np.ndarray] = {}


def _lookup_features(paths):
    assert isinstance(paths, list) and all(isinstance(p, str) for p in paths)
    return np.stack([_TABLE[p] for p in paths])


def _waveform_stats(waves):
    assert isinstance(waves, list)
    return np.array([[np.mean(w), np.std(w), np.max(np.abs(w))] for w in waves])


def test_list_of_paths_and_ragged_waveforms(data):
    X, y, groups = data
    paths = [f"/corpus/{g}/utt{i:03d}.wav" for i, g in enumerate(groups)]
    _TABLE.clear()
    _TABLE.update(zip(paths, X))
    est_paths = make_pipeline(FunctionTransformer(_lookup_features), LogisticRegression())
    res_paths = evaluate_speaker_independent(est_paths, paths, y, groups)
    res_array = evaluate_speaker_independent(LogisticRegression(), X, y, groups)
    np.testing.assert_array_equal(res_paths.y_pred, res_array.y_pred)

    rng = np.random.default_rng(0)
    waves = [rng.normal(scale=1 + (lab == "ang"), size=rng.integers(50, 200)) for lab in y]
    est_waves = make_pipeline(FunctionTransformer(_waveform_stats), LogisticRegression())
    res_waves = evaluate_speaker_independent(est_waves, waves, y, groups)
    assert res_waves.y_pred.shape == (len(y),)


def test_cv_options(data):
    X, y, groups = data
    est = LogisticRegression(max_iter=500)
    logo = evaluate_speaker_independent(est, X, y, groups)
    pairs = list(LeaveOneGroupOut().split(X, y, groups))
    from_pairs = evaluate_speaker_independent(est, X, y, groups, cv=iter(pairs))
    np.testing.assert_array_equal(logo.y_pred, from_pairs.y_pred)

    as_int = evaluate_speaker_independent(est, X, y, groups, cv=2)
    as_splitter = evaluate_speaker_independent(est, X, y, groups, cv=GroupKFold(n_splits=2))
    assert as_int.n_folds == 2
    np.testing.assert_array_equal(as_int.y_pred, as_splitter.y_pred)
    assert as_int.cv_name == "GroupKFold"


def test_partial_test_coverage_with_predefined_split(data):
    X, y, groups = data
    test_fold = np.where(groups == "spk0", 0, -1)  # a single held-out speaker
    res = evaluate_speaker_independent(
        LogisticRegression(max_iter=500), X, y, groups, cv=PredefinedSplit(test_fold)
    )
    np.testing.assert_array_equal(res.test_indices, np.flatnonzero(groups == "spk0"))
    assert res.y_pred.shape == res.test_indices.shape
    assert res.confusion_matrix.sum() == np.sum(groups == "spk0")
    assert list(res.per_speaker_accuracy) == ["spk0"]
    assert res.ua == pytest.approx(unweighted_accuracy(y[res.test_indices], res.y_pred))


def test_verbose_prints_one_line_per_fold(data, capsys):
    X, y, groups = data
    res = evaluate_speaker_independent(LogisticRegression(), X, y, groups, verbose=1)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("[fold")]
    assert len(lines) == N_SPEAKERS
    for k, line in enumerate(lines):
        assert line.startswith(f"[fold {k + 1}/{N_SPEAKERS}] speaker(s) spk{k}:")
        assert f"UA={res.fold_ua[k]:.3f}" in line and f"WA={res.fold_wa[k]:.3f}" in line
    evaluate_speaker_independent(LogisticRegression(), X, y, groups, verbose=0)
    assert capsys.readouterr().out == ""


def test_text_and_dict_reports(data):
    X, y, groups = data
    res = evaluate_speaker_independent(LogisticRegression(max_iter=500), X, y, groups)
    text = str(res)
    assert text == res.to_text()
    assert f"UA {res.ua:.3f}" in text and f"WA {res.wa:.3f}" in text
    assert "LeaveOneGroupOut, 5 folds, 100 utterances" in text
    for name in [*EMOTIONS, *(f"spk{i}" for i in range(N_SPEAKERS))]:
        assert name in text
    assert f"UA {res.ua:.1f}" in res.to_text(digits=1)

    d = json.loads(json.dumps(res.to_dict()))
    assert d["ua"] == pytest.approx(res.ua)
    assert d["labels"] == EMOTIONS.tolist()
    assert np.sum(d["confusion_matrix"]) == len(y)
    assert d["y_pred"] == res.y_pred.tolist()
    assert set(d["per_speaker_accuracy"]) == {f"spk{i}" for i in range(N_SPEAKERS)}


def test_length_mismatch_names_lengths(data):
    X, y, groups = data
    with pytest.raises(ValueError, match=r"len\(X\)=100, len\(y\)=99, len\(groups\)=100"):
        evaluate_speaker_independent(LogisticRegression(), X, y[:-1], groups)
    with pytest.raises(ValueError, match=r"len\(X\)=3, len\(y\)=100, len\(groups\)=100"):
        evaluate_speaker_independent(LogisticRegression(), ["a.wav", "b.wav", "c.wav"], y, groups)


def test_single_group_with_default_cv(data):
    X, y, _ = data
    with pytest.raises(ValueError, match=r"at least 2 distinct groups.*got 1"):
        evaluate_speaker_independent(LogisticRegression(), X, y, ["spk0"] * len(y))


def test_bad_cv_values(data):
    X, y, groups = data
    est = LogisticRegression()
    with pytest.raises(ValueError, match="cv as an integer must be at least 2"):
        evaluate_speaker_independent(est, X, y, groups, cv=1)
    with pytest.raises(ValueError, match="overlap"):
        evaluate_speaker_independent(
            est, X, y, groups, cv=[(np.arange(50), np.arange(50, 100))] * 2
        )
    with pytest.raises(ValueError, match="yielded no"):
        evaluate_speaker_independent(est, X, y, groups, cv=[])
    with pytest.raises(ValueError, match="iterable of"):
        evaluate_speaker_independent(est, X, y, groups, cv=3.5)


def test_warns_when_fold_is_not_speaker_independent(data):
    X, y, groups = data
    with pytest.warns(UserWarning, match="not speaker-independent"):
        evaluate_speaker_independent(LogisticRegression(), X, y, groups, cv=KFold(3))


class PredictGroupRecorder(GroupRecorder):
    """Records the groups its predict receives (speaker standardisation needs them)."""

    predict_calls: ClassVar[list] = []

    def predict(self, X, groups=None):
        PredictGroupRecorder.predict_calls.append(groups)
        return super().predict(X)


@pytest.mark.parametrize("in_pipeline", [False, True])
def test_test_speakers_passed_to_predict_that_takes_groups(numeric_speaker_data, in_pipeline):
    X, y, groups = numeric_speaker_data
    PredictGroupRecorder.predict_calls = []
    est = PredictGroupRecorder()
    if in_pipeline:
        est = Pipeline([("ident", FunctionTransformer()), ("ser", est)])
    res = evaluate_speaker_independent(est, X, y, groups, cv=2)
    assert len(PredictGroupRecorder.predict_calls) == 2
    for held_out, received in zip(res.fold_test_groups, PredictGroupRecorder.predict_calls):
        assert len(received) == 12  # one speaker id per test utterance, no labels
        np.testing.assert_array_equal(np.unique(received), np.sort(held_out))
