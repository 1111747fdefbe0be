"""Shared helpers of the benchmark scripts: corpora, timing, result tables."""

from __future__ import annotations

import json
import platform
from datetime import date
from pathlib import Path

from sklearn_ser import datasets

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
RESULTS = Path(__file__).resolve().parent / "results"

LOADERS = {"emodb": datasets.load_emodb, "emovo": datasets.load_emovo}


def commit() -> str:
    """Short hash of the checkout the benchmark runs from, for its result records."""
    import subprocess

    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent,
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}"


def load(corpus: str):
    return LOADERS[corpus](DATA)


def rst_table(header: list[str], rows: list[list]) -> str:
    cells = [header] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = " ".join("=" * w for w in widths)
    fmt = lambda r: " ".join(c.ljust(w) for c, w in zip(r, widths))  # noqa: E731
    return "\n".join([line, fmt(cells[0]), line, *[fmt(r) for r in cells[1:]], line])


def md_table(header: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def stamp() -> str:
    return f"Measured {date.today().isoformat()} on {machine()} (no GPU)."


def append_json(name: str, record: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.jsonl"
    with path.open("a") as f:
        f.write(json.dumps(record) + "\n")


# ----------------------------------------------------------------------------- memory
def status_mb(key: str) -> float | None:
    """A memory field of /proc/self/status (``VmHWM``, ``RssAnon``...) in MB; None elsewhere."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (``ru_maxrss``), in MB.

    Linux carries ``ru_maxrss`` over ``exec`` from a forked parent: in a fresh process
    started by one that was larger, read ``status_mb("VmHWM")`` instead.
    """
    import resource
    import sys

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 if sys.platform != "darwin" else rss / 2**20


class AnonPeak:
    """Peak anonymous memory (``RssAnon``: what the process holds, not mapped files), in MB.

    A context manager sampling in a background thread every ``interval`` seconds, and once
    more on exit; ``start`` is the first sample, ``peak`` the largest (None where
    /proc/self/status is absent).
    """

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.start = self.peak = status_mb("RssAnon")

    def _sample(self) -> None:
        value = status_mb("RssAnon")
        if value is not None and (self.peak is None or value > self.peak):
            self.peak = value

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> AnonPeak:
        import threading

        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
