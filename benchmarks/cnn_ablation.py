"""The seeds' ablation of the multitask CNN, and its training choices, on speaker folds.

Tripathi et al. (2019) claim that center loss and input reconstruction each improve a
softmax CNN for speech emotion recognition. This script trains ``make_ser_pipeline("cnn")``
(log-mel input, per-speaker standardisation) with one change at a time and scores every
fitted model file alone (``groups`` omitted) and with the test speaker's context (its
unlabelled files together, with their speaker id), predictions pooled over the held-out
speakers:

* ``full-context``: trained with each speaker's full context (the recipe before issue 22);
* ``softmax``: trained with random speaker context, cross-entropy alone;
* ``center``: + center loss (``lambda_center=0.01``);
* ``recon``: + reconstruction (``lambda_recon=0.1``, the exact decoder);
* ``both``: + center loss + reconstruction (the paper's model);
* ``mixup``, ``ema``: ``softmax`` + mixup in the standardised input (``mixup_alpha=0.2``),
  or + an average of the weights (``ema_decay=0.999``).

Each record (``results/cnn_ablation.jsonl``) names the commit, protocol, seed, the
held-out speakers and the epochs, so a reduced run (fewer speaker folds, one seed, fewer
epochs) is never mistaken for the full one. The full version:

    python benchmarks/cnn_ablation.py --corpora emodb emovo --seeds 0 1 2 --folds 0

(``--folds 0``: every leave-one-speaker-out fold; ``--epochs`` defaults to the recipe's).
A reduced one, as run on a shared 2-core machine:

    python benchmarks/cnn_ablation.py --corpora emodb --seeds 0 --folds 3 --epochs 20
    python benchmarks/cnn_ablation.py --report   # rebuild results/cnn_ablation.rst
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from _common import RESULTS, commit, load, machine, rst_table
from sklearn.base import clone
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import LeaveOneGroupOut

from sklearn_ser import make_ser_pipeline

CONFIGS: dict[str, dict] = {
    "full-context": {"speaker_context": "full"},
    "softmax": {"speaker_context": "random"},
    "center": {"speaker_context": "random", "lambda_center": 0.01},
    "recon": {"speaker_context": "random", "lambda_recon": 0.1},
    "both": {"speaker_context": "random", "lambda_center": 0.01, "lambda_recon": 0.1},
    "mixup": {"speaker_context": "random", "mixup_alpha": 0.2},
    "ema": {"speaker_context": "random", "ema_decay": 0.999},
}
PROTOCOLS = {"alone": "file alone", "context": "speaker context"}
RECORDS = RESULTS / "cnn_ablation.jsonl"
COMMIT = commit()  # the code the run started with, not the HEAD when a record is written


def features(corpus: str, cache: Path) -> np.ndarray:
    """The CNN recipe's log-mel features of every file of ``corpus``, cached on disk."""
    path = cache / f"{corpus}_cnn_logmel.npy"
    if path.exists():
        return np.load(path)
    extractor = make_ser_pipeline("cnn").steps[0][1]
    start = time.perf_counter()
    X = np.asarray(extractor.fit_transform(list(load(corpus).filenames)), dtype=np.float32)
    print(f"{corpus}: features {X.shape} in {time.perf_counter() - start:.0f} s", flush=True)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, X)
    return X


def run(corpus, config, seed, X, y, groups, folds, epochs) -> dict:
    """Probabilities of the held-out files, file alone and in context, pooled over folds."""
    import sklearn

    sklearn.set_config(enable_metadata_routing=True)
    model = make_ser_pipeline("cnn", random_state=seed)[-1]
    params = {**CONFIGS[config], "random_state": seed}
    if epochs:
        params["max_epochs"] = epochs
    model.set_params(**params)
    classes = np.unique(y)
    proba = {p: np.zeros((len(y), len(classes))) for p in PROTOCOLS}
    held, fit_s, train_loss = [], [], []
    for train, test in folds:
        clf = clone(model)
        start = time.perf_counter()
        clf.fit(X[train], y[train], groups=groups[train])
        fit_s.append(time.perf_counter() - start)
        train_loss.append(float(clf.history_[-1, "train_ce"]))
        proba["alone"][test] = np.vstack([clf.predict_proba(X[i : i + 1]) for i in test])
        proba["context"][test] = clf.predict_proba(X[test], groups=groups[test])
        held.append(str(groups[test[0]]))
        print(f"  {config} seed {seed} speaker {held[-1]}: {fit_s[-1]:.0f} s", flush=True)
    scored = np.concatenate([test for _, test in folds])
    rows = []
    for p, name in PROTOCOLS.items():
        pred = classes[proba[p][scored].argmax(1)]
        rows.append(
            {
                "commit": COMMIT,
                "date": date.today().isoformat(),
                "machine": machine(),
                "corpus": corpus,
                "config": config,
                "params": {k: v for k, v in params.items() if k != "random_state"},
                "protocol": name,
                "seed": seed,
                "folds": f"leave-one-speaker-out, {len(folds)} of "
                f"{len(np.unique(groups))} folds, pooled",
                "held_out": held,
                "epochs": int(model.get_params()["max_epochs"] if not epochs else epochs),
                "ua": 100 * balanced_accuracy_score(y[scored], pred),
                "wa": 100 * accuracy_score(y[scored], pred),
                "final_train_ce": float(np.mean(train_loss)),
                "fit_s": float(np.mean(fit_s)),
            }
        )
    return rows


def report() -> None:
    """results/cnn_ablation.rst from the records: one table per corpus, folds and epochs."""
    recs = [json.loads(line) for line in RECORDS.read_text().splitlines() if line.strip()]
    cells: dict = {}
    for r in recs:
        key = (r["corpus"], r["folds"], r["epochs"], r["config"])
        cells.setdefault(key, {}).setdefault(r["protocol"], []).append(r)
    lines = [
        "CNN ablation (the seeds' claims and the training choices of issue 22)",
        "=" * 70,
        "",
        "Generated by ``benchmarks/cnn_ablation.py --report`` from ``cnn_ablation.jsonl``.",
        "UA / WA in %, predictions pooled over the held-out speakers; mean +- sd over seeds.",
        "**Reduced runs** (fewer speaker folds, one seed, fewer epochs than the recipe's 40)",
        "are labelled so in the table's title: their differences are within a few points of",
        "noise and do not settle a default by themselves. The full version:",
        "``python benchmarks/cnn_ablation.py --corpora emodb emovo --seeds 0 1 2 --folds 0``.",
        "",
    ]
    groups: dict = {}
    for (corpus, folds, epochs, config), by_protocol in cells.items():
        groups.setdefault((corpus, folds, epochs), []).append((config, by_protocol))
    order = list(CONFIGS)
    for (corpus, folds, epochs), rows in groups.items():
        rows.sort(key=lambda item: order.index(item[0]) if item[0] in order else len(order))
        any_rec = next(iter(rows[0][1].values()))[0]
        title = f"{corpus}: {folds} (held out {', '.join(any_rec['held_out'])}), {epochs} epochs"
        lines += [title, "-" * len(title), ""]
        table = []
        for config, by_protocol in rows:
            row = [config]
            for name in PROTOCOLS.values():
                rs = by_protocol.get(name, [])
                ua = np.array([r["ua"] for r in rs])
                seeds = len(ua)
                row.append(
                    f"{ua.mean():.1f} +- {ua.std():.1f}"
                    if seeds > 1
                    else f"{ua.mean():.1f}"
                    if seeds
                    else "-"
                )
            rs = next(iter(by_protocol.values()))
            row += [
                len(rs),
                f"{np.mean([r['final_train_ce'] for r in rs]):.2f}",
                f"{np.mean([r['fit_s'] for r in rs]):.0f}",
                rs[-1]["commit"],
            ]
            table.append(row)
        header = ["config", "UA file alone", "UA speaker context", "seeds", "train CE", "fit s"]
        lines += [rst_table([*header, "commit"], table), ""]
        lines += [
            f"Measured on {any_rec['machine']} (shared with other jobs; fit s is wall time).",
            "",
        ]
    (RESULTS / "cnn_ablation.rst").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", nargs="+", default=["emodb"])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--folds", type=int, default=0, help="first N speaker folds; 0: all")
    parser.add_argument("--epochs", type=int, default=0, help="0: the recipe's max_epochs")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/sklearn_ser_cnn_ablation"))
    parser.add_argument("--report", action="store_true", help="only rebuild the report")
    args = parser.parse_args()
    if not args.report:
        import torch

        torch.set_num_threads(1)
        for corpus in args.corpora:
            bunch = load(corpus)
            y, groups = np.asarray(bunch.target), np.asarray(bunch.speaker)
            X = features(corpus, args.cache)
            folds = list(LeaveOneGroupOut().split(X, y, groups))
            folds = folds[: args.folds] if args.folds else folds
            for seed in args.seeds:
                for config in args.configs:
                    rows = run(corpus, config, seed, X, y, groups, folds, args.epochs)
                    with RECORDS.open("a") as f:
                        for row in rows:
                            f.write(json.dumps(row) + "\n")
                    print(
                        f"{corpus} {config} seed {seed}: "
                        + ", ".join(f"{r['protocol']} {r['ua']:.1f}" for r in rows),
                        flush=True,
                    )
                    report()
    report()


if __name__ == "__main__":
    main()
