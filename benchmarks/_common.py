"""Shared helpers of the benchmark scripts: corpora, timing, result tables."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np

from sklearn_ser import datasets
from sklearn_ser.model_selection import evaluate_speaker_independent

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
RESULTS = Path(__file__).resolve().parent / "results"

# Peer systems measured on exactly these files and folds (../shared/data/README.md): UA / WA.
PEERS = {
    "emodb": [
        ("openSMILE ComParE_2016 + SVM", 72.3, 75.5),
        ("openSMILE eGeMAPSv02 + SVM", 61.4, 65.1),
        ("40 MFCC + deltas, mean/std + SVM", 57.2, 59.8),
    ],
    "emovo": [
        ("openSMILE ComParE_2016 + SVM", 31.5, 31.5),
        ("openSMILE eGeMAPSv02 + SVM", 32.3, 32.3),
        ("40 MFCC + deltas, mean/std + SVM", 30.3, 30.3),
    ],
}
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


def evaluate(make: Callable, corpus: str, verbose: int = 1, n_jobs: int | None = None) -> dict:
    bunch = load(corpus)
    start = time.perf_counter()
    res = evaluate_speaker_independent(
        make(), list(bunch.filenames), bunch.target, bunch.speaker, verbose=verbose, n_jobs=n_jobs
    )
    wall = time.perf_counter() - start
    return {
        "ua": 100 * res.ua,
        "wa": 100 * res.wa,
        "ua_std": 100 * float(np.std(res.fold_ua)),
        "fit_s": float(np.mean(res.fit_time)),
        "wall_s": wall,
        "n_folds": res.n_folds,
    }


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
