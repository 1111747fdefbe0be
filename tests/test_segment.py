"""Tests of the Segmenter transformer."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import check_estimator

from sklearn_ser.features._segment import Segmenter


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    return rng.normal(size=(3, 5, 23)).astype(np.float32)


@pytest.mark.parametrize(
    ("n_frames", "segment_frames", "hop_frames", "expected"),
    [
        (23, 5, None, 5),  # 4 full segments + 1 padded
        (20, 5, None, 4),  # exact fit: no padding
        (23, 5, 2, 10),  # 1 + ceil(18 / 2)
        (4, 5, None, 1),  # shorter than a segment
        (5, 5, 1, 1),
        (6, 5, 1, 2),
    ],
)
def test_n_segments(n_frames, segment_frames, hop_frames, expected):
    X = np.zeros((2, 3, n_frames))
    seg = Segmenter(segment_frames=segment_frames, hop_frames=hop_frames).fit(X)
    assert seg.n_segments_ == expected
    assert seg.n_frames_ == n_frames
    assert seg.n_features_in_ == 3
    assert seg.transform(X).shape == (2, expected, 3, segment_frames)


@pytest.mark.parametrize("hop_frames", [None, 5, 3, 1])
def test_segments_are_the_right_slices(X, hop_frames):
    seg = Segmenter(segment_frames=5, hop_frames=hop_frames)
    Xs = seg.fit_transform(X)
    hop = 5 if hop_frames is None else hop_frames
    assert Xs.dtype == X.dtype
    assert Xs.flags.c_contiguous
    covered = np.zeros(X.shape[-1], dtype=bool)
    for i in range(seg.n_segments_):
        start = i * hop
        stop = min(start + 5, X.shape[-1])
        np.testing.assert_array_equal(Xs[:, i, :, : stop - start], X[:, :, start:stop])
        covered[start:stop] = True
    assert covered.all(), "every frame must lie in some segment"
    # Overlapping segments share frames: segment i+1 starts hop frames into segment i.
    if hop < 5:
        np.testing.assert_array_equal(Xs[:, 1, :, : 5 - hop], Xs[:, 0, :, hop:])


def test_constant_padding_uses_utterance_minimum(X):
    X = X.copy()
    X[1] -= 100.0  # a different floor per utterance
    Xs = Segmenter(segment_frames=5).fit_transform(X)
    # 23 frames: the last segment holds frames 20..22 and 2 padded frames.
    np.testing.assert_array_equal(Xs[:, -1, :, :3], X[:, :, 20:])
    for i in range(X.shape[0]):
        np.testing.assert_array_equal(Xs[i, -1, :, 3:], X[i].min())
    assert Xs[0, -1, 0, 3] != Xs[1, -1, 0, 3]


def test_edge_and_wrap_padding(X):
    edge = Segmenter(segment_frames=5, pad_mode="edge").fit_transform(X)
    np.testing.assert_array_equal(edge[:, -1, :, 3], X[:, :, -1])
    np.testing.assert_array_equal(edge[:, -1, :, 4], X[:, :, -1])
    wrap = Segmenter(segment_frames=5, pad_mode="wrap").fit_transform(X)
    np.testing.assert_array_equal(wrap[:, -1, :, 3:], X[:, :, :2])


def test_input_shorter_than_segment_is_padded():
    X = np.array([[[1.0, 2.0, 3.0]], [[-4.0, 5.0, 6.0]]])
    Xs = Segmenter(segment_frames=5).fit_transform(X)
    np.testing.assert_array_equal(Xs[:, 0, 0], [[1, 2, 3, 1, 1], [-4, 5, 6, -4, -4]])


def test_2d_input_is_one_bin():
    X = np.arange(14, dtype=np.float64).reshape(2, 7)
    seg = Segmenter(segment_frames=3).fit(X)
    assert seg.n_features_in_ == 7
    Xs = seg.transform(X)
    assert Xs.shape == (2, 3, 1, 3)
    np.testing.assert_array_equal(Xs[1, 1, 0], X[1, 3:6])


def test_output_does_not_alias_input(X):
    Xs = Segmenter(segment_frames=23).fit_transform(X)  # one segment, no padding
    Xs[...] = 0
    assert np.abs(X).sum() > 0


def test_in_pipeline_and_clone(X):
    from sklearn.preprocessing import FunctionTransformer

    pipe = make_pipeline(FunctionTransformer(lambda Z: 2 * Z), Segmenter(segment_frames=4))
    np.testing.assert_array_equal(pipe.fit_transform(X)[:, 0], 2 * X[:, :, :4])
    seg = Segmenter(segment_frames=4, hop_frames=2, pad_mode="edge")
    assert clone(seg).get_params() == seg.get_params()


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"segment_frames": 0}, r"'segment_frames' .* an int in the range \[1, inf\)\. Got 0 "),
        ({"segment_frames": 2.5}, r"'segment_frames' .* must be an int .*Got 2\.5 instead"),
        ({"segment_frames": True}, "segment_frames"),
        ({"segment_frames": 4, "hop_frames": 5}, r"hop_frames .*\[1, segment_frames=4\], got 5"),
        ({"hop_frames": 0}, "hop_frames"),
        ({"hop_frames": 1.0}, "hop_frames"),
        ({"pad_mode": "reflect"}, "'pad_mode' .* must be a str among .* Got 'reflect'"),
    ],
)
def test_invalid_params(X, params, match):
    seg = Segmenter(**params)  # __init__ does not validate
    assert seg.get_params()[next(iter(params))] == params[next(iter(params))]
    with pytest.raises(ValueError, match=match):
        seg.fit(X)


def test_invalid_inputs(X):
    seg = Segmenter(segment_frames=4).fit(X)
    with pytest.raises(ValueError, match="fitted on utterances of 23 frames, got 20"):
        seg.transform(X[:, :, :20])
    with pytest.raises(ValueError, match="expects a 3-D array"):
        Segmenter().fit(np.zeros((2, 3, 4, 5)))
    with pytest.raises(ValueError, match="0 frames"):
        Segmenter().fit(np.zeros((2, 3, 0)))
    with pytest.raises(ValueError, match="features"):  # n_bins differs from fit
        seg.transform(X[:, :4])


def test_check_estimator():
    # The checks feed 2-D arrays: each is read as (n_samples, 1 bin, n_frames).
    check_estimator(Segmenter(segment_frames=3, hop_frames=2))
