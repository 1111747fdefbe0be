"""Figures of the benchmark results for the docs' benchmarks page.

Reads the records in results/ (written by accuracy.py, tune_defaults.py and features.py)
and writes results/accuracy.png, results/tuning.png and results/features.png.

    python benchmarks/plots.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS
from accuracy import LABELS, PROTOCOLS, _cells


def _records(name: str) -> list[dict]:
    path = RESULTS / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def accuracy_figure() -> None:
    """Mean UA over seeds (error bar: sd over seeds) of each system, both protocols."""
    import numpy as np

    runs = _cells()
    protocols = list(PROTOCOLS.values())
    systems = [
        s for s in LABELS if any((c, s, p) in runs for c in ("emodb", "emovo") for p in protocols)
    ]
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.2))
    for ax, corpus in zip(axes, ("emodb", "emovo")):
        width = 0.8 / len(systems)
        for k, system in enumerate(systems):
            means, sds = [], []
            for protocol in protocols:
                uas = [r["ua"] for r in runs.get((corpus, system, protocol), {}).values()]
                means.append(np.mean(uas) if uas else np.nan)
                sds.append(np.std(uas) if uas else np.nan)
            x = np.arange(len(protocols)) + k * width
            ax.bar(x, means, width, yerr=sds, capsize=3, label=LABELS[system])
        ax.set_xticks(np.arange(len(protocols)) + 0.4 - width / 2, protocols)
        ax.set_ylabel("UA % (mean over seeds, bar: sd)")
        ax.set_title(f"{corpus}: leave one speaker out")
        ax.set_ylim(0, 100)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="lower center", ncol=2)
    fig.tight_layout(rect=(0, 0.22, 1, 1))
    fig.savefig(RESULTS / "accuracy.png", dpi=110)
    plt.close(fig)


def tuning_figure() -> None:
    """UA of each candidate on each corpus's speaker folds, with each fold's UA."""
    recs = _records("tuning")
    if not recs:
        return
    corpora = list(dict.fromkeys(r["corpus"] for r in recs))
    counts = [sum(r["corpus"] == c for r in recs) for c in corpora]
    fig, axes = plt.subplots(
        1,
        len(corpora),
        figsize=(3 + 0.55 * sum(counts), 4.2),
        sharey=True,
        gridspec_kw={"width_ratios": counts},
        squeeze=False,
    )
    for ax, corpus in zip(axes[0], corpora):
        rows = [r for r in recs if r["corpus"] == corpus]
        names = [r["candidate"] for r in rows]
        ax.bar(names, [100 * r["ua"] for r in rows], color="tab:blue", alpha=0.6, label="pooled")
        for i, rec in enumerate(rows):
            folds = [100 * u for u in rec["fold_ua"]]
            ax.plot([i] * len(folds), folds, "k.", label="fold" if i == 0 else None)
        ax.set_title(f"{corpus}, 3 speaker folds")
        ax.tick_params(axis="x", labelrotation=60, labelsize=7)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    axes[0][0].set_ylabel("UA % on held-out speakers")
    axes[0][0].legend()
    fig.suptitle("Choosing the defaults")
    fig.tight_layout()
    fig.savefig(RESULTS / "tuning.png", dpi=110)
    plt.close(fig)


def features_figure() -> None:
    """Real-time factor of each extractor and method, from features.rst."""
    path = RESULTS / "features.rst"
    if not path.exists():
        return
    rows = [
        line.split()
        for line in path.read_text().splitlines()
        if line and line.split()[0] in ("spectrogram", "mel", "mfcc")
    ]
    methods = ["librosa per-file loop", "sklearn-ser, n_jobs=1", "sklearn-ser, n_jobs=2"]
    factors = {}
    for cells in rows:
        extractor, rest = cells[0], " ".join(cells[1:])
        for method in methods:
            if rest.startswith(method):
                factor = rest[len(method) :].split()[1].rstrip("x")
                factors[(extractor, method)] = float(factor)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    extractors = ["spectrogram", "mel", "mfcc"]
    width = 0.27
    for k, method in enumerate(methods):
        xs = [i + (k - 1) * width for i in range(len(extractors))]
        ax.bar(xs, [factors.get((e, method), 0) for e in extractors], width, label=method)
    ax.axhline(2500, color="k", linestyle="--", linewidth=1, label="target 2500x")
    ax.set_xticks(range(len(extractors)), extractors)
    ax.set_ylabel("seconds of audio per second")
    ax.set_title("Feature extraction on EmoDB, loading included")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(RESULTS / "features.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    accuracy_figure()
    tuning_figure()
    features_figure()
    print("wrote", ", ".join(sorted(p.name for p in RESULTS.glob("*.png"))))
