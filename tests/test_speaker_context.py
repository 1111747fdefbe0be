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
    # A feature that tells speakers apart takes the speaker's own mean from a few files;
    # one that does not keeps the training mean (a file's context adds only noise there).
    X, groups = _speakers(rng)
    scaler = SpeakerStandardScaler(prior_utterances="auto").fit(X, groups=groups)
    assert scaler.speaker_mean_scale_[0] > 5 * scaler.speaker_mean_scale_[1]
    few = X[groups == 0][:3]
    stats = scaler.speaker_statistics(few, groups=[0, 0, 0])
    own = few.mean(axis=0)
    assert abs(stats.mean[0, 0] - own[0]) < 0.1 * abs(own[0] - scaler.mean_[0])
    assert abs(stats.mean[0, 1] - scaler.mean_[1]) < 0.5 * abs(own[1] - scaler.mean_[1]) + 0.05
    # A fixed prior weighs both features alike.
    fixed = SpeakerStandardScaler(prior_utterances=5.0).fit(X, groups=groups)
    weight = (fixed.speaker_statistics(few, [0] * 3).mean[0] - fixed.mean_) / (own - fixed.mean_)
    np.testing.assert_allclose(weight, 3 / 8)


@pytest.mark.parametrize(
    "params, match",
    [({"clip": 0.0}, "clip"), ({"clip": "big"}, "clip"), ({"prior_utterances": "x"}, "prior")],
)
def test_bad_parameters(params, match, rng):
    X, groups = _speakers(rng)
    with pytest.raises(ValueError, match=match):
        SpeakerStandardScaler(**params).fit(X, groups=groups)
