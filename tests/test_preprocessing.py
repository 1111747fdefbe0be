"""SpeakerStandardScaler: statistics, batch independence and metadata routing."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import check_estimator

from sklearn_ser.preprocessing import SpeakerStandardScaler


@pytest.fixture
def speakers_data(rng):
    """Four speakers whose features are offset and scaled by the speaker; two classes."""
    n_per = 12
    groups = np.repeat(np.arange(4), n_per)
    y = np.tile([0, 1], 2 * n_per)
    offset = rng.normal(0, 5, size=(4, 3))[groups]
    scale = rng.uniform(1, 3, size=(4, 3))[groups]
    X = offset + scale * (y[:, None] * 1.0 + 0.2 * rng.standard_normal((len(y), 3)))
    return X, y, groups


def test_check_estimator():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # fitted without groups, by design
        check_estimator(SpeakerStandardScaler())


def test_plain_per_speaker_zscore_without_prior(speakers_data):
    X, _, groups = speakers_data
    Xt = SpeakerStandardScaler(prior_utterances=0).fit(X, groups=groups).transform(X, groups)
    for g in np.unique(groups):
        np.testing.assert_allclose(Xt[groups == g].mean(0), 0, atol=1e-12)
        np.testing.assert_allclose(Xt[groups == g].std(0), 1, atol=1e-12)


def test_prior_shrinks_toward_training_statistics(speakers_data):
    X, _, groups = speakers_data
    scaler = SpeakerStandardScaler(prior_utterances=5).fit(X, groups=groups)
    stats = scaler.speaker_statistics(X, groups)
    own = np.array([X[groups == g].mean(0) for g in np.unique(groups)])
    w = 12 / (12 + 5)
    np.testing.assert_allclose(stats.mean, w * own + (1 - w) * scaler.mean_)
    # More prior weight pulls every speaker's mean further toward the training mean.
    far = SpeakerStandardScaler(prior_utterances=500).fit(X, groups=groups)
    far_mean = far.speaker_statistics(X, groups).mean
    assert np.all(np.abs(far_mean - scaler.mean_) < np.abs(stats.mean - scaler.mean_))


def test_without_groups_each_sample_is_alone(speakers_data):
    X, _, groups = speakers_data
    scaler = SpeakerStandardScaler().fit(X, groups=groups)
    batch = scaler.transform(X)
    one_by_one = np.vstack([scaler.transform(X[i : i + 1]) for i in range(len(X))])
    np.testing.assert_allclose(batch, one_by_one)
    # ... and differs from standardising the speakers together.
    assert not np.allclose(batch, scaler.transform(X, groups=groups))


def test_spectrogram_input_standardised_per_bin(rng):
    groups = np.repeat([0, 1], 5)
    X = rng.normal(size=(10, 4, 30)) + np.array([0.0, 10.0])[groups][:, None, None]
    Xt = SpeakerStandardScaler(prior_utterances=0).fit(X, groups=groups).transform(X, groups)
    assert Xt.shape == X.shape and Xt.dtype == X.dtype
    for g in (0, 1):
        np.testing.assert_allclose(Xt[groups == g].mean(axis=(0, 2)), 0, atol=1e-10)
    four_d = SpeakerStandardScaler().fit(X[:, None], groups=groups)
    assert four_d.n_features_in_ == 4


def test_float32_preserved(speakers_data):
    X, _, groups = speakers_data
    Xt = SpeakerStandardScaler().fit_transform(X.astype(np.float32), groups=groups)
    assert Xt.dtype == np.float32


def test_warns_without_groups_and_names_the_fix(speakers_data):
    X, _, _ = speakers_data
    with pytest.warns(UserWarning, match="enable_metadata_routing"):
        scaler = SpeakerStandardScaler().fit(X)
    np.testing.assert_allclose(scaler.speaker_scale_, scaler.scale_)
    assert scaler.n_speakers_ == 0


def test_bad_groups_and_shapes(speakers_data):
    X, _, groups = speakers_data
    with pytest.raises(ValueError, match=r"one entry per sample \(48\)"):
        SpeakerStandardScaler().fit(X, groups=groups[:-1])
    scaler = SpeakerStandardScaler().fit(X, groups=groups)
    with pytest.raises(ValueError, match="has 2 features"):
        scaler.transform(X[:, :2])
    with pytest.raises(ValueError, match="prior_utterances"):
        SpeakerStandardScaler(prior_utterances=-1).fit(X, groups=groups)


def test_groups_routed_through_pipeline_and_search(speakers_data):
    X, y, groups = speakers_data
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            make_pipeline(SpeakerStandardScaler(), SVC()),
            {"svc__C": [0.1, 1.0]},
            cv=LeaveOneGroupOut(),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # no "fitted without groups"
            search.fit(X, y, groups=groups)
        scaler = search.best_estimator_[0]
        assert scaler.n_speakers_ == 4
        # GridSearchCV.predict takes no metadata; the refitted pipeline does.
        with_ctx = search.best_estimator_.predict(X, groups=groups)
        # cross_val_predict routes groups to fit (no "fitted without groups" warning); its
        # predict gets none, so each held-out file is standardised alone.
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            pred = cross_val_predict(
                make_pipeline(SpeakerStandardScaler(), SVC()),
                X,
                y,
                cv=LeaveOneGroupOut(),
                params={"groups": groups},
            )
    # The speaker offsets are removed only with the speakers' own statistics.
    assert np.mean(with_ctx == y) > 0.9
    assert pred.shape == y.shape


def test_random_training_context(speakers_data):
    X, _, groups = speakers_data
    full = SpeakerStandardScaler().fit(X, groups=groups)
    scaler = SpeakerStandardScaler(training_context="random", random_state=0)
    Xt = scaler.fit_transform(X, groups=groups)
    assert Xt.shape == X.shape
    # The fitted statistics and transform are those of "full"; only training rows differ.
    np.testing.assert_allclose(scaler.mean_, full.mean_)
    np.testing.assert_allclose(scaler.transform(X, groups), full.transform(X, groups))
    assert not np.allclose(Xt, full.transform(X, groups))
    again = SpeakerStandardScaler(training_context="random", random_state=0)
    np.testing.assert_array_equal(again.fit_transform(X, groups=groups), Xt)
    # Each row lies between standardised alone and with all its speaker's rows: its
    # statistics come from a subset of the speaker that contains it.
    alone, ctx = scaler.transform(X), scaler.transform(X, groups)
    lo, hi = np.minimum(alone, ctx), np.maximum(alone, ctx)
    inside = (Xt >= lo - 1e-9) & (Xt <= hi + 1e-9)
    assert inside.mean() > 0.5
    # Without groups there are no subsets to draw: every row alone, as transform.
    no_groups = SpeakerStandardScaler(training_context="random")
    with pytest.warns(UserWarning):
        Xt = no_groups.fit_transform(X)
    np.testing.assert_allclose(Xt, no_groups.transform(X))


# ------------------------------------------------------------------ the moments interface
@pytest.mark.parametrize("shape", [(20, 3), (20, 4, 6), (20, 2, 4, 5)])
def test_transform_is_standardize_of_statistics_from_moments(rng, shape):
    """transform = standardize(X, statistics_from_moments(moments(X, groups))), any shape."""
    X = rng.normal(size=shape) * 3 + 1
    groups = np.repeat([0, 1, 2, 3], 5)
    scaler = SpeakerStandardScaler().fit(X, groups=groups)
    moments = SpeakerStandardScaler.moments(X, groups)
    stats = scaler.statistics_from_moments(moments)
    np.testing.assert_allclose(scaler.standardize(X, stats), scaler.transform(X, groups=groups))
    np.testing.assert_array_equal(stats.mean, scaler.speaker_statistics(X, groups).mean)
    # fitting from the moments learns what fit learns
    again = SpeakerStandardScaler().fit_moments(moments)
    for name in ("mean_", "scale_", "speaker_scale_", "n_speakers_", "n_features_in_"):
        np.testing.assert_array_equal(getattr(again, name), getattr(scaler, name))


def test_moments_merged_over_parts_are_those_of_the_whole(rng):
    """A recording's windows seen batch by batch give the statistics of all its windows."""
    X = rng.normal(size=(30, 4, 7))
    one = np.zeros(30, dtype=int)
    parts = [SpeakerStandardScaler.moments(X[a:b], one[a:b]) for a, b in [(0, 7), (7, 30)]]
    merged = parts[0].merge(parts[1])
    whole = SpeakerStandardScaler.moments(X, one)
    np.testing.assert_array_equal(merged.codes, whole.codes)
    for name in ("total", "total_sq", "count"):
        np.testing.assert_allclose(getattr(merged, name), getattr(whole, name))
    # groups of different sizes: the codes keep their meaning
    a = SpeakerStandardScaler.moments(X[:4], [0, 0, 1, 1])
    b = SpeakerStandardScaler.moments(X[4:6], [0, 0])
    assert a.merge(b).count.tolist() == [4 * 7, 2 * 7]
    assert b.merge(a).count.tolist() == [4 * 7, 2 * 7]


def test_random_context_statistics_contain_the_row_itself(rng):
    X = rng.normal(size=(12, 3))
    groups = np.repeat([0, 1], 6)
    scaler = SpeakerStandardScaler(prior_utterances=0).fit(X, groups=groups)
    stats = scaler.random_context_statistics(scaler.moments(X), groups, np.random.default_rng(0))
    assert stats.mean.shape == (12, 3) and stats.codes.tolist() == list(range(12))
    # every row's mean lies within the range of its speaker's rows
    for i in range(12):
        rows = X[groups == groups[i]]
        assert np.all(stats.mean[i] >= rows.min(0) - 1e-12)
        assert np.all(stats.mean[i] <= rows.max(0) + 1e-12)
