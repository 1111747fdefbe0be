"""Speaker ids through scikit-learn's metadata routing, and batch-independent predictions.

Each test here fails on the behaviour before routing: groups reached only the splitter of
a search, ``pipe.transform(X, groups=...)`` raised, and without groups all of ``X`` counted
as one speaker, so a file's label depended on the other files of the call.
"""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.ensemble import StackingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    LeaveOneGroupOut,
    cross_val_predict,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_ser import SERClassifier, make_ser_pipeline
from sklearn_ser.model_selection import evaluate_speaker_independent
from sklearn_ser.preprocessing import SpeakerStandardScaler

TINY = {"module__channels": (4,), "module__embedding_dim": 4, "batch_size": 16}


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


@pytest.fixture
def data(rng):
    """Three emotions; four speakers with their own offsets and spreads."""
    X = rng.normal(size=(48, 6, 8)).astype(np.float32)
    y = np.array(["anger", "neutral", "sadness"] * 16)
    X[y == "anger", :2] += 1.5
    X[y == "sadness", 4:] += 1.5
    groups = np.repeat(["a", "b", "c", "d"], 12)
    X[groups == "b"] += 3.0
    X[groups == "c"] *= 2.0
    return X, y, groups


def speaker_clf(**params):
    kw = {"standardize": "speaker", "max_epochs": 2, "random_state": 0, **TINY}
    return SERClassifier(**{**kw, **params})


def pipeline(**params):
    return make_pipeline(FunctionTransformer(), speaker_clf(**params))


def assert_per_speaker(clf, n_speakers):
    assert clf.scaler_.n_speakers_ == n_speakers
    assert not np.allclose(clf.speaker_scale_, clf.feature_scale_)


# ------------------------------------------------------------------ routing
def test_make_ser_pipeline_requests_groups(routing):
    routing_info = make_ser_pipeline("cnn").get_metadata_routing()
    for method in ("fit", "predict", "predict_proba", "transform", "score"):
        assert routing_info.consumes(method, ["groups"]) == {"groups"}, method
    routing_info = make_ser_pipeline().get_metadata_routing()  # functionals
    for method in ("fit", "predict", "predict_proba", "score"):
        assert routing_info.consumes(method, ["groups"]) == {"groups"}, method


def test_grid_search_fits_per_speaker_statistics(data, routing):
    X, y, groups = data
    search = GridSearchCV(pipeline(), {"serclassifier__lr": [1e-3]}, cv=LeaveOneGroupOut())
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "fitted without groups"
        search.fit(X, y, groups=groups)
    assert_per_speaker(search.best_estimator_[-1], n_speakers=4)
    # A search's predict takes no metadata: its best estimator's does.
    proba = search.best_estimator_.predict_proba(X, groups=groups)
    np.testing.assert_allclose(
        proba, search.best_estimator_[-1].predict_proba(X, groups=groups), atol=1e-6
    )


def test_grid_search_without_routing_warns_and_legacy_path_works(data):
    X, y, groups = data
    search = GridSearchCV(speaker_clf(), {"lr": [1e-3]}, cv=LeaveOneGroupOut())
    with pytest.warns(UserWarning, match="enable_metadata_routing"):
        search.fit(X, y, groups=groups)
    assert search.best_estimator_.scaler_.n_speakers_ == 0
    legacy = GridSearchCV(pipeline(), {"serclassifier__lr": [1e-3]}, cv=LeaveOneGroupOut())
    legacy.fit(X, y, groups=groups, serclassifier__groups=groups)
    assert_per_speaker(legacy.best_estimator_[-1], n_speakers=4)


def test_pipeline_transform_and_score_with_groups(data, routing):
    X, y, groups = data
    pipe = pipeline().fit(X, y, groups=groups)
    clf = pipe[-1]
    np.testing.assert_array_equal(pipe.transform(X, groups=groups), clf.transform(X, groups=groups))
    assert not np.allclose(pipe.transform(X, groups=groups), pipe.transform(X), atol=1e-4)
    assert pipe.score(X, y, groups=groups) == clf.score(X, y, groups=groups)


def test_cross_validate_and_cross_val_predict(data, routing):
    X, y, groups = data
    res = cross_validate(
        pipeline(), X, y, cv=LeaveOneGroupOut(), params={"groups": groups}, return_estimator=True
    )
    assert len(res["estimator"]) == 4
    for est in res["estimator"]:
        assert_per_speaker(est[-1], n_speakers=3)
    # cross_val_predict routes groups to fit and the splitter; its predict gets none, so
    # each held-out file is predicted alone (the "file" protocol).
    pred = cross_val_predict(pipeline(), X, y, cv=LeaveOneGroupOut(), params={"groups": groups})
    assert pred.shape == (48,)


def test_stacking_classifier(data, routing):
    X, y, groups = data
    Xf = X.reshape(len(X), -1)
    stack = StackingClassifier(
        [("ser", speaker_clf()), ("lr", LogisticRegression(max_iter=200))],
        # scikit-learn hands the final estimator its fit's metadata unrouted, so it must
        # take groups: here a pipeline whose scaler requests them.
        final_estimator=make_pipeline(SpeakerStandardScaler(), LogisticRegression()),
        cv=3,
    )
    stack.fit(Xf, y, groups=groups)
    assert_per_speaker(stack.named_estimators_["ser"], n_speakers=4)
    assert stack.final_estimator_[0].n_speakers_ == 4
    assert stack.predict(Xf).shape == (48,)


def test_scaler_then_classifier_both_get_groups(data, routing):
    X, y, groups = data
    pipe = make_pipeline(SpeakerStandardScaler(), speaker_clf()).fit(X, y, groups=groups)
    assert pipe[0].n_speakers_ == 4 and pipe[1].scaler_.n_speakers_ == 4


# ------------------------------------------------------------------ evaluation
def _evaluate_both_protocols(data, routing_on):
    X, y, groups = data
    with sklearn.config_context(enable_metadata_routing=routing_on):
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # the classifier got its speakers
            speaker = evaluate_speaker_independent(pipeline(), X, y, groups, cv=2)
            both = evaluate_speaker_independent(pipeline(), X, y, groups, cv=2, protocol="both")
    file = both["file"]
    assert speaker.protocol == "speaker" and file.protocol == "file"
    assert speaker.to_dict()["protocol"] == "speaker" and "file protocol" in file.to_text()
    # One fit per fold serves both protocols, and gives what a fit per protocol gives.
    np.testing.assert_array_equal(both["speaker"].y_pred, speaker.y_pred)
    np.testing.assert_array_equal(both["speaker"].fit_time, file.fit_time)
    return speaker.y_pred, file.y_pred


def test_evaluate_same_predictions_with_and_without_routing(data):
    on = _evaluate_both_protocols(data, True)
    off = _evaluate_both_protocols(data, False)
    np.testing.assert_array_equal(on[0], off[0])
    np.testing.assert_array_equal(on[1], off[1])


@pytest.mark.parametrize("routing_on", [False, True])
def test_evaluate_search_over_pipeline(data, routing_on):
    X, y, groups = data
    search = GridSearchCV(pipeline(), {"serclassifier__lr": [1e-3]}, cv=LeaveOneGroupOut())
    with sklearn.config_context(enable_metadata_routing=routing_on):
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            res = evaluate_speaker_independent(search, X, y, groups, cv=2)
    assert res.y_pred.shape == (48,)


@pytest.mark.parametrize(
    "protocol, match",
    [
        ("batch", r"'protocol' parameter .* must be a str among .*Got 'batch'"),
        (["file", "batch"], r"protocol must be one of .*\['file', 'batch'\]"),
        (["file", "file"], r"list of distinct ones"),
        ([], r"protocol must be one of"),
    ],
)
def test_evaluate_rejects_unknown_protocol(data, protocol, match):
    with pytest.raises(ValueError, match=match):
        evaluate_speaker_independent(LogisticRegression(), *data[:2], data[2], protocol=protocol)


def test_evaluate_protocol_list_gives_one_result_each(data):
    X, y, groups = data
    results = evaluate_speaker_independent(
        LogisticRegression(), X.reshape(len(X), -1), y, groups, cv=2, protocol=("speaker",)
    )
    assert list(results) == ["speaker"] and results["speaker"].n_folds == 2


# ------------------------------------------------------------------ batch independence
@pytest.mark.parametrize("standardize", ["corpus", "speaker"])
def test_same_file_same_answer_alone_and_in_a_batch(data, standardize):
    X, y, groups = data
    clf = SERClassifier(standardize=standardize, max_epochs=2, random_state=0, **TINY)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        clf.fit(X, y, groups=groups)
    silent = np.zeros((1, *X.shape[1:]), dtype=np.float32)
    odd = np.full((1, *X.shape[1:]), 50.0, dtype=np.float32)  # a very loud extra file
    batch = np.concatenate([X[:5], silent, odd])
    alone = np.concatenate([clf.predict_proba(X[i : i + 1]) for i in range(5)])
    in_batch = clf.predict_proba(batch)[:5]
    np.testing.assert_allclose(in_batch, alone, rtol=1e-5, atol=1e-6)
    assert (clf.predict(batch)[:5] == clf.classes_[alone.argmax(1)]).all()
    np.testing.assert_allclose(clf.transform(batch)[:5], clf.transform(X[:5]), rtol=1e-5, atol=1e-5)


def test_speaker_standardisation_without_groups_warns_with_the_fix(data):
    X, y, _ = data
    with pytest.warns(UserWarning, match=r"without groups.*groups=speaker_ids.*routing"):
        clf = speaker_clf().fit(X, y)
    assert clf.scaler_.n_speakers_ == 0
    np.testing.assert_array_equal(clf.speaker_scale_, clf.feature_scale_)


def test_speaker_context_random(data):
    X, y, groups = data
    full = speaker_clf().fit(X, y, groups=groups)
    rand = speaker_clf(speaker_context="random").fit(X, y, groups=groups)
    again = speaker_clf(speaker_context="random").fit(X, y, groups=groups)
    np.testing.assert_array_equal(rand.predict_proba(X), again.predict_proba(X))
    assert not np.allclose(rand.predict_proba(X), full.predict_proba(X))
    # the subsets: each row's statistics from 1 to all of its speaker's rows, it included
    from sklearn_ser.preprocessing import _random_subsets  # the helper under test

    context = dict(rand.net_.callbacks_)["speaker_context"]
    first, second = context.draw(0, epoch=0), context.draw(0, epoch=1)
    assert first.mean.shape == (48, 6) and not np.allclose(first.mean, second.mean)
    # every subset holds its row and only its speaker's; sizes span 1 to all (12)
    codes = SpeakerStandardScaler.moments(X, groups).codes
    subsets = _random_subsets(codes, np.random.default_rng([0, 1]))
    for i, rows in enumerate(subsets):
        assert rows[0] == i and len(set(rows)) == len(rows) and set(groups[rows]) == {groups[i]}
    draws = [_random_subsets(codes, np.random.default_rng([0, e])) for e in range(5)]
    sizes = {len(rows) for subsets in draws for rows in subsets}
    assert sizes == set(range(1, 13))
    # the statistics were drawn anew for the last epoch of training
    callback = dict(rand.net_.callbacks_)["speaker_context"]
    last = callback.draw(callback.seed, epoch=1)
    np.testing.assert_allclose(callback.dataset.mean, last.mean.astype(np.float32))


# ------------------------------------------------------------------ the timeline's fast path
def test_predict_proba_with_statistics_is_predict_proba_with_groups(data):
    """The statistics path (moments summed over parts) gives predict_proba's answer."""
    from sklearn_ser._groups import speaker_statistics_path
    from sklearn_ser.preprocessing import SpeakerStatistics

    X, y, groups = data
    clf = speaker_clf().fit(X, y, groups=groups)
    scaler, predict_proba = speaker_statistics_path(clf)
    assert scaler is clf.scaler_
    # one speaker's rows in two batches, the statistics of both
    rows = np.flatnonzero(groups == "b")
    one = np.zeros(len(rows), dtype=int)
    moments = scaler.moments(X[rows[:5]], one[:5]).merge(scaler.moments(X[rows[5:]], one[5:]))
    own = scaler.statistics_from_moments(moments)
    batch = rows[5:]
    stats = SpeakerStatistics(np.zeros(len(batch), dtype=int), own.mean, own.scale)
    np.testing.assert_allclose(
        predict_proba(X[batch], stats),
        clf.predict_proba(X[rows], groups=groups[rows])[5:],
        rtol=1e-5,
        atol=1e-6,
    )
    with pytest.raises(ValueError, match="one entry per sample"):
        clf.predict_proba_with_statistics(X[:3], stats)


def test_statistics_path_of_a_scaler_pipeline_and_of_others(data):
    from sklearn_ser._groups import speaker_statistics_path

    X, y, groups = data
    flat = X.reshape(len(X), -1)
    pipe = make_pipeline(SpeakerStandardScaler(), LogisticRegression())
    with sklearn.config_context(enable_metadata_routing=True):
        pipe.fit(flat, y, groups=groups)
        expected = pipe.predict_proba(flat, groups=groups)
    scaler, predict_proba = speaker_statistics_path(pipe)
    stats = scaler.speaker_statistics(flat, groups)
    np.testing.assert_allclose(predict_proba(flat, stats), expected)
    assert speaker_statistics_path(LogisticRegression().fit(flat, y)) is None


@pytest.mark.parametrize("routing_on", [False, True])
def test_call_with_groups_follows_the_config_when_asked(data, routing_on):
    """routing="config": routed with routing on, the legacy last-step way with it off."""
    from sklearn_ser._groups import call_with_groups, groups_fit_params

    X, y, groups = data
    pipe = make_pipeline(FunctionTransformer(), speaker_clf())
    with sklearn.config_context(enable_metadata_routing=routing_on):
        params = groups_fit_params(pipe, groups)
        assert list(params) == (["groups"] if routing_on else ["serclassifier__groups"])
        pipe.fit(X, y, **params)
        got = call_with_groups(pipe, "predict_proba", X, groups=groups, routing="config")
    np.testing.assert_allclose(got, pipe[-1].predict_proba(X, groups=groups))
    with pytest.raises(ValueError, match="routing must be"):
        call_with_groups(pipe, "predict", X, groups=groups, routing="always")
