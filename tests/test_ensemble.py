"""LateFusionClassifier: soft voting that hands speaker ids to every member."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import check_estimator

from sklearn_ser.ensemble import LateFusionClassifier
from sklearn_ser.preprocessing import SpeakerStandardScaler


def _members():
    return [
        ("lr", LogisticRegression()),
        ("scaled", make_pipeline(SpeakerStandardScaler(), LogisticRegression())),
    ]


@pytest.fixture
def data(rng):
    groups = np.repeat(np.arange(4), 16)
    y = np.tile(["calm", "angry"], 32)
    X = rng.normal(size=(64, 3)) + (y == "angry")[:, None] + 6 * rng.normal(size=(4, 3))[groups]
    return X, y, groups


def test_check_estimator():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # members fitted without groups
        check_estimator(LateFusionClassifier(_members()))


def test_groups_reach_a_scaler_inside_a_member_with_routing_off(data):
    X, y, groups = data
    assert not sklearn.get_config()["enable_metadata_routing"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "fitted without groups"
        fusion = LateFusionClassifier(_members()).fit(X, y, groups=groups)
    assert fusion.named_estimators_.scaled[0].n_speakers_ == 4
    assert not sklearn.get_config()["enable_metadata_routing"]  # left as it was
    with_ctx = fusion.predict_proba(X, groups=groups)
    alone = fusion.predict_proba(X)
    assert not np.allclose(with_ctx, alone)
    np.testing.assert_allclose(with_ctx.sum(1), 1)


def test_average_is_weighted(data):
    X, y, groups = data
    fusion = LateFusionClassifier(_members(), weights=[1, 3]).fit(X, y, groups=groups)
    parts = [
        fusion.named_estimators_.lr.predict_proba(X),
        fusion.named_estimators_.scaled.predict_proba(X),
    ]
    np.testing.assert_allclose(fusion.predict_proba(X), 0.25 * parts[0] + 0.75 * parts[1])


def test_without_groups_each_sample_alone(data):
    X, y, groups = data
    fusion = LateFusionClassifier(_members()).fit(X, y, groups=groups)
    batch = fusion.predict(X)
    assert [fusion.predict(X[i : i + 1])[0] for i in range(5)] == batch[:5].tolist()


def test_routed_by_a_search_with_routing_on(data):
    X, y, groups = data
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            LateFusionClassifier(_members()), {"weights": [None, [1, 2]]}, cv=LeaveOneGroupOut()
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            search.fit(X, y, groups=groups)
    assert search.best_estimator_.named_estimators_.scaled[0].n_speakers_ == 4


@pytest.mark.parametrize(
    "params, match",
    [
        ({"estimators": []}, "non-empty"),
        ({"estimators": [("a", LogisticRegression()), ("a", LogisticRegression())]}, "unique"),
        ({"estimators": [("a", SpeakerStandardScaler())]}, "predict_proba"),
        ({"estimators": _members(), "weights": [1.0]}, "2 non-negative numbers"),
    ],
)
def test_bad_parameters(data, params, match):
    X, y, groups = data
    with pytest.raises(ValueError, match=match):
        LateFusionClassifier(**params).fit(X, y, groups=groups)


def test_members_with_different_classes_rejected(data):
    X, y, _ = data

    class Renamed(LogisticRegression):
        def fit(self, X, y):
            return super().fit(X, np.where(y == "calm", "neutral", y))

    with pytest.raises(ValueError, match="different classes"):
        LateFusionClassifier([("a", LogisticRegression()), ("b", Renamed())]).fit(X, y)
