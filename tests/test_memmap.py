"""transform_to_memmap: chunked featurisation into a .npy memory map, and training from it."""

import os
import sys
from collections.abc import Sequence

import numpy as np
import pytest
import soundfile as sf
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline

from sklearn_ser import MelSpectrogramExtractor, MFCCExtractor, SERClassifier
from sklearn_ser.features import Segmenter
from sklearn_ser.features._memmap import transform_to_memmap

from .conftest import tone


@pytest.fixture
def corpus(rng):
    """Twelve short utterances of two 'emotions' (low vs high tones), ragged lengths."""
    waves, labels = [], []
    for i in range(12):
        n = int(rng.integers(3000, 9000))
        freq = 200.0 if i % 2 else 1200.0
        noise = 0.05 * rng.standard_normal(n).astype(np.float32)
        waves.append(tone(freq, n / 16000) + noise)
        labels.append("low" if i % 2 else "high")
    return waves, np.array(labels)


@pytest.mark.parametrize("chunk_size", [1, 5, 12, 512])
def test_equals_transform_and_is_loadable(tmp_path, corpus, chunk_size):
    waves, _ = corpus
    mel = MelSpectrogramExtractor(n_mels=16).fit(waves)
    path = tmp_path / "mel.npy"
    features = transform_to_memmap(mel, waves, path, chunk_size=chunk_size)
    assert isinstance(features, np.memmap)
    assert not features.flags.writeable
    assert features.shape == (12, mel.n_bins_, mel.n_frames_)
    assert features.dtype == np.float32
    np.testing.assert_array_equal(features, mel.transform(waves))
    reloaded = np.load(path, mmap_mode="r")
    np.testing.assert_array_equal(reloaded, features)


def test_files_matrix_dtype_and_4d_output(tmp_path, corpus):
    waves, _ = corpus
    paths = []
    for i, w in enumerate(waves[:5]):
        paths.append(tmp_path / f"u{i}.wav")
        sf.write(paths[-1], w, 16000, subtype="PCM_16")
    mfcc = MFCCExtractor(n_mfcc=8, n_mels=16, max_frames=30).fit(paths)
    out = transform_to_memmap(mfcc, paths, tmp_path / "f.npy", chunk_size=2, dtype=np.float64)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, mfcc.transform(paths))

    # A matrix of waveforms (rows sliced, not listed) and a 4-D pipeline output.
    matrix = np.stack([w[:3000] for w in waves])
    pipe = make_pipeline(MelSpectrogramExtractor(n_mels=8), Segmenter(segment_frames=4))
    pipe.fit(matrix)
    seg = transform_to_memmap(pipe, matrix, tmp_path / "seg.dat", chunk_size=5)
    assert seg.ndim == 4
    np.testing.assert_array_equal(seg, pipe.transform(matrix))
    assert np.load(tmp_path / "seg.dat", mmap_mode="r").shape == seg.shape


class LazyCorpus(Sequence):
    """Synthesises utterance i on demand; records the slices asked for."""

    def __init__(self, n):
        self.n, self.requests = n, []

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        if isinstance(index, slice):
            items = range(*index.indices(self.n))
            self.requests.append(len(items))
            return [self[i] for i in items]
        rng = np.random.default_rng(index)
        return tone(200.0 + 50 * index, 0.3) + 0.1 * rng.standard_normal(4800).astype(np.float32)


def test_lazy_sequence_is_read_chunk_by_chunk(tmp_path):
    corpus = LazyCorpus(11)
    mel = MelSpectrogramExtractor(n_mels=8, max_frames=20).fit(corpus[:2])
    corpus.requests.clear()
    out = transform_to_memmap(mel, corpus, tmp_path / "lazy.npy", chunk_size=4)
    assert corpus.requests == [4, 4, 3]  # never the whole corpus at once
    np.testing.assert_array_equal(out, mel.transform([corpus[i] for i in range(11)]))
    with pytest.raises(ValueError, match="no utterances"):
        transform_to_memmap(mel, LazyCorpus(0), tmp_path / "none.npy")


def test_progress_bar(tmp_path, corpus, capsys):
    waves, _ = corpus
    mel = MelSpectrogramExtractor(n_mels=8, max_frames=10).fit(waves)
    transform_to_memmap(mel, waves, tmp_path / "a.npy", chunk_size=4, verbose=1)
    err = capsys.readouterr().err
    assert "12/12" in err


def test_serclassifier_trains_from_memmap(tmp_path, corpus):
    waves, labels = corpus
    mel = MelSpectrogramExtractor(n_mels=16, max_frames=40).fit(waves)
    features = transform_to_memmap(mel, waves, tmp_path / "train.npy", chunk_size=5)
    clf = SERClassifier(
        max_epochs=1,
        module__channels=(4,),
        module__embedding_dim=4,
        batch_size=8,
        random_state=0,
    ).fit(features, labels)
    assert clf.input_shape_ == (16, 40)
    proba = clf.predict_proba(features)
    assert proba.shape == (12, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    # Streaming from the map gives the same model as the in-memory array.
    in_memory = SERClassifier(
        max_epochs=1,
        module__channels=(4,),
        module__embedding_dim=4,
        batch_size=8,
        random_state=0,
    ).fit(np.array(features), labels)
    np.testing.assert_allclose(in_memory.predict_proba(features), proba, rtol=1e-5, atol=1e-6)


def test_unfitted_extractor(tmp_path, corpus):
    path = tmp_path / "x.npy"
    with pytest.raises(NotFittedError, match="MelSpectrogramExtractor"):
        transform_to_memmap(MelSpectrogramExtractor(), corpus[0], path)
    assert not path.exists()
    with pytest.raises(TypeError, match="extractor must be a fitted transformer"):
        transform_to_memmap(object(), corpus[0], path)


def test_unwritable_paths(tmp_path, corpus):
    waves, _ = corpus
    mel = MelSpectrogramExtractor(n_mels=8, max_frames=10).fit(waves)
    missing = tmp_path / "no" / "such" / "x.npy"
    with pytest.raises(FileNotFoundError, match=r"filename=.*does not exist"):
        transform_to_memmap(mel, waves, missing)
    with pytest.raises(IsADirectoryError, match="is a folder"):
        transform_to_memmap(mel, waves, tmp_path)
    with pytest.raises(TypeError, match="filename must be a path"):
        transform_to_memmap(mel, waves, 3)
    if sys.platform != "win32" and os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        try:
            with pytest.raises(PermissionError, match=r"filename=.*cannot be written"):
                transform_to_memmap(mel, waves, locked / "x.npy")
        finally:
            locked.chmod(0o700)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"chunk_size": 0}, "chunk_size must be a positive integer, got 0"),
        ({"chunk_size": 2.5}, "chunk_size must be a positive integer, got 2.5"),
        ({"dtype": np.int16}, "dtype must be a numpy floating dtype"),
        ({"dtype": "nonsense"}, "dtype must be a numpy floating dtype"),
    ],
)
def test_bad_arguments(tmp_path, corpus, kwargs, match):
    mel = MelSpectrogramExtractor(n_mels=8, max_frames=10).fit(corpus[0])
    with pytest.raises(ValueError, match=match):
        transform_to_memmap(mel, corpus[0], tmp_path / "x.npy", **kwargs)


def test_failure_removes_partial_file_and_locates_chunk(tmp_path, corpus):
    waves, _ = corpus
    mel = MelSpectrogramExtractor(n_mels=8, max_frames=10).fit(waves)
    bad = [*waves[:6], tmp_path / "missing.wav", *waves[6:]]
    path = tmp_path / "x.npy"
    with pytest.raises(FileNotFoundError, match=r"missing\.wav") as info:
        transform_to_memmap(mel, bad, path, chunk_size=4)
    assert not path.exists()
    if sys.version_info >= (3, 11):
        assert "utterances 4 to 7" in "".join(info.value.__notes__)

    # Without max_frames a transformer whose output length varies is caught per chunk.
    class Ragged(MelSpectrogramExtractor):
        def transform(self, X):
            return np.zeros((len(X), 2, 3 + len(X)), dtype=np.float32)

    ragged = Ragged().fit(waves)
    with pytest.raises(ValueError, match=r"expected \(1, 2, 8\)"):
        transform_to_memmap(ragged, waves[:6], path, chunk_size=5)
    assert not path.exists()
