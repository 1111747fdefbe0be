"""MultitaskCNN vs CNN3D vs CNN-LSTM (Kim et al., ACII 2017), and a CNN3D kernel sweep.

    python benchmarks/models.py compare --corpora emodb emovo      # leave-one-speaker-out
    python benchmarks/models.py sweep --corpus emovo --folds 3     # kernel extents

The comparison uses the same log-mel input for every model: MultitaskCNN sees the whole
(64, 300) map (through the default pipeline); CNN3D and CNNLSTM see it as a stack of
20-frame (200 ms) segments from a Segmenter.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS, append_json, load, md_table, rst_table, stamp

from sklearn_ser import MelSpectrogramExtractor, Segmenter, SERClassifier, make_ser_pipeline
from sklearn_ser.model_selection import evaluate_speaker_independent
from sklearn_ser.models import CNN3D, CNNLSTM, MultitaskCNN, count_parameters

SEGMENT = 20
COMMON = {"max_epochs": 40, "lr": 2e-3, "class_weight": "balanced", "random_state": 0}


def segmented(module, **params) -> Pipeline:
    return Pipeline(
        [
            ("features", MelSpectrogramExtractor(max_frames=300, pad_mode="wrap")),
            ("segments", Segmenter(segment_frames=SEGMENT)),
            ("classifier", SERClassifier(module, **{**COMMON, **params})),
        ]
    )


MODELS = {
    "MultitaskCNN": (lambda: make_ser_pipeline(random_state=0), MultitaskCNN, (64, 200), {}),
    "CNN3D": (lambda: segmented(CNN3D), CNN3D, (15, 64, SEGMENT), {}),
    "CNNLSTM": (lambda: segmented(CNNLSTM, lambda_recon=0.0), CNNLSTM, (15, 64, SEGMENT), {}),
}


def run(make, corpus: str, cv=None, n_jobs: int | None = None) -> tuple[dict, float]:
    bunch = load(corpus)
    start = time.perf_counter()
    res = evaluate_speaker_independent(
        make(),
        list(bunch.filenames),
        bunch.target,
        bunch.speaker,
        cv=cv,
        n_jobs=n_jobs,
        verbose=1,
    )
    return res, time.perf_counter() - start


def compare(args) -> None:
    header = ["corpus", "model", "UA %", "WA %", "UA fold sd", "params", "s/epoch"]
    rows = []
    for corpus in args.corpora:
        for name in args.models:
            make, module, shape, kwargs = MODELS[name]
            res, wall = run(make, corpus, n_jobs=args.n_jobs)
            n_par = count_parameters(module(n_classes=7, input_shape=shape, **kwargs))
            epochs = make().named_steps["classifier"].max_epochs
            row = [
                corpus,
                name,
                f"{100 * res.ua:.1f}",
                f"{100 * res.wa:.1f}",
                f"{100 * np.std(res.fold_ua):.1f}",
                f"{n_par / 1e3:.0f}k",
                f"{np.mean(res.fit_time) / epochs:.2f}",
            ]
            rows.append(row)
            append_json(
                "models",
                {
                    "corpus": corpus,
                    "model": name,
                    "ua": res.ua,
                    "wa": res.wa,
                    "params": n_par,
                    "wall_s": wall,
                },
            )
            print(md_table(header, [row]), flush=True)
    print(md_table(header, rows))
    (RESULTS / "models.rst").write_text(
        stamp() + " Leave-one-speaker-out, pooled.\n\n" + rst_table(header, rows) + "\n"
    )


def sweep(args) -> None:
    header = ["temporal kernel", "spectral kernel", "UA %", "WA %", "params"]
    rows = []
    for t in args.temporal:
        for f in args.spectral:
            make = functools.partial(
                segmented,
                CNN3D,
                max_epochs=args.epochs,
                module__temporal_kernel=t,
                module__spectral_kernel=f,
            )
            res, _ = run(make, args.corpus, cv=GroupKFold(args.folds), n_jobs=args.n_jobs)
            n_par = count_parameters(
                CNN3D(7, (15, 64, SEGMENT), temporal_kernel=t, spectral_kernel=f)
            )
            rows.append([t, f, f"{100 * res.ua:.1f}", f"{100 * res.wa:.1f}", f"{n_par / 1e3:.0f}k"])
            append_json(
                "kernel_sweep",
                {"corpus": args.corpus, "temporal": t, "spectral": f, "ua": res.ua, "wa": res.wa},
            )
            print(md_table(header, [rows[-1]]), flush=True)
    print(md_table(header, rows))
    (RESULTS / "kernel_sweep.rst").write_text(
        stamp() + f" CNN3D on {args.corpus}, {args.folds} speaker-grouped folds, "
        f"{args.epochs} epochs.\n\n" + rst_table(header, rows) + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compare")
    c.add_argument("--corpora", nargs="+", default=["emodb", "emovo"])
    c.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    c.add_argument("--n-jobs", type=int, default=None)
    s = sub.add_parser("sweep")
    s.add_argument("--corpus", default="emovo")
    s.add_argument("--folds", type=int, default=3)
    s.add_argument("--epochs", type=int, default=25)
    s.add_argument("--temporal", type=int, nargs="+", default=[1, 3, 5])
    s.add_argument("--spectral", type=int, nargs="+", default=[3, 7])
    s.add_argument("--n-jobs", type=int, default=None)
    args = parser.parse_args()
    compare(args) if args.command == "compare" else sweep(args)


if __name__ == "__main__":
    main()
