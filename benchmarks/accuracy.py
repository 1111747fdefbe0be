"""Speaker-independent accuracy of the default and its peers on equal footing.

Leave one speaker out on EmoDB (10 folds) and EMOVO (6 folds) from ../shared/data,
predictions pooled over folds. Every fitted model is scored under several protocols:

* **file alone**: each test file predicted by itself (``groups`` omitted);
* **speaker context**: the test speaker's unlabelled files predicted together with its id;
* realistic contexts, each test file predicted with a few of its speaker's other files
  (drawn with the run's seed; the file's own prediction is scored): **file + 5** and
  **file + 20** random files, and **file + one emotion** (all its speaker's other files of
  one emotion, for each emotion; the report gives neutral, the mean over emotions and the
  worst emotion, as ``benchmarks/tune_context.py`` does). Models without speaker statistics
  are scored file alone and with full context only.

Systems:

* ``functionals``: ``make_ser_pipeline()``, the recommended pipeline
  (``FunctionalsExtractor`` -> ``SpeakerStandardScaler(training_context="random")`` ->
  ``LogisticRegression``);
* ``compare-lr``, ``egemaps-lr``: the peers on equal footing, openSMILE ComParE_2016 and
  eGeMAPSv02 functionals of the same 16 kHz audio (the library's loader resamples each file
  before openSMILE sees it) through the default's own scaler and classifier;
* ``functionals-svm``, ``compare-svm``, ``egemaps-svm``: the same three feature sets through
  the classic peer recipe: ``StandardScaler`` -> RBF SVM (file alone), with the library's
  ``SpeakerStandardScaler`` first for speaker context (``benchmarks/functionals.py``'s
  ``loso``, a separate model per protocol, deterministic). With the rows above, the
  ablation of what the default's margin is made of;
* ``functionals-full``, ``functionals-corpus``: the default with one change (the scaler
  trained with each speaker's full context only; corpus standardisation);
* ``cnn``: ``make_ser_pipeline(model="cnn")``, the log-mel CNN (``SERClassifier``);
* ``fusion``: ``make_ser_pipeline(model="fusion")``, scored from the probabilities of the
  ``functionals`` and ``cnn`` runs of the same seed (no retraining).

**Nested selection.** Every linear model's C (the default's included) is chosen inside
each outer fold on inner speaker folds of that fold's training speakers
(``tune_functionals.inner_folds``: leave one speaker out on EMOVO, 3 speaker folds on EmoDB),
from the same grid for every system (``tune_functionals.choose_c``), with the first seed
of the call (the later seeds reuse each fold's own choice); the SVM's C likewise
(``functionals.loso``). No test speaker influences a choice for its own fold or another.

The extractors learn nothing from their data (``fit`` only validates), so each corpus is
featurised once; openSMILE's features are cached under ``--cache``.

    python benchmarks/accuracy.py --systems functionals compare-lr --seeds 0 1 2
    python benchmarks/accuracy.py --report      # rebuild results/accuracy.rst from the records
"""

from __future__ import annotations

import argparse
import functools
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
from tune_functionals import GRID, SELECTION, choose_c, inner_scores

from sklearn_ser import make_ser_pipeline
from sklearn_ser.ensemble import call_with_groups, wants_groups

PROTOCOLS = {"alone": "file alone", "context": "speaker context"}
# Realistic amounts of speaker context (issue 20): the file and some of its speaker's files.
CONTEXTS = {
    "plus5": "file + 5 random files",
    "plus20": "file + 20 random files",
}
EMOTION = "file + its speaker's {} files"  # one protocol per emotion
ALL_PROTOCOLS = {**PROTOCOLS, **CONTEXTS}
PROBA = Path(tempfile.gettempdir()) / "sklearn_ser_accuracy"
OPENSMILE = {"compare": "ComParE_2016", "egemaps": "eGeMAPSv02"}
LABELS = {
    "functionals": "make_ser_pipeline() (functionals, per-speaker std. with random context, LR)",
    "compare-lr": "openSMILE ComParE_2016, the default's scaler + LR",
    "egemaps-lr": "openSMILE eGeMAPSv02, the default's scaler + LR",
    "functionals-svm": "the default's functionals, the peers' scalers + SVM",
    "compare-svm": "openSMILE ComParE_2016 + SVM (the classic peer)",
    "egemaps-svm": "openSMILE eGeMAPSv02 + SVM (the classic peer)",
    "functionals-full": "the default, trained with each speaker's full context only",
    "functionals-corpus": "the default with corpus standardisation (StandardScaler)",
    "cnn": 'make_ser_pipeline("cnn") (log-mel CNN, per-speaker std.)',
    "fusion": 'make_ser_pipeline("fusion") (functionals + CNN, probabilities averaged)',
}
SVM = {"functionals-svm", "compare-svm", "egemaps-svm"}
TUNED = {"functionals", "compare-lr", "egemaps-lr", "functionals-full", "functionals-corpus"}


def make_system(system: str):
    """(extractor or openSMILE set name, the rest of the pipeline) of a system."""
    if system == "cnn":
        pipe = make_ser_pipeline("cnn")
        return pipe.steps[0][1], pipe[1:]
    pipe = make_ser_pipeline()
    extractor, model = pipe.steps[0][1], pipe[1:]
    source = OPENSMILE.get(system.split("-")[0], extractor)
    if system == "functionals-full":
        model.set_params(scaler__training_context="full")
    elif system == "functionals-corpus":
        from sklearn.preprocessing import StandardScaler

        model.set_params(scaler=StandardScaler())
    return source, model


def opensmile_features(corpus: str, feature_set: str, cache: Path) -> np.ndarray:
    """openSMILE functionals of each file at 16 kHz (the default's rate), cached."""
    path = cache / f"{corpus}_{feature_set}_16k.npy"
    if path.exists():
        return np.load(path)
    import opensmile

    from sklearn_ser import load_audio

    smile = opensmile.Smile(
        feature_set=getattr(opensmile.FeatureSet, feature_set),
        feature_level=opensmile.FeatureLevel.Functionals,
    )
    start = time.perf_counter()
    X = np.vstack(
        [
            smile.process_signal(load_audio(str(f), sr=16000), 16000).to_numpy(np.float64)
            for f in load(corpus).filenames
        ]
    )
    print(f"  {corpus}: {feature_set} {X.shape} in {time.perf_counter() - start:.0f} s")
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, X)
    return X


def features(corpus: str, source, cache: dict, disk: Path) -> np.ndarray:
    key = (corpus, source if isinstance(source, str) else repr(source))
    if key not in cache:
        if isinstance(source, str):
            X = opensmile_features(corpus, source, disk)
        else:
            start = time.perf_counter()
            X = clone(source).fit_transform(list(load(corpus).filenames))
            print(f"  {corpus}: features {X.shape} in {time.perf_counter() - start:.0f} s")
        cache[key] = np.nan_to_num(np.asarray(X, dtype=np.float64))  # openSMILE: rare NaN
    return cache[key]


def contexts(test: np.ndarray, y: np.ndarray, seed: int) -> dict[str, list[np.ndarray]]:
    """For each test file, the indices of its realistic contexts (the file first).

    ``test`` holds one speaker's files. Draws depend on the seed and the file only.
    """
    out: dict[str, list] = {name: [] for name in CONTEXTS}
    for i in test:
        rng = np.random.default_rng([seed, int(i)])
        others = test[test != i]
        for name, n in (("plus5", 5), ("plus20", 20)):
            out[name].append(np.r_[i, rng.choice(others, min(n, len(others)), replace=False)])
        for e in np.unique(y):  # none of e: the file alone
            out.setdefault(EMOTION.format(e), []).append(np.r_[i, others[y[others] == e]])
    return out


def fold(system, model, X, y, groups, train, test, seed, chosen=None):
    """Choose C on the training speakers (unless given), fit on them, score every protocol.

    ``chosen``: the C this outer fold chose on its own training speakers in an earlier
    seed's run, reused so that the selection runs once per fold.
    """
    import torch

    torch.set_num_threads(1)
    model = clone(model)
    for name in [k for k in model.get_params() if k.endswith("random_state")]:
        model.set_params(**{name: seed})
    start = time.perf_counter()
    if system in TUNED and chosen is None:
        scores = inner_scores(model, X[train], y[train], groups[train], seed=seed)
        chosen = choose_c(scores)
    if chosen is not None:
        model.set_params(classifier__C=chosen)
    call_with_groups(model, "fit", X[train], y[train], groups=groups[train])
    fit_s = time.perf_counter() - start
    probs = {
        # Without groups every file is predicted alone (the library's contract).
        "alone": model.predict_proba(X[test]),
        "context": call_with_groups(model, "predict_proba", X[test], groups=groups[test]),
    }
    if wants_groups(model):
        for name, sets in contexts(test, y, seed).items():
            # All the files' contexts in one call, each context its own group.
            sizes = np.array([len(s) for s in sets])
            ids = np.repeat(np.arange(len(sets)), sizes)
            proba = call_with_groups(model, "predict_proba", X[np.concatenate(sets)], groups=ids)
            probs[name] = proba[np.r_[0, np.cumsum(sizes)[:-1]]]
    return test, probs, fit_s, model.classes_, chosen


def run(
    corpus: str, system: str, seed: int, n_jobs: int, cache: dict, disk: Path, chosen=None
) -> dict:
    """Probabilities of every file under every protocol, pooled over the speaker folds.

    ``chosen``: each outer fold's C from an earlier seed (its own nested choice), if any.
    """
    import sklearn

    sklearn.set_config(enable_metadata_routing=True)
    bunch = load(corpus)
    y, groups = np.asarray(bunch.target), np.asarray(bunch.speaker)
    source, model = make_system(system)
    X = features(corpus, source, cache, disk)
    folds = list(LeaveOneGroupOut().split(X, y, groups))
    start = time.perf_counter()
    chosen = chosen or [None] * len(folds)
    outs = Parallel(n_jobs=n_jobs)(
        delayed(fold)(system, model, X, y, groups, train, test, seed, c)
        for (train, test), c in zip(folds, chosen)
    )
    classes = outs[0][3]
    proba = {p: np.zeros((len(y), len(classes))) for p in outs[0][1]}
    for test, probs, *_ in outs:
        for p in proba:
            proba[p][test] = probs[p]
    return {
        "classes": classes,
        "proba": proba,
        "y": y,
        "fit_s": float(np.mean([o[2] for o in outs])),
        "wall_s": time.perf_counter() - start,
        "n_folds": len(folds),
        "epochs": getattr(model[-1], "max_epochs", None),
        "chosen_C": [o[4] for o in outs] if system in TUNED else None,
        "held_out": [str(groups[o[0][0]]) for o in outs],
    }


def run_svm(corpus: str, system: str, n_jobs: int, cache: dict, disk: Path) -> list[dict]:
    """The peers' recipe (functionals.py): one deterministic model per protocol."""
    from functionals import C_GRID, loso

    bunch = load(corpus)
    y, groups = np.asarray(bunch.target), np.asarray(bunch.speaker)
    source, _ = make_system(system)
    X = features(corpus, source, cache, disk)
    rows = []
    for name, label in (("alone", "file alone"), ("speaker ctx", "speaker context")):
        start = time.perf_counter()
        res = loso(X, y, groups, name, n_jobs)
        rows.append(
            {
                **_base(corpus, system, label, None, len(np.unique(groups))),
                "ua": res["ua"],
                "wa": res["wa"],
                "chosen_C": res["chosen_C"],
                "selection": f"SVC C in {C_GRID} on inner leave-one-speaker-out folds of "
                "the outer fold's training speakers",
                "wall_s": time.perf_counter() - start,
            }
        )
    return rows


@functools.cache
def _commit() -> str:
    """The checkout's commit when the run started (not when a record is written)."""
    return commit()


def _base(corpus: str, system: str, protocol: str, seed, n_folds: int) -> dict:
    return {
        "commit": _commit(),
        "date": date.today().isoformat(),
        "machine": machine(),
        "corpus": corpus,
        "system": system,
        "protocol": protocol,
        "seed": seed,
        "folds": f"leave-one-speaker-out ({n_folds} folds), pooled",
    }


def record(corpus: str, system: str, seed: int, res: dict, n_jobs: int) -> list[dict]:
    rows = []
    for p, probs in res["proba"].items():
        pred = res["classes"][probs.argmax(1)]
        rows.append(
            {
                **_base(corpus, system, ALL_PROTOCOLS.get(p, p), seed, res["n_folds"]),
                "epochs": res["epochs"],
                "ua": 100 * balanced_accuracy_score(res["y"], pred),
                "wa": 100 * accuracy_score(res["y"], pred),
                "chosen_C": res.get("chosen_C"),
                "held_out": res.get("held_out"),
                "selection": SELECTION.format(grid=GRID) if res.get("chosen_C") else None,
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
        default=["functionals", "compare-lr", "egemaps-lr", *sorted(SVM)],
        choices=[name for name in LABELS if name != "fusion"],
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--n-jobs", type=int, default=2, help="folds trained in parallel")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/sklearn_ser_opensmile"))
    parser.add_argument("--report", action="store_true", help="only rebuild the report")
    parser.add_argument(
        "--reuse-choices",
        action="store_true",
        help="each outer fold's C from the latest seed-0 record instead of choosing again",
    )
    args = parser.parse_args()
    if args.report:
        return report()
    _commit()
    cache: dict = {}
    PROBA.mkdir(exist_ok=True)
    for corpus in args.corpora:
        for system in [s for s in args.systems if s in SVM]:
            for rec in run_svm(corpus, system, args.n_jobs, cache, args.cache):
                _append(rec)
        # Each outer fold's C, chosen in the first seed's run (or an earlier call's).
        chosen: dict = _recorded_choices(corpus) if args.reuse_choices else {}
        for seed in args.seeds:
            for system in [s for s in args.systems if s not in SVM]:
                res = run(corpus, system, seed, args.n_jobs, cache, args.cache, chosen.get(system))
                chosen[system] = res["chosen_C"]
                for rec in record(corpus, system, seed, res, args.n_jobs):
                    _append(rec)
                np.savez(
                    PROBA / f"{corpus}_{system}_{seed}.npz",
                    classes=res["classes"],
                    y=res["y"],
                    meta=json.dumps({k: res[k] for k in ("fit_s", "wall_s", "n_folds", "epochs")}),
                    **res["proba"],
                )
            members = [PROBA / f"{corpus}_{m}_{seed}.npz" for m in ("functionals", "cnn")]
            if all(m.exists() for m in members) and set(args.systems) & {"functionals", "cnn"}:
                for rec in record(corpus, "fusion", seed, fuse(*members), args.n_jobs):
                    _append(rec)
    report()


def _recorded_choices(corpus: str) -> dict:
    """Each tuned system's outer-fold choices in the latest seed-0 record of ``corpus``."""
    chosen = {}
    for line in (RESULTS / "accuracy.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if rec.get("corpus") == corpus and rec.get("seed") == 0 and rec.get("chosen_C"):
            chosen[rec["system"]] = rec["chosen_C"]
    return chosen


def fuse(*paths: Path) -> dict:
    """The fusion's result from its members' saved probabilities (equal weights)."""
    runs = [np.load(p) for p in paths]
    assert all(list(r["classes"]) == list(runs[0]["classes"]) for r in runs)
    meta = [json.loads(str(r["meta"])) for r in runs]
    shared = [p for p in ALL_PROTOCOLS if all(p in r.files for r in runs)]
    return {
        "classes": runs[0]["classes"],
        "y": runs[0]["y"],
        "proba": {p: np.mean([r[p] for r in runs], axis=0) for p in shared},
        "fit_s": sum(m["fit_s"] for m in meta),
        "wall_s": sum(m["wall_s"] for m in meta),
        "n_folds": meta[0]["n_folds"],
        "epochs": max((m["epochs"] or 0) for m in meta) or None,
    }


def _append(rec: dict) -> None:
    with (RESULTS / "accuracy.jsonl").open("a") as out:
        out.write(json.dumps(rec) + "\n")
    print(
        f"{rec['corpus']} seed {rec['seed']} {rec['system']:18s} {rec['protocol']:26s} "
        f"UA {rec['ua']:.1f} WA {rec['wa']:.1f}"
        + (f" C {rec['chosen_C']}" if rec.get("chosen_C") else ""),
        flush=True,
    )


def _cells() -> dict:
    """The latest record of each (corpus, system, protocol, seed), grouped over seeds.

    Records without nested selection (a C chosen across outer folds, before the benchmark
    chose it per fold) are left out for the systems that are tuned now.
    """
    runs: dict = {}
    for line in (RESULTS / "accuracy.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if "protocol" not in rec or "seed" not in rec:
            continue  # records of the earlier single-protocol benchmark
        if rec["system"] in TUNED and not rec.get("chosen_C"):
            continue
        runs.setdefault((rec["corpus"], rec["system"], rec["protocol"]), {})[rec["seed"]] = rec
    return runs


def summary(recs: dict) -> tuple[float, float, float]:
    """Mean UA, sd of UA over seeds, mean WA."""
    ua = np.array([r["ua"] for r in recs.values()])
    wa = np.array([r["wa"] for r in recs.values()])
    return float(ua.mean()), float(ua.std()), float(wa.mean())


def _c_choices(recs: dict) -> str:
    """How often each C was chosen by the outer folds of all seeds."""
    from collections import Counter

    counts = Counter(c for r in recs.values() for c in (r.get("chosen_C") or []))
    return ", ".join(f"{c:g}: {n}" for c, n in sorted(counts.items())) or "n/a"


def main_rows(runs: dict) -> tuple[list[str], list[list]]:
    header = ["corpus", "protocol", "system", "UA % (mean ± sd)", "WA %", "seeds", "C chosen"]
    header.append("commit")
    rows = []
    for corpus in ("emodb", "emovo"):
        for label in PROTOCOLS.values():
            for system in LABELS:
                recs = runs.get((corpus, system, label))
                if not recs:
                    continue
                ua, sd, wa = summary(recs)
                seeds = ", ".join(str(s) for s in sorted(recs, key=str))
                rows.append(
                    [
                        corpus,
                        label,
                        LABELS[system],
                        f"{ua:.1f} ± {sd:.1f}" if None not in recs else f"{ua:.1f}",
                        f"{wa:.1f}",
                        "deterministic" if None in recs else seeds,
                        _c_choices(recs),
                        ", ".join(sorted({r["commit"] for r in recs.values()})),
                    ]
                )
    return header, rows


def context_rows(runs: dict) -> tuple[list[str], list[list]]:
    """UA of the models with speaker statistics, from no context to full context.

    One emotion: the mean and the worst over emotions of each seed's UA, then over seeds.
    """
    order = ["file alone", *CONTEXTS.values()]
    header = ["corpus", "system", *order, "+ neutral", "+ one emotion: mean", "worst"]
    header.append("speaker context")
    rows = []
    for corpus in ("emodb", "emovo"):
        for system in LABELS:
            if not runs.get((corpus, system, CONTEXTS["plus5"])):
                continue
            cells = [runs.get((corpus, system, p)) for p in order]
            cells.append(runs.get((corpus, system, EMOTION.format("neutral"))))
            per_emotion = [
                recs
                for (c, s, p), recs in runs.items()
                if (c, s) == (corpus, system) and p.startswith(EMOTION.split("{")[0])
            ]
            seeds = set.intersection(*(set(r) for r in per_emotion)) if per_emotion else ()
            for reduce in (np.mean, np.min):
                by_seed = {
                    seed: {"ua": reduce([r[seed]["ua"] for r in per_emotion]), "wa": 0.0}
                    for seed in seeds
                }
                cells.append(by_seed or None)
            cells.append(runs.get((corpus, system, "speaker context")))
            rows.append(
                [corpus, LABELS[system]]
                + [f"{summary(c)[0]:.1f} ± {summary(c)[1]:.1f}" if c else "-" for c in cells]
            )
    return header, rows


def _ua(runs, corpus, system, protocol):
    recs = runs.get((corpus, system, protocol))
    return summary(recs)[0] if recs else None


COLUMNS = [(c, p) for c in ("emodb", "emovo") for p in PROTOCOLS.values()]
COLUMN_NAMES = [f"{'EmoDB' if c == 'emodb' else 'EMOVO'} {p}" for c, p in COLUMNS]
README = RESULTS.parents[1] / "README.md"
README_MARKS = ("<!-- accuracy-table: start -->", "<!-- accuracy-table: end -->")


def wide_rows(runs: dict) -> tuple[list[str], list[list]]:
    """One row per system, UA % (mean ± sd over seeds) under each corpus and protocol."""
    rows = []
    for system, label in LABELS.items():
        cells = [runs.get((c, system, p)) for c, p in COLUMNS]
        if not any(cells):
            continue
        rows.append(
            [label]
            + [
                "-"
                if not r
                else f"{summary(r)[0]:.1f}"
                if None in r
                else "{:.1f} ± {:.1f}".format(*summary(r))
                for r in cells
            ]
            + [", ".join(sorted({x["date"] for r in cells if r for x in r.values()}))]
        )
    return ["system", *COLUMN_NAMES, "measured"], rows


def ablation_rows(runs: dict) -> tuple[list[str], list[list]]:
    """Feature set x (peers' scaler + SVM, the default's scaler + LR): UA % over seeds."""
    header = ["features", "scaler + classifier", *COLUMN_NAMES]
    feats = (("functionals", "the default's functionals"), ("compare", "ComParE_2016"))
    feats += (("egemaps", "eGeMAPSv02"),)
    rows = []
    for key, name in feats:
        for suffix, recipe in (("svm", "peers': StandardScaler + SVM"), ("lr", "default's")):
            system = key if (key, suffix) == ("functionals", "lr") else f"{key}-{suffix}"
            cells = [_ua(runs, c, system, p) for c, p in COLUMNS]
            rows.append([name, recipe] + [f"{u:.1f}" if u is not None else "-" for u in cells])
    return header, rows


def margin_rows(runs: dict) -> tuple[list[str], list[list]]:
    """The default's margin over the best peer of each kind, and what it is made of.

    Against the best classic peer (features X + SVM), the margin splits exactly into the
    features (the default's against X, both through the default's scaler + LR) and the
    scaler + classifier (X through the default's scaler + LR against X + SVM).
    """
    header = [
        "corpus, protocol",
        "default",
        "best equal-footing peer",
        "margin",
        "best classic peer",
        "margin",
        "of which features",
        "of which scaler + classifier",
    ]
    rows = []
    for (c, p), column in zip(COLUMNS, COLUMN_NAMES):
        default = _ua(runs, c, "functionals", p)
        lr = {k: _ua(runs, c, f"{k}-lr", p) for k in OPENSMILE}
        svm = {k: _ua(runs, c, f"{k}-svm", p) for k in OPENSMILE}
        if default is None or None in lr.values() or None in svm.values():
            continue
        best, classic = max(lr, key=lr.get), max(svm, key=svm.get)
        rows.append(
            [
                column,
                f"{default:.1f}",
                f"{OPENSMILE[best]} {lr[best]:.1f}",
                f"{default - lr[best]:+.1f}",
                f"{OPENSMILE[classic]} + SVM {svm[classic]:.1f}",
                f"{default - svm[classic]:+.1f}",
                f"{default - lr[classic]:+.1f}",
                f"{lr[classic] - svm[classic]:+.1f}",
            ]
        )
    return header, rows


def report() -> None:
    """Rebuild accuracy.rst and README.md's table from the records (and print them)."""
    runs = _cells()
    header, rows = main_rows(runs)
    wheader, wrows = wide_rows(runs)
    cheader, crows = context_rows(runs)
    aheader, arows = ablation_rows(runs)
    mheader, mrows = margin_rows(runs)
    for h, r in ((wheader, wrows), (cheader, crows), (aheader, arows), (mheader, mrows)):
        print(md_table(h, r), "\n")
    dates = sorted({r["date"] for recs in runs.values() for r in recs.values()})
    how = (
        "Leave one speaker out, predictions pooled over folds (EmoDB 10 folds, EMOVO 6); "
        "UA % (balanced accuracy), mean ± standard deviation over seeds 0, 1, 2 (a single "
        "figure: a deterministic system). **Every C is chosen inside each outer fold** on "
        "inner speaker folds of its training speakers only (leave one speaker out on EMOVO, "
        "3 speaker folds on EmoDB, the most the shared machine allowed), the same way for "
        f"the default and the peers: the logistic regressions from {list(GRID)} (inner UA "
        "averaged over file alone and speaker context, seed 0; seeds 1 and 2 reuse each "
        "fold's choice), the SVMs from functionals.py's grid. *Peers on equal footing*: "
        "openSMILE's functionals of the same 16 kHz audio through the default's own scaler "
        '(``SpeakerStandardScaler(training_context="random")``) and logistic regression. '
        "*Classic peers*: the same features + StandardScaler + RBF SVM (with the library's "
        "SpeakerStandardScaler first for speaker context, a separate model per protocol)."
    )
    (RESULTS / "accuracy.rst").write_text(
        f"Measured {', '.join(dates)} on {machine()} (no GPU). {how} Fusion rows average "
        "the probabilities of the functionals and CNN runs of the same seed.\n\n"
        + rst_table(wheader, wrows)
        + "\n\n**What the margin is made of.** The default against the best peer of each "
        "kind; against the classic peer (features X + SVM) the margin is the sum of the "
        "features (the default's functionals against X, both through the default's scaler "
        "and LR) and of the scaler and classifier (X through the default's scaler and LR "
        "against X + SVM):\n\n"
        + (rst_table(mheader, mrows) if mrows else "(not measured yet)")
        + "\n\nEach feature set through each recipe (UA %, mean over seeds):\n\n"
        + rst_table(aheader, arows)
        + "\n\n**Realistic speaker context.** The same fitted models, each test file "
        "predicted with some of its speaker's other files (drawn with the run's seed) and "
        "the file's own prediction scored: UA % from the file alone to the speaker's full "
        "context.\n\n"
        + (rst_table(cheader, crows) if crows else "(not measured yet)")
        + "\n\nEvery run (WA, seeds, the C chosen by the outer folds over all seeds, "
        "commit):\n\n" + rst_table(header, rows) + "\n"
    )
    if README.exists():
        text = README.read_text()
        start, end = (text.find(m) for m in README_MARKS)
        if 0 <= start < end:
            block = (
                f"{README_MARKS[0]}\n<!-- generated by benchmarks/accuracy.py --report -->\n"
                f"Measured {', '.join(dates)}. {how.replace('``', '`')}\n\n"
                + md_table(wheader, wrows)
                + "\n\nWhat the margin is made of (UA points):\n\n"
                + md_table(mheader, mrows)
                + "\n\nRealistic speaker context (UA %):\n\n"
                + md_table(cheader, crows)
                + "\n"
            )
            README.write_text(text[:start] + block + text[end:])


if __name__ == "__main__":
    main()
