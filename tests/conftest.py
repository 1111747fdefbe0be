"""Shared fixtures: tiny synthetic audio made in the test, the real corpora if present, and
the process-wide settings (threads, scikit-learn's config) restored after every test."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
EMODB = SHARED_DATA / "emodb"
EMOVO = SHARED_DATA / "emovo"

needs_emodb = pytest.mark.skipif(
    not (EMODB / "wav").is_dir(), reason="EmoDB not found in ../shared/data"
)
needs_emovo = pytest.mark.skipif(not EMOVO.is_dir(), reason="EMOVO not found in ../shared/data")


def tone(freq: float = 220.0, seconds: float = 0.5, sr: int = 16000, amp: float = 0.5):
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def waves(rng):
    """Four noisy tones of different lengths at 16 kHz."""
    lengths = [8000, 12000, 5000, 16000]
    return [
        tone(150 * (i + 1), n / 16000) + 0.01 * rng.standard_normal(n).astype(np.float32)
        for i, n in enumerate(lengths)
    ]


@pytest.fixture(scope="session")
def speech():
    """Synthetic emotional speech: 3 speakers x 4 emotions x 4 utterances at 16 kHz."""
    from sklearn_ser.datasets import make_emotional_speech

    return make_emotional_speech(n_speakers=3, n_utterances=4, random_state=0)


@pytest.fixture(scope="session")
def speech_tiny():
    """Synthetic emotional speech: 2 speakers x 4 emotions x 2 utterances at 16 kHz."""
    from sklearn_ser.datasets import make_emotional_speech

    return make_emotional_speech(n_speakers=2, n_utterances=2, random_state=0)


_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@pytest.fixture(autouse=True, scope="session")
def _settings():
    """One torch thread for the session, and the process-wide settings to come back to.

    Tiny models train fastest on one thread; two threads on a busy 2-core box thrash.
    """
    import sklearn
    import torch
    from threadpoolctl import threadpool_info

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield {
        "torch": 1,
        "blas": {lib["prefix"]: lib["num_threads"] for lib in threadpool_info()},
        "environ": {name: os.environ.get(name) for name in _THREAD_VARIABLES},
        "sklearn": sklearn.get_config(),
    }
    torch.set_num_threads(previous)


@pytest.fixture(autouse=True)
def _restore_global_settings(_settings):
    """Undo what a test changed for the whole process, so no test depends on the ones before.

    ``sklearn-ser``'s ``main`` sets torch's and the BLAS libraries' thread counts and
    ``OMP_NUM_THREADS`` (``--threads``); a test may enable metadata routing globally. Left
    in place, every later test would run under them (e.g. two torch threads fighting
    over a busy 2-core machine: seconds become minutes).
    """
    import sklearn
    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    yield
    if torch.get_num_threads() != _settings["torch"]:
        torch.set_num_threads(_settings["torch"])
    blas = _settings["blas"]
    changed = {
        lib["prefix"]: blas[lib["prefix"]]
        for lib in threadpool_info()
        if lib["prefix"] in blas and lib["num_threads"] != blas[lib["prefix"]]
    }
    if changed:
        threadpool_limits(limits=changed)
    for name, value in _settings["environ"].items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if sklearn.get_config() != _settings["sklearn"]:
        sklearn.set_config(**_settings["sklearn"])
