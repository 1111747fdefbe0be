"""SpeakerStandardScaler's bounds and per-feature shrinkage (issue 20)."""

import numpy as np
import pytest

from sklearn_ser.preprocessing import SpeakerStandardScaler


def _speakers(rng, n_speakers=8, n_files=30):
    """Feature 0 set by the speaker (offsets), feature 1 by the file alone (no offsets)."""
    groups = np.repeat(np.arange(n_speakers), n_files)
    offsets = rng.normal(0, 10, n_speakers)[groups]
    X = np.column_stack([offsets + rng.normal(0, 1, groups.size), rng.normal(0, 1, groups.size)])
    return X, groups


def test_clip_bounds_the_standardised_features(rng):
    X, groups = _speakers(rng)
    scaler = SpeakerStandardScaler(clip=4.0).fit(X, groups=groups)
    outlier = np.array([[1e6, -1e6]])
    np.testing.assert_array_equal(scaler.transform(outlier), [[4.0, -4.0]])
    inside = scaler.transform(X, groups=groups)
    unclipped = scaler.set_params(clip=None).transform(X, groups=groups)
    kept = np.abs(unclipped) <= 4.0
    np.testing.assert_array_equal(inside[kept], unclipped[kept])
    assert np.abs(inside).max() <= 4.0


def test_clip_applies_to_random_training_contexts(rng):
    X, groups = _speakers(rng)
    X[0] = 1e6
    Xt = SpeakerStandardScaler(clip=3.0, training_context="random", random_state=0).fit_transform(
        X, groups=groups
    )
    assert np.abs(Xt).max() <= 3.0


def test_auto_prior_shrinks_each_feature_by_its_speaker_share(rng):
    # A feature that does not tell speakers apart keeps (nearly) the training mean: a
    # small context adds only noise there. One that does is shrunk as with the fixed
    # prior of 5 utterances, its least.
    X, groups = _speakers(rng)
    auto = SpeakerStandardScaler(prior_utterances="auto").fit(X, groups=groups)
    assert auto.speaker_mean_scale_[0] > 5 * auto.speaker_mean_scale_[1]
    fixed = SpeakerStandardScaler(prior_utterances=5.0).fit(X, groups=groups)
    few = X[groups == 0][:3]
    own = few.mean(axis=0)

    def weight(scaler):
        return (scaler.speaker_statistics(few, [0] * 3).mean[0] - scaler.mean_) / (
            own - scaler.mean_
        )

    np.testing.assert_allclose(weight(fixed), 3 / 8)
    assert weight(auto)[0] == pytest.approx(3 / 8)
    assert weight(auto)[1] < 0.2


@pytest.mark.parametrize(
    "params, match",
    [({"clip": 0.0}, "clip"), ({"clip": "big"}, "clip"), ({"prior_utterances": "x"}, "prior")],
)
def test_bad_parameters(params, match, rng):
    X, groups = _speakers(rng)
    with pytest.raises(ValueError, match=match):
        SpeakerStandardScaler(**params).fit(X, groups=groups)


def test_unbalanced_training_contexts_are_often_of_one_label():
    from sklearn_ser.preprocessing import _random_subsets

    codes = np.repeat([0, 1], 60)
    labels = np.tile(np.repeat(["a", "b", "c"], 20), 2)
    rng = np.random.default_rng(0)
    subsets = _random_subsets(codes, rng, labels)
    assert all(s[0] == i and (codes[s] == codes[i]).all() for i, s in enumerate(subsets))
    one_label = [len(set(labels[s[1:]])) == 1 for s in subsets if len(s) > 3]
    assert 0.3 < np.mean(one_label) < 0.8
    # Without labels, the draws of "random" are kept (a random subset of any label).
    plain = _random_subsets(codes, np.random.default_rng(0))
    assert np.mean([len(set(labels[s[1:]])) == 1 for s in plain if len(s) > 3]) < 0.2


def test_unbalanced_needs_labels(rng):
    X, groups = _speakers(rng)
    scaler = SpeakerStandardScaler(training_context="unbalanced", random_state=0)
    with pytest.raises(ValueError, match="needs y"):
        scaler.fit_transform(X, groups=groups)
    y = np.tile(["a", "b"], len(X) // 2)
    Xt = scaler.fit_transform(X, y, groups=groups)
    assert Xt.shape == X.shape and np.isfinite(Xt).all()
