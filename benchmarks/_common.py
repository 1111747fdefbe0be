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
