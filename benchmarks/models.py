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
# The training settings of make_ser_pipeline, so that only the network differs.
COMMON = {
    "max_epochs": 40,
    "lr": 2e-3,
    "class_weight": "balanced",
    "standardize": "speaker",
    "lambda_center": 0.0,
    "lambda_recon": 0.0,
    "random_state": 0,
}


def segmented(module, **params) -> Pipeline:
    return Pipeline(
        [
            ("features", MelSpectrogramExtractor(max_frames=300, pad_mode="wrap")),
            ("segments", Segmenter(segment_frames=SEGMENT)),
            ("classifier", SERClassifier(module, **{**COMMON, **params})),
        ]
    )


MODELS = {
    # Parameter counts without decoders: every model is trained by softmax alone.
    "MultitaskCNN": (
        lambda: make_ser_pipeline("cnn", random_state=0),
        MultitaskCNN,
        (64, 300),
        {"reconstruct": False, "channels": (8, 16, 32, 64)},
    ),
    # Channel widths comparable to the default MultitaskCNN's (8, 16, 32, 64).
    "CNN3D": (
        lambda: segmented(CNN3D, module__channels=(8, 16, 32)),
        CNN3D,
        (15, 64, SEGMENT),
        {"channels": (8, 16, 32), "reconstruct": False},
    ),
    "CNNLSTM": (
        lambda: segmented(CNNLSTM, module__channels=(8, 16)),
        CNNLSTM,
        (15, 64, SEGMENT),
        {"channels": (8, 16)},
    ),
}


def _with_epochs(make, epochs: int) -> Pipeline:
    pipe = make()
    pipe.named_steps["classifier"].set_params(max_epochs=epochs)
    return pipe


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
            if args.epochs:
                make = functools.partial(_with_epochs, make, args.epochs)
            cv = GroupKFold(args.folds) if args.folds else None
            res, wall = run(make, corpus, cv=cv, n_jobs=args.n_jobs)
            n_par = count_parameters(module(n_classes=7, input_shape=shape, **kwargs))
            epochs = make().named_steps["classifier"].max_epochs
            protocol = f"{args.folds} speaker folds" if args.folds else "LOSO"
            protocol += f", {epochs} epochs, speaker std., softmax"
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
                    "protocol": protocol,
                    "ua": res.ua,
                    "wa": res.wa,
                    "ua_std": float(np.std(res.fold_ua)),
                    "params": n_par,
                    "s_per_epoch": float(np.mean(res.fit_time)) / epochs,
                    "wall_s": wall,
                },
            )
            print(md_table(header, [row]), flush=True)
    report()


def report(args=None) -> None:
    """models.rst from the latest records; MultitaskCNN rows from the accuracy benchmark."""
    import json

    header = ["corpus", "protocol", "model", "UA %", "WA %", "UA fold sd", "params", "s/epoch"]
    latest = {}
    acc = RESULTS / "accuracy.jsonl"
    default_runs = [
        rec
        for rec in map(json.loads, acc.read_text().splitlines() if acc.exists() else [])
        if rec["config"] == "default" and rec.get("extra", "{}") == "{}"
    ]
    for corpus in sorted({rec["corpus"] for rec in default_runs}):
        runs = [rec for rec in default_runs if rec["corpus"] == corpus]
        latest[(corpus, f"LOSO, 40 epochs, speaker std., {len(runs)} runs", "MultitaskCNN")] = {
            "ua": np.mean([r["ua"] for r in runs]) / 100,
            "wa": np.mean([r["wa"] for r in runs]) / 100,
            "ua_std": np.mean([r["ua_std"] for r in runs]) / 100,
            "params": runs[-1]["params"],
            "s_per_epoch": runs[-1]["fit_s"] / runs[-1].get("epochs", 40),
        }
    path = RESULTS / "models.jsonl"
    for line in path.read_text().splitlines() if path.exists() else []:
        rec = json.loads(line)
        latest[(rec["corpus"], rec.get("protocol", "LOSO"), rec["model"])] = rec
    rows = [
        [
            c,
            p,
            m,
            f"{100 * r['ua']:.1f}",
            f"{100 * r['wa']:.1f}",
            f"{100 * r.get('ua_std', float('nan')):.1f}",
            f"{r['params'] / 1e3:.0f}k",
            f"{r.get('s_per_epoch', float('nan')):.2f}",
        ]
        for (c, p, m), r in sorted(latest.items())
    ]
    print(md_table(header, rows))
    (RESULTS / "models.rst").write_text(
        stamp()
        + " Predictions pooled over speaker-disjoint folds; one training thread per run, two"
        " runs sharing the machine.\n\n" + rst_table(header, rows) + "\n"
    )


def sweep(args) -> None:
    for t in args.temporal:
        for f in args.spectral:
            make = functools.partial(
                segmented,
                CNN3D,
                max_epochs=args.epochs,
                module__channels=(8, 16, 32),
                module__temporal_kernel=t,
                module__spectral_kernel=f,
            )
            res, _ = run(make, args.corpus, cv=GroupKFold(args.folds), n_jobs=args.n_jobs)
            append_json(
                "kernel_sweep",
                {
                    "corpus": args.corpus,
                    "temporal": t,
                    "spectral": f,
                    "ua": res.ua,
                    "wa": res.wa,
                    "folds": args.folds,
                    "epochs": args.epochs,
                    "standardize": COMMON["standardize"],
                    "losses": "softmax",
                },
            )
            print(f"temporal {t} spectral {f}: UA {100 * res.ua:.1f}", flush=True)
    sweep_report()


def sweep_report() -> None:
    """kernel_sweep.rst from every record of kernel_sweep.jsonl."""
    import json

    header = ["setting", "temporal kernel", "spectral kernel", "UA %", "WA %", "params"]
    rows = []
    for line in (RESULTS / "kernel_sweep.jsonl").read_text().splitlines():
        rec = json.loads(line)
        t, f = rec["temporal"], rec["spectral"]
        # The first records were trained with Tripathi et al.'s losses (and so a decoder).
        losses = rec.get("losses", "softmax + center + reconstruction")
        module = CNN3D(
            7,
            (15, 64, SEGMENT),
            temporal_kernel=t,
            spectral_kernel=f,
            channels=(8, 16, 32),
            reconstruct="reconstruction" in losses,
        )
        rows.append(
            [
                f"{rec.get('standardize', 'corpus')} std., {losses}",
                t,
                f,
                f"{100 * rec['ua']:.1f}",
                f"{100 * rec['wa']:.1f}",
                f"{count_parameters(module) / 1e3:.0f}k",
            ]
        )
    print(md_table(header, rows))
    (RESULTS / "kernel_sweep.rst").write_text(
        stamp() + " CNN3D (channels 8, 16, 32) on EMOVO, 2 speaker-grouped "
        "folds, 15 epochs; temporal extent over segments, spectral over mel bands.\n\n"
        + rst_table(header, rows)
        + "\n"
    )


def silhouette(args) -> None:
    """Silhouette of held-out speakers' embeddings: softmax only against center loss."""
    from sklearn_ser.metrics import embedding_silhouette, unweighted_accuracy

    bunch = load(args.corpus)
    files, y = np.asarray(bunch.filenames), np.asarray(bunch.target)
    groups = np.asarray(bunch.speaker)
    scores = {"softmax only": [], "+ center loss": []}
    uas = {k: [] for k in scores}
    for train, test in GroupKFold(args.folds).split(files, y, groups):
        for name, lam in (("softmax only", 0.0), ("+ center loss", args.lambda_center)):
            pipe = make_ser_pipeline("cnn", random_state=0, lambda_center=lam, lambda_recon=0.0)
            pipe.fit(list(files[train]), y[train], classifier__groups=groups[train])
            features = pipe[:-1].transform(list(files[test]))
            classifier = pipe.named_steps["classifier"]
            emb = classifier.transform(features, groups=groups[test])
            scores[name].append(embedding_silhouette(emb, y[test]))
            pred = classifier.predict(features, groups=groups[test])
            uas[name].append(unweighted_accuracy(y[test], pred))
            print(name, scores[name][-1], uas[name][-1], flush=True)
    append_json(
        "silhouette",
        {
            "corpus": args.corpus,
            "folds": args.folds,
            "lambda_center": args.lambda_center,
            "standardize": "speaker",
            **{k: list(map(float, v)) for k, v in scores.items()},
            "ua": {k: float(np.mean(v)) for k, v in uas.items()},
        },
    )
    silhouette_report()


def silhouette_report() -> None:
    """silhouette.rst: one row per model of every record in silhouette.jsonl."""
    import json

    header = ["standardisation", "model", "silhouette (held-out speakers)", "UA %"]
    rows = []
    records = [json.loads(line) for line in (RESULTS / "silhouette.jsonl").read_text().splitlines()]
    for rec in records:
        for name in ("softmax only", "+ center loss"):
            values = rec[name]
            model = name if name == "softmax only" else f"+ center loss ({rec['lambda_center']})"
            rows.append(
                [
                    rec.get("standardize", "corpus"),
                    model,
                    f"{np.mean(values):.3f} (sd {np.std(values):.3f})",
                    f"{100 * rec['ua'][name]:.1f}",
                ]
            )
    print(md_table(header, rows))
    settings = sorted({f"{r['corpus']}, {r['folds']}" for r in records})
    (RESULTS / "silhouette.rst").write_text(
        stamp() + f" {'; '.join(settings)} speaker-grouped folds: silhouette of the embeddings"
        " of the held-out speakers by emotion (1: tight, separate clusters; 0: overlapping), "
        "no reconstruction.\n\n" + rst_table(header, rows) + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compare")
    c.add_argument("--corpora", nargs="+", default=["emodb", "emovo"])
    c.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    c.add_argument("--n-jobs", type=int, default=None)
    c.add_argument("--epochs", type=int, default=None, help="override every model's epochs")
    c.add_argument(
        "--folds",
        type=int,
        default=None,
        help="speaker-grouped folds instead of leave-one-speaker-out",
    )
    s = sub.add_parser("sweep")
    s.add_argument("--corpus", default="emovo")
    s.add_argument("--folds", type=int, default=3)
    s.add_argument("--epochs", type=int, default=25)
    s.add_argument("--temporal", type=int, nargs="+", default=[1, 3, 5])
    s.add_argument("--spectral", type=int, nargs="+", default=[3, 7])
    s.add_argument("--n-jobs", type=int, default=None)
    sub.add_parser("report")
    h = sub.add_parser("silhouette")
    h.add_argument("--corpus", default="emodb")
    h.add_argument("--folds", type=int, default=3)
    h.add_argument("--lambda-center", type=float, default=0.1)
    args = parser.parse_args()

    def report_all(args) -> None:
        report(args)
        sweep_report()
        silhouette_report()

    commands = {"compare": compare, "sweep": sweep, "silhouette": silhouette, "report": report_all}
    commands[args.command](args)


if __name__ == "__main__":
    main()
