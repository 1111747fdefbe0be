"""make_ser_pipeline: every input kind fits and predicts, combined inputs get an encoder each."""

import numpy as np
import pytest

from sklearn_ser import FeatureStack, make_ser_pipeline


@pytest.mark.parametrize(
    "features, n_bins",
    [("logmel", 64), ("mfcc", 40), ("spectrogram", 257), ("both", 297), ("logmel+mfcc", 104)],
)
def test_every_input_kind_fits_and_predicts(features, n_bins, rng):
    waves = rng.normal(size=(8, 4000)).astype(np.float32)
    labels = np.array(["anger", "sadness"] * 4)
    speakers = np.repeat(["a", "b"], 4)
    pipe = make_ser_pipeline(
        features, max_frames=24, max_epochs=1, module__channels=(4,), random_state=0
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


def test_unknown_input_kind_is_named():
    with pytest.raises(ValueError, match=r"features must be one of .*'mel'"):
        make_ser_pipeline("mel")
