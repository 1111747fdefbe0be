"""Tests of sklearn_ser.metrics: UA, WA, scorers and the embedding silhouette."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score, silhouette_score
from sklearn.model_selection import GridSearchCV, cross_validate

from sklearn_ser.metrics import (
    SCORING,
    embedding_silhouette,
    get_scorer,
    per_class_recall,
    ua_scorer,
    unweighted_accuracy,
    wa_scorer,
    weighted_accuracy,
)

EMOTIONS = np.array(["ang", "hap", "neu", "sad"])


@pytest.fixture
def string_labels():
    rng = np.random.default_rng(0)
    # Imbalanced classes, so that UA and WA differ.
    y_true = rng.choice(EMOTIONS, size=200, p=[0.5, 0.25, 0.15, 0.1])
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.choice(EMOTIONS, size=200))
    return y_true, y_pred


def test_ua_hand_computed_by_counting():
    y_true = ["ang", "ang", "ang", "ang", "sad", "sad", "neu"]
    y_pred = ["ang", "ang", "ang", "sad", "sad", "ang", "sad"]
    # ang 3/4, sad 1/2, neu 0/1
    assert unweighted_accuracy(y_true, y_pred) == pytest.approx((3 / 4 + 1 / 2 + 0) / 3)
    assert weighted_accuracy(y_true, y_pred) == pytest.approx(4 / 7)
    assert per_class_recall(y_true, y_pred) == pytest.approx({"ang": 0.75, "neu": 0.0, "sad": 0.5})


def test_ua_wa_match_sklearn_on_strings(string_labels):
    y_true, y_pred = string_labels
    ua = unweighted_accuracy(y_true, y_pred)
    wa = weighted_accuracy(y_true, y_pred)
    assert ua == pytest.approx(balanced_accuracy_score(y_true, y_pred))
    assert wa == pytest.approx(accuracy_score(y_true, y_pred))
    assert ua != pytest.approx(wa)  # imbalanced: the two really differ
    assert isinstance(ua, float) and isinstance(wa, float)


def test_per_class_recall_counts_and_keys(string_labels):
    y_true, y_pred = string_labels
    recalls = per_class_recall(y_true, y_pred)
    assert list(recalls) == sorted(EMOTIONS.tolist())
    assert all(type(k) is str for k in recalls)
    for label, recall in recalls.items():
        n_true = sum(t == label for t in y_true)
        n_hit = sum(t == label and p == label for t, p in zip(y_true, y_pred))
        assert recall == pytest.approx(n_hit / n_true)
    assert np.mean(list(recalls.values())) == pytest.approx(unweighted_accuracy(y_true, y_pred))


def test_ua_ignores_classes_only_predicted():
    # "hap" is predicted but never true: like balanced_accuracy it does not enter the mean.
    y_true = [0, 0, 1, 1]
    y_pred = [0, 2, 1, 1]
    assert unweighted_accuracy(y_true, y_pred) == pytest.approx((0.5 + 1.0) / 2)
    with pytest.warns(UserWarning):
        expected = balanced_accuracy_score(y_true, y_pred)
    assert unweighted_accuracy(y_true, y_pred) == pytest.approx(expected)


def test_ua_labels_subset_and_order():
    y_true = ["ang", "ang", "sad", "sad", "neu", "neu"]
    y_pred = ["ang", "ang", "sad", "neu", "sad", "sad"]
    assert unweighted_accuracy(y_true, y_pred, labels=["sad", "ang"]) == pytest.approx(0.75)
    assert list(per_class_recall(y_true, y_pred, labels=["sad", "ang"])) == ["sad", "ang"]
    with pytest.raises(ValueError, match=r"labels contains \['hap'\]"):
        unweighted_accuracy(y_true, y_pred, labels=["ang", "hap"])
    with pytest.raises(ValueError, match="at least one label"):
        unweighted_accuracy(y_true, y_pred, labels=[])


@pytest.mark.parametrize("func", [unweighted_accuracy, weighted_accuracy])
def test_input_validation(func):
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        func(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="empty"):
        func([], [])
    with pytest.raises(ValueError, match="Mix of label input types"):
        func(["a", "b"], [0, 1])


def test_perfect_and_worst():
    y = ["ang", "sad", "neu", "sad"]
    assert unweighted_accuracy(y, y) == 1.0
    assert weighted_accuracy(y, y) == 1.0
    wrong = ["sad", "neu", "ang", "ang"]
    assert unweighted_accuracy(y, wrong) == 0.0
    assert weighted_accuracy(y, wrong) == 0.0


@pytest.fixture
def clf_data():
    X, y = make_classification(
        n_samples=150,
        n_classes=3,
        n_informative=4,
        weights=[0.6, 0.3, 0.1],
        random_state=0,
    )
    return X, EMOTIONS[:3][y]


def test_scorers_match_metrics(clf_data):
    X, y = clf_data
    clf = LogisticRegression(max_iter=500).fit(X, y)
    y_pred = clf.predict(X)
    assert ua_scorer(clf, X, y) == pytest.approx(unweighted_accuracy(y, y_pred))
    assert wa_scorer(clf, X, y) == pytest.approx(weighted_accuracy(y, y_pred))
    assert get_scorer("ua")(clf, X, y) == pytest.approx(get_scorer("balanced_accuracy")(clf, X, y))
    assert get_scorer("wa")(clf, X, y) == pytest.approx(get_scorer("accuracy")(clf, X, y))
    assert get_scorer("unweighted_accuracy")(clf, X, y) == pytest.approx(ua_scorer(clf, X, y))
    assert get_scorer("weighted_accuracy")(clf, X, y) == pytest.approx(wa_scorer(clf, X, y))


def test_get_scorer_returns_copies_and_falls_back():
    assert get_scorer("ua") is not ua_scorer
    assert get_scorer("f1_macro") is not None  # a scikit-learn name
    assert get_scorer(None) is None
    with pytest.raises(ValueError, match=r"'nope' is not a valid scoring value.*'ua'"):
        get_scorer("nope")


def test_scoring_dict_in_cross_validate_and_grid_search(clf_data):
    X, y = clf_data
    cv_res = cross_validate(LogisticRegression(max_iter=500), X, y, cv=3, scoring=SCORING)
    builtin = cross_validate(
        LogisticRegression(max_iter=500),
        X,
        y,
        cv=3,
        scoring={"ua": "balanced_accuracy", "wa": "accuracy"},
    )
    np.testing.assert_allclose(cv_res["test_ua"], builtin["test_ua"])
    np.testing.assert_allclose(cv_res["test_wa"], builtin["test_wa"])

    search = GridSearchCV(
        LogisticRegression(max_iter=500), {"C": [0.01, 1.0]}, scoring=SCORING, refit="ua", cv=3
    ).fit(X, y)
    assert {"mean_test_ua", "mean_test_wa"} <= set(search.cv_results_)
    assert search.best_score_ == pytest.approx(max(search.cv_results_["mean_test_ua"]))


def test_embedding_silhouette_matches_sklearn_and_separates():
    X, y = make_blobs(n_samples=60, centers=3, n_features=5, cluster_std=0.5, random_state=0)
    labels = EMOTIONS[y]
    score = embedding_silhouette(X, labels)
    assert score == pytest.approx(silhouette_score(X, y))
    assert score > 0.7
    assert embedding_silhouette(X, labels, metric="cosine") == pytest.approx(
        silhouette_score(X, y, metric="cosine")
    )
    shuffled = np.random.default_rng(0).permutation(labels)
    assert embedding_silhouette(X, shuffled) < 0.1


def test_embedding_silhouette_errors():
    X = np.random.default_rng(0).normal(size=(6, 3))
    with pytest.raises(ValueError, match=r"at least 2 distinct labels, got 1"):
        embedding_silhouette(X, ["ang"] * 6)
    with pytest.raises(ValueError, match="fewer distinct labels than samples"):
        embedding_silhouette(X, list("abcdef"))
    with pytest.raises(ValueError, match="6 embeddings and 5 labels"):
        embedding_silhouette(X, ["a", "b"] * 2 + ["a"])
    with pytest.raises(ValueError, match="2-D"):
        embedding_silhouette(X[:, 0], ["a", "b"] * 3)
