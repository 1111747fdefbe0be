"""Speaker-independent accuracy under both protocols, several seeds per system.

Leave one speaker out on EmoDB (10 folds) and EMOVO (6 folds) from ../shared/data,
predictions pooled over folds. Every fitted model is scored twice:

* **file alone**: each test file predicted by itself (``groups`` omitted);
* **speaker context**: the test speaker's unlabelled files predicted together with its id.

Systems (all built by the library's own factories, defaults unless named):

* ``functionals``: ``make_ser_pipeline()``, the recommended pipeline
  (``FunctionalsExtractor`` -> ``SpeakerStandardScaler(training_context="random")`` ->
  ``LogisticRegression``);
* ``cnn``: ``make_ser_pipeline(model="cnn")``, the log-mel CNN (``SERClassifier``);
* ``fusion``: ``make_ser_pipeline(model="fusion")``, their averaged probabilities, scored
  from the two members trained for the rows above (the same fitted models, no retraining);
* ``functionals-full``, ``functionals-corpus``: the default with one change (the scaler
  trained with each speaker's full context only; corpus standardisation), to show what
  the random training context and the speaker statistics do;
* ``peer-*``: openSMILE functionals + RBF SVM with ``SpeakerStandardScaler`` (context) or
  ``StandardScaler`` (alone), C on inner speaker folds, read from ``functionals.jsonl``
  (``benchmarks/functionals.py`` measures them).

The extractors learn nothing from their data (``fit`` only validates), so each corpus is
featurised once and the folds train the rest of each pipeline on those features. Each
run's pooled probabilities are kept in a temporary folder, so that the fusion rows of a
seed are scored from the two members whenever both have been run, in one call or two.

    python benchmarks/accuracy.py --systems functionals cnn --seeds 0 1 2
    python benchmarks/accuracy.py --report      # rebuild results/accuracy.rst from the records
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from _common import RESULTS, commit, load, machine, md_table, rst_table
from sklearn.base import clone
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import LeaveOneGroupOut
from sklearn.utils.parallel import Parallel, delayed  # carries the routing setting to workers

from sklearn_ser import make_ser_pipeline
from sklearn_ser.ensemble import call_with_groups

PROTOCOLS = {"alone": "file alone", "context": "speaker context"}
PROBA = Path(tempfile.gettempdir()) / "sklearn_ser_accuracy"
LABELS = {
    "functionals": "make_ser_pipeline() (functionals, per-speaker std. with random context, LR)",
    "functionals-full": "the same, trained with each speaker's full context only",
    "functionals-corpus": "the same with corpus standardisation (StandardScaler)",
    "cnn": 'make_ser_pipeline("cnn") (log-mel CNN, per-speaker std.)',
    "fusion": 'make_ser_pipeline("fusion") (functionals + CNN, probabilities averaged)',
}


def make_system(system: str):
    """The pipeline of a system: the library's factory, or it with one change."""
    if system in ("functionals", "cnn"):
        return make_ser_pipeline(system)
    pipe = make_ser_pipeline()
    if system == "functionals-full":
        return pipe.set_params(scaler__training_context="full")
    if system == "functionals-corpus":
        from sklearn.preprocessing import StandardScaler

        return pipe.set_params(scaler=StandardScaler())
    raise ValueError(f"unknown system {system!r}")


# The better peer per corpus and protocol (../shared/data/README.md and functionals.jsonl).
PEER_SETS = ("ComParE_2016", "eGeMAPSv02")


def split(pipe):
    """(extractor, rest of the pipeline): features are computed once per corpus."""
    return pipe.steps[0][1], pipe[1:]


def features(corpus: str, extractor, cache: dict) -> np.ndarray:
    key = (corpus, repr(extractor))
    if key not in cache:
        bunch = load(corpus)
        start = time.perf_counter()
        cache[key] = clone(extractor).fit_transform(list(bunch.filenames))
        print(f"  {corpus}: features {cache[key].shape} in {time.perf_counter() - start:.0f} s")
    return cache[key]


def fold(model, X, y, groups, train, test, seed):
    """Fit on the training speakers; probabilities of the test files alone and in context."""
    import torch

    torch.set_num_threads(1)
    model = clone(model)
    if "random_state" in model.get_params():
        model.set_params(random_state=seed)
    for name in [k for k in model.get_params() if k.endswith("__random_state")]:
        model.set_params(**{name: seed})
    start = time.perf_counter()
    call_with_groups(model, "fit", X[train], y[train], groups=groups[train])
    fit_s = time.perf_counter() - start
    alone = np.vstack([model.predict_proba(X[i : i + 1]) for i in test])
    context = call_with_groups(model, "predict_proba", X[test], groups=groups[test])
    return test, {"alone": alone, "context": context}, fit_s, model.classes_


def run(corpus: str, system: str, seed: int, n_jobs: int, cache: dict) -> dict:
    """Probabilities of every file under both protocols, pooled over the speaker folds."""
    import sklearn

    sklearn.set_config(enable_metadata_routing=True)
    bunch = load(corpus)
    y, groups = np.asarray(bunch.target), np.asarray(bunch.speaker)
    extractor, model = split(make_system(system))
    X = features(corpus, extractor, cache)
    folds = list(LeaveOneGroupOut().split(X, y, groups))
    start = time.perf_counter()
    outs = Parallel(n_jobs=n_jobs)(
        delayed(fold)(model, X, y, groups, train, test, seed) for train, test in folds
    )
    classes = outs[0][3]
    proba = {p: np.zeros((len(y), len(classes))) for p in PROTOCOLS}
    for test, probs, _, _ in outs:
        for p in PROTOCOLS:
            proba[p][test] = probs[p]
    return {
        "classes": classes,
        "proba": proba,
        "y": y,
        "fit_s": float(np.mean([o[2] for o in outs])),
        "wall_s": time.perf_counter() - start,
        "n_folds": len(folds),
        "epochs": getattr(model[-1], "max_epochs", None),
    }


def record(corpus: str, system: str, seed: int, res: dict, n_jobs: int) -> list[dict]:
    rows = []
    for p, label in PROTOCOLS.items():
        pred = res["classes"][res["proba"][p].argmax(1)]
        rows.append(
            {
                "commit": commit(),
                "date": date.today().isoformat(),
                "machine": machine(),
                "corpus": corpus,
                "system": system,
                "protocol": label,
                "seed": seed,
                "folds": f"leave-one-speaker-out ({res['n_folds']} folds), pooled",
                "epochs": res["epochs"],
                "ua": 100 * balanced_accuracy_score(res["y"], pred),
                "wa": 100 * accuracy_score(res["y"], pred),
                "fit_s": res["fit_s"],
                "wall_s": res["wall_s"],
                "n_jobs": n_jobs,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", nargs="+", default=["emodb", "emovo"])
    parser.add_argument(
        "--systems",
        nargs="+",
        default=["functionals", "cnn"],
        choices=[name for name in LABELS if name != "fusion"],
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--n-jobs", type=int, default=2, help="folds trained in parallel")
    parser.add_argument("--report", action="store_true", help="only rebuild the report")
    args = parser.parse_args()
    if args.report:
        return report()
    cache: dict = {}
    PROBA.mkdir(exist_ok=True)
    for corpus in args.corpora:
        for seed in args.seeds:
            for system in args.systems:
                res = run(corpus, system, seed, args.n_jobs, cache)
                write(corpus, system, seed, res, args.n_jobs)
                np.savez(
                    PROBA / f"{corpus}_{system}_{seed}.npz",
                    classes=res["classes"],
                    y=res["y"],
                    meta=json.dumps({k: res[k] for k in ("fit_s", "wall_s", "n_folds", "epochs")}),
                    **{p: res["proba"][p] for p in PROTOCOLS},
                )
            members = [PROBA / f"{corpus}_{m}_{seed}.npz" for m in ("functionals", "cnn")]
            if all(m.exists() for m in members) and set(args.systems) & {"functionals", "cnn"}:
                write(corpus, "fusion", seed, fuse(*members), args.n_jobs)
    report()


def fuse(*paths: Path) -> dict:
    """The fusion's result from its members' saved probabilities (equal weights)."""
    runs = [np.load(p) for p in paths]
    assert all(list(r["classes"]) == list(runs[0]["classes"]) for r in runs)
    meta = [json.loads(str(r["meta"])) for r in runs]
    return {
        "classes": runs[0]["classes"],
        "y": runs[0]["y"],
        "proba": {p: np.mean([r[p] for r in runs], axis=0) for p in PROTOCOLS},
        "fit_s": sum(m["fit_s"] for m in meta),
        "wall_s": sum(m["wall_s"] for m in meta),
        "n_folds": meta[0]["n_folds"],
        "epochs": max((m["epochs"] or 0) for m in meta) or None,
    }


def write(corpus: str, system: str, seed: int, res: dict, n_jobs: int) -> None:
    for rec in record(corpus, system, seed, res, n_jobs):
        with (RESULTS / "accuracy.jsonl").open("a") as out:
            out.write(json.dumps(rec) + "\n")
        print(
            f"{corpus} seed {seed} {system:12s} {rec['protocol']:16s} "
            f"UA {rec['ua']:.1f} WA {rec['wa']:.1f}",
            flush=True,
        )


def _peers() -> dict:
    """Best openSMILE + SVM UA per (corpus, protocol) from the functionals benchmark."""
    best: dict = {}
    path = RESULTS / "functionals.jsonl"
    if not path.exists():
        return best
    names = {"alone": "file alone", "speaker ctx": "speaker context"}
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        if rec.get("kind") != "accuracy" or rec.get("feature_set") not in PEER_SETS:
            continue
        key = (rec["corpus"], names.get(rec["protocol"], rec["protocol"]))
        if rec["ua"] > best.get(key, ("", -1.0))[1]:
            best[key] = (rec["feature_set"], rec["ua"])
    return best


def report() -> None:
    """Mean and spread over seeds of every (corpus, system, protocol) in the records."""
    runs: dict = {}
    for line in (RESULTS / "accuracy.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if "protocol" not in rec or "seed" not in rec:
            continue  # records of the earlier single-protocol benchmark
        runs.setdefault((rec["corpus"], rec["system"], rec["protocol"]), []).append(rec)
    peers = _peers()
    header = ["corpus", "protocol", "system", "UA % (mean ± sd)", "WA %", "seeds", "commit"]
    rows = []
    for corpus in ("emodb", "emovo"):
        for label in PROTOCOLS.values():
            for system in LABELS:
                recs = runs.get((corpus, system, label))
                if not recs:
                    continue
                # The latest run of each seed.
                by_seed = {r["seed"]: r for r in recs}
                ua = np.array([r["ua"] for r in by_seed.values()])
                wa = np.array([r["wa"] for r in by_seed.values()])
                rows.append(
                    [
                        corpus,
                        label,
                        LABELS[system],
                        f"{ua.mean():.1f} ± {ua.std():.1f}",
                        f"{wa.mean():.1f}",
                        ", ".join(str(s) for s in sorted(by_seed)),
                        ", ".join(sorted({r["commit"] for r in by_seed.values()})),
                    ]
                )
            if (corpus, label) in peers:
                name, ua = peers[(corpus, label)]
                rows.append([corpus, label, f"best peer: openSMILE {name} + SVM", f"{ua:.1f}"])
                rows[-1] += ["", "n/a", ""]
    print(md_table(header, rows))
    dates = sorted({r["date"] for recs in runs.values() for r in recs})
    (RESULTS / "accuracy.rst").write_text(
        f"Measured {', '.join(dates)} on {machine()} (no GPU). Leave one speaker out, "
        "predictions pooled over folds; each fitted model scored file alone and with "
        "speaker context; mean ± standard deviation over the seeds listed. Peers: "
        "openSMILE functionals + RBF SVM, C on inner speaker folds, with the library's "
        "SpeakerStandardScaler for speaker context (benchmarks/functionals.py). Fusion rows "
        "average the probabilities of the functionals and CNN runs of the same seed (their "
        "commit: the run that scored them).\n\n" + rst_table(header, rows) + "\n"
    )


if __name__ == "__main__":
    main()
