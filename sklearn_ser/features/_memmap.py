"""Featurise corpora larger than memory into a memory-mapped ``.npy`` file."""

from __future__ import annotations

import numbers
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._audio import as_audio_sources

__all__ = ["transform_to_memmap"]


def _check_filename(filename: Any) -> str:
    if not isinstance(filename, (str, os.PathLike)):
        raise TypeError(
            f"filename must be a path (str or PathLike) of the .npy file to write, "
            f"got {type(filename).__name__}: {filename!r}."
        )
    path = os.fspath(filename)
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"filename={path!r} is a folder; expected the path of a .npy file to write."
        )
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"filename={path!r}: its folder {folder!r} does not exist; create it first."
        )
    try:  # Fail now, not after featurising the first chunk.
        with open(path, "wb"):
            pass
    except OSError as exc:
        raise type(exc)(
            f"filename={path!r} cannot be written ({exc.strerror or exc}); expected a "
            "writable path for the .npy file."
        ) from exc
    return path


def _check_chunk_size(chunk_size: Any) -> int:
    if (
        isinstance(chunk_size, (bool, np.bool_))
        or not isinstance(chunk_size, numbers.Integral)
        or chunk_size <= 0
    ):
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}.")
    return int(chunk_size)


def _split_input(X: Any) -> tuple[Any, int]:
    """``X`` as something sliceable by utterance, and its number of utterances.

    A numeric matrix and a lazy sequence are kept as they are, so that only the chunk being
    featurised is ever read or decoded; everything else goes through ``as_audio_sources``.
    """
    if isinstance(X, np.ndarray) and X.dtype != object and X.ndim == 2 and X.shape[0] > 0:
        # A matrix of waveforms (possibly itself a memory map): slices stay arrays, so the
        # extractor validates them exactly as it would the whole matrix.
        return X, X.shape[0]
    if isinstance(X, Sequence) and not isinstance(X, (str, bytes, list, tuple, range)):
        n = len(X)
        if n == 0:
            raise ValueError("X contains no utterances (0 samples).")
        return X, n
    sources = as_audio_sources(X)
    return sources, len(sources)


def transform_to_memmap(
    extractor: Any,
    X: Any,
    filename: str | os.PathLike,
    *,
    chunk_size: int = 512,
    dtype: Any = np.float32,
    verbose: int = 0,
) -> np.memmap:
    """Run a fitted extractor over ``X`` chunk by chunk into a memory-mapped ``.npy`` file.

    Only one chunk of features is in memory at a time, so a corpus whose features do not
    fit in memory can be featurised and then trained on straight from disk, e.g. with
    :meth:`SERClassifier.fit <sklearn_ser.SERClassifier.fit>`, which streams its input
    batch by batch. The file is a standard ``.npy`` file: ``np.load(filename,
    mmap_mode="r")`` opens it again later.

    Parameters
    ----------
    extractor : fitted transformer
        A fitted feature extractor, e.g. :class:`~sklearn_ser.MelSpectrogramExtractor`,
        :class:`~sklearn_ser.FeatureStack` or a fitted pipeline of transformers, whose
        output has the same per-utterance shape for every utterance (fix it with
        ``max_frames``, or by fitting on the corpus).
    X : sequence of paths or waveforms, or ndarray of shape (n_samples, n_audio_samples)
        The audio, as ``extractor.transform`` takes it. A numeric matrix may itself be a
        memory map: it is read chunk by chunk. ``X`` may also be a lazy
        :class:`collections.abc.Sequence` (not a list or tuple) whose slices ``X[a:b]`` are
        lists of paths or waveforms, e.g. one that decodes or synthesises utterances on
        demand: only a chunk of audio is then ever in memory.
    filename : str or PathLike
        Where to write the ``.npy`` file (written in ``.npy`` format whatever the suffix;
        an existing file is overwritten). Removed again if featurisation fails.
    chunk_size : int, default=512
        Utterances featurised per call of ``extractor.transform``; peak memory grows with
        it. The extractor's own ``n_jobs`` parallelises within a chunk.
    dtype : numpy floating dtype, default=np.float32
        dtype of the stored features.
    verbose : int, default=0
        Show a progress bar (tqdm) over the utterances when > 0.

    Returns
    -------
    features : numpy.memmap of shape (n_samples, n_bins_, n_frames_)
        The features, opened read-only from ``filename`` (the per-sample shape is the
        extractor's: 3-D for an extractor, 4-D after a :class:`~sklearn_ser.Segmenter`).
        Equal to ``extractor.transform(X).astype(dtype)``.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``extractor`` is not fitted.
    FileNotFoundError, PermissionError, IsADirectoryError
        If ``filename`` cannot be written (checked before any audio is read).
    ValueError
        For a bad ``chunk_size`` or ``dtype``, unreadable audio (as ``transform`` raises
        it), or chunks whose per-utterance feature shapes differ.

    See Also
    --------
    numpy.lib.format.open_memmap : the ``.npy`` memory map written here.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn_ser import MelSpectrogramExtractor
    >>> from sklearn_ser.features import transform_to_memmap
    >>> waves = np.random.default_rng(0).normal(size=(10, 8000))
    >>> mel = MelSpectrogramExtractor(n_mels=32, max_frames=50).fit(waves)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "mel.npy")
    ...     features = transform_to_memmap(mel, waves, path, chunk_size=4)
    ...     print(features.shape, features.dtype, type(features).__name__)
    ...     print(bool(np.array_equal(features, mel.transform(waves))))
    ...     print(np.load(path, mmap_mode="r").shape)
    ...     del features
    (10, 32, 50) float32 memmap
    True
    (10, 32, 50)
    """
    if not hasattr(extractor, "transform"):
        raise TypeError(
            f"extractor must be a fitted transformer with a transform method, got "
            f"{type(extractor).__name__}."
        )
    check_is_fitted(extractor)
    chunk_size = _check_chunk_size(chunk_size)
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype must be a numpy floating dtype, got {dtype!r}.") from None
    if dtype.kind != "f":
        raise ValueError(f"dtype must be a numpy floating dtype, got {dtype!r}.")
    data, n = _split_input(X)
    path = _check_filename(filename)

    progress = None
    if verbose:
        from tqdm.auto import tqdm

        progress = tqdm(total=n, unit="utt", desc=f"{type(extractor).__name__} -> {path}")
    out = None
    try:
        for start in range(0, n, chunk_size):
            stop = min(start + chunk_size, n)
            try:
                part = np.asarray(extractor.transform(data[start:stop]))
            except Exception as exc:
                if hasattr(exc, "add_note"):  # Python >= 3.11
                    exc.add_note(
                        f"While featurising utterances {start} to {stop - 1} of X "
                        f"(sample numbers in the message count from {start})."
                    )
                raise
            if out is None:
                out = np.lib.format.open_memmap(
                    path, mode="w+", dtype=dtype, shape=(n, *part.shape[1:])
                )
            if part.shape != (stop - start, *out.shape[1:]):
                raise ValueError(
                    f"{type(extractor).__name__} gave features of shape {part.shape} for "
                    f"utterances {start} to {stop - 1}, expected "
                    f"{(stop - start, *out.shape[1:])} as for the first chunk; fix the "
                    "number of frames with max_frames."
                )
            out[start:stop] = part
            if progress is not None:
                progress.update(stop - start)
        out.flush()
    except BaseException:
        del out  # close the map before removing its file (needed on Windows)
        if os.path.exists(path):
            os.remove(path)
        raise
    finally:
        if progress is not None:
            progress.close()
    del out
    return np.load(path, mmap_mode="r")
