"""Speaker-independent accuracy of the default pipeline and the loss ablation.

Leave-one-speaker-out on EmoDB (10 folds) and EMOVO (6 folds) from ../shared/data, UA and WA
pooled over folds, beside the peer systems measured on the same folds.

    python benchmarks/accuracy.py                         # default pipeline + ablation rows
    python benchmarks/accuracy.py --configs default --corpora emodb
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from _common import (
    PEERS,
    RESULTS,
    append_json,
    evaluate,
    md_table,
    rst_table,
    stamp,
)

from sklearn_ser import make_ser_pipeline
from sklearn_ser.models import MultitaskCNN, count_parameters

# Written out in full (not relative to the current defaults) where they differ from them.
_CORPUS = {"standardize": "corpus"}
_CENTER, _RECON = {"lambda_center": 0.01}, {"lambda_recon": 0.1}
CONFIGS = {
    "default": ("make_ser_pipeline() defaults: log-mel, speaker std., softmax", {}),
    "multitask": ("defaults + center loss + reconstruction", {**_CENTER, **_RECON}),
    "center": ("defaults + center loss", _CENTER),
    "recon": ("defaults + reconstruction", _RECON),
    "mfcc": ("defaults with 40 MFCCs instead of log-mel", {"features": "mfcc"}),
    "corpus": ("defaults with corpus std.", _CORPUS),
    "corpus-multitask": (
        "corpus std. + center loss + reconstruction",
        {**_CORPUS, **_CENTER, **_RECON},
    ),
    "corpus-center": ("corpus std. + center loss", {**_CORPUS, **_CENTER}),
    "corpus-recon": ("corpus std. + reconstruction", {**_CORPUS, **_RECON}),
}


def n_parameters(pipe, n_classes: int) -> int:
    clf = pipe.named_steps["classifier"]
    extractor = pipe.named_steps["features"]
    n_bins = len(extractor.fit([[0.0] * 16000]).get_feature_names_out())
    routed = {
        k[len("module__") :]: v for k, v in clf.get_params().items() if k.startswith("module__")
    }
    if clf.lambda_recon == 0:  # SERClassifier builds no decoder then
        routed.setdefault("reconstruct", False)
    module = (clf.module or MultitaskCNN)(
        n_classes=n_classes, input_shape=(n_bins, extractor.n_frames_), **routed
    )
    return count_parameters(module)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", nargs="+", default=["emodb", "emovo"])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="PARAM=VALUE",
        help="extra classifier parameters for every config (python literals)",
    )
    parser.add_argument(
        "--n-jobs", type=int, default=None, help="folds trained in parallel (joblib)"
    )
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument(
        "--report",
        action="store_true",
        help="only rebuild results/accuracy.rst from results/accuracy.jsonl",
    )
    args = parser.parse_args()
    if args.report:
        return report()
    import ast

    extra = {k: ast.literal_eval(v) for k, v in (s.split("=", 1) for s in args.set)}
    rows = []
    for corpus in args.corpora:
        for name in args.configs:
            label, params = CONFIGS[name]
            make = functools.partial(make_ser_pipeline, **{**params, **extra})
            start = time.perf_counter()
            res = evaluate(make, corpus, verbose=0 if args.quiet else 1, n_jobs=args.n_jobs)
            pipe = make()
            epochs = pipe.named_steps["classifier"].max_epochs
            n_par = n_parameters(pipe, 7)
            row = [
                corpus,
                label,
                f"{res['ua']:.1f}",
                f"{res['wa']:.1f}",
                f"{res['ua']:.1f}",
                f"{res['ua_std']:.1f}",
                f"{n_par / 1e3:.0f}k",
                f"{res['fit_s'] / epochs:.2f}",
                f"{res['wall_s'] / 60:.1f}",
            ]
            rows.append(row)
            append_json(
                "accuracy",
                {
                    "corpus": corpus,
                    "config": name,
                    "extra": repr(extra),
                    **res,
                    "params": n_par,
                    "n_jobs": args.n_jobs,
                    "time": time.time() - start,
                },
            )
            print(md_table(HEADER, [row]), flush=True)
    for corpus in args.corpora:
        for peer, ua, wa in PEERS[corpus]:
            rows.append([corpus, f"peer: {peer}", ua, wa, "", "", "", "", ""])
    print(md_table(HEADER, rows))


def report() -> None:
    """The table of every (corpus, config) measured with no --set, over all its runs.

    Training is not seeded, so repeated runs of a configuration differ; UA and WA are the
    mean over runs, with each run's UA listed, and the timings are those of the last run.
    """
    import json

    runs: dict[tuple, list[dict]] = {}
    for line in (RESULTS / "accuracy.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if rec.get("extra", "{}") == "{}":
            runs.setdefault((rec["corpus"], rec["config"]), []).append(rec)
    rows = []
    for corpus in ("emodb", "emovo"):
        for name, (label, _) in CONFIGS.items():
            recs = runs.get((corpus, name))
            if not recs:
                continue
            last = recs[-1]
            epochs = last.get("epochs", 40)
            rows.append(
                [
                    corpus,
                    label,
                    f"{np.mean([r['ua'] for r in recs]):.1f}",
                    f"{np.mean([r['wa'] for r in recs]):.1f}",
                    ", ".join(f"{r['ua']:.1f}" for r in recs),
                    f"{np.mean([r['ua_std'] for r in recs]):.1f}",
                    f"{n_parameters(make_ser_pipeline(**CONFIGS[name][1]), 7) / 1e3:.0f}k",
                    f"{last['fit_s'] / epochs:.2f}",
                    f"{last['wall_s'] / 60:.1f}"
                    + (f" ({last['n_jobs']} jobs)" if last.get("n_jobs") else ""),
                ]
            )
        for peer, ua, wa in PEERS[corpus]:
            rows.append([corpus, f"peer: {peer}", ua, wa, "", "", "", "", ""])
    print(md_table(HEADER, rows))
    (RESULTS / "accuracy.rst").write_text(
        stamp() + " Leave-one-speaker-out, predictions pooled over folds. Training is not"
        " seeded: UA and WA are means over the runs listed (UA of each run); UA fold sd is"
        " the standard deviation of per-fold UA; s/epoch is one training thread; total min"
        " is the wall time of the last run's whole evaluation, feature extraction included,"
        " with two folds trained at a time where marked (2 jobs), else one run per core"
        " (two runs sharing the machine, and before the models' channels-last speed-up).\n\n"
        + rst_table(HEADER, rows)
        + "\n"
    )


HEADER = [
    "corpus",
    "system",
    "UA %",
    "WA %",
    "UA of each run",
    "UA fold sd",
    "params",
    "s/epoch",
    "total min",
]

if __name__ == "__main__":
    main()
