"""Shared fixtures: tiny synthetic audio made in the test, and the real corpora if present."""

from __future__ import annotations

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


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Tiny models train fastest on one thread; two threads on a busy 2-core box thrash."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
