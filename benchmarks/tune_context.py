"""Level invariance and realistic speaker contexts of the functionals model (issue 20).

Two questions, on EmoDB and EMOVO, leave one speaker out, predictions pooled over folds:

* **level**: the default ``make_ser_pipeline()`` trained on clean audio, each test file
  scored alone at its own level and 20 dB and 35 dB quieter (gain applied to the test
  audio only);
* **context**: the same model scored with realistic speaker contexts
  (:func:`evaluate_contexts`): the file alone, the file and ``k`` random other files of its
  speaker, the file and the speaker's files of one emotion, and the speaker's full set.

Features are cached per corpus, condition and feature version in ``--cache`` so that the
scaler and classifier can be iterated on in seconds::

    python benchmarks/tune_context.py level --corpus emodb --seeds 0
    python benchmarks/tune_context.py context --corpus emodb emovo --seeds 0 1 2

Records go to ``benchmarks/results/tune_context.jsonl``.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from sklearn.base import clone
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import LeaveOneGroupOut

from sklearn_ser import FunctionalsExtractor, load_audio, make_ser_pipeline
from sklearn_ser.ensemble import call_with_groups

try:  # run as a script or imported as benchmarks.tune_context
    from _common import append_json, commit, load
except ImportError:  # pragma: no cover
    from ._common import append_json, commit, load

CACHE = Path(os.environ.get("SER_CACHE", "/work/cache/h3"))
SR = 16000
GAINS = (-20.0, -35.0)  # quieter test audio, dB


@functools.cache
def feature_version() -> str:
    """Fingerprint of what the feature code computes (its output on a fixed signal), so that
    a cache never outlives the code it came from, whatever edits leave it unchanged.
    ``SER_FEATURE_VERSION`` in the environment names a cached version instead."""
    if os.environ.get("SER_FEATURE_VERSION"):
        return os.environ["SER_FEATURE_VERSION"]
    t = np.arange(SR) / SR
    y = sum(np.sin(2 * np.pi * k * (150 * t + 60 * t**2)) / k for k in range(1, 6))
    y = 0.1 * y + 0.01 * np.random.default_rng(0).standard_normal(SR)
    X = FunctionalsExtractor().fit_transform([np.concatenate([np.zeros(SR // 4), y])])
    return hashlib.sha1(np.round(X, 6).tobytes()).hexdigest()[:8]


def corpus_features(corpus: str, gain_db: float = 0.0, *, n_jobs: int = 1) -> np.ndarray:
    """Extended functionals of every file of ``corpus`` after a gain, cached on disk."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{corpus}_{feature_version()}_gain{gain_db:+g}.npy"
    if path.exists():
        return np.load(path)
    bunch = load(corpus)
    waves = load_audio(list(bunch.filenames), sr=SR)
    scale = 10 ** (gain_db / 20)
    waves = [w * np.float32(scale) for w in waves]
    start = time.perf_counter()
    X = FunctionalsExtractor(n_jobs=n_jobs).fit_transform(waves)
    print(f"  {corpus} gain {gain_db:+g} dB: {X.shape} in {time.perf_counter() - start:.0f} s")
    np.save(path, X)
    return X


def default_model(seed: int, **scaler_params):
    """``make_ser_pipeline()`` without its extractor (features come from the cache)."""
    pipe = make_ser_pipeline(random_state=seed)
    model = pipe[1:]
    if scaler_params:
        model.set_params(**{f"scaler__{k}": v for k, v in scaler_params.items()})
    return model


def evaluate_contexts(
    model,
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    *,
    ks: tuple[int, ...] = (5, 20),
    neutral: str = "neutral",
    seed: int = 0,
    conditions: dict[str, np.ndarray] | None = None,
) -> dict[str, float]:
    """UA (%) of ``model`` on held-out speakers under realistic speaker contexts.

    Leave one speaker out; in each fold ``model`` (a clone, fitted on the other speakers
    with their ids) scores every file of the held-out speaker

    * ``"alone"``: by itself, without speaker id;
    * ``"random k"`` for each ``k`` in ``ks``: with ``k`` other files of its speaker drawn
      at random (all of them if the speaker has fewer);
    * ``"neutral"``: with all the speaker's other files labelled ``neutral`` (a user's calm
      recordings as context);
    * ``"other emotion"``: with all the speaker's files of one other emotion, drawn at
      random per file;
    * ``"same emotion"``: with all the speaker's other files of its own emotion (the worst
      case: the context holds only what the file expresses);
    * ``"full"``: with all the files of its speaker (the benchmark's speaker context).

    The draws depend on ``seed`` and the file only (as ``benchmarks/accuracy.py``'s).
    Predictions are pooled over the folds; UA is balanced accuracy.

    Parameters
    ----------
    model : estimator
        A classifier that takes speaker ids through metadata routing: a
        ``make_ser_pipeline()`` (``X`` file paths) or its steps after the extractor (``X``
        features, see :func:`default_model`).
    X : ndarray of shape (n_samples, ...)
        Inputs of ``model``.
    y, groups : ndarray of shape (n_samples,)
        Emotions and speakers.
    ks : tuple of int, default=(5, 20)
        Sizes of the random contexts (other files besides the one scored).
    neutral : str, default="neutral"
        The label of the neutral emotion.
    seed : int, default=0
        Seeds the random contexts.
    conditions : dict of str to ndarray, default=None
        Other versions of ``X`` (e.g. the features of the same files 20 dB quieter),
        scored alone and in full context by the same fitted models: ``"<name> alone"``
        and ``"<name> full"``.

    Returns
    -------
    ua : dict of str to float
        UA in percent for each context.
    """
    preds: dict[str, np.ndarray] = {}

    def put(name, i, proba, classes):
        preds.setdefault(name, np.empty(len(y), dtype=y.dtype))[i] = classes[np.argmax(proba)]

    for train, test in LeaveOneGroupOut().split(X, y, groups):
        fitted = call_with_groups(clone(model), "fit", X[train], y[train], groups=groups[train])
        speaker, classes = groups[test[0]], fitted.classes_
        alone = fitted.predict_proba(X[test])  # no groups: each file alone
        g_test = np.full(len(test), speaker, object)
        full = call_with_groups(fitted, "predict_proba", X[test], groups=g_test)
        for name, Xc in (conditions or {}).items():
            for protocol, groups_c in (("alone", None), ("full", g_test)):
                proba = call_with_groups(fitted, "predict_proba", Xc[test], groups=groups_c)
                for j, i in enumerate(test):
                    put(f"{name} {protocol}", i, proba[j], classes)
        # Every context of every file in one call: each (file, context) is its own group.
        rows, ids, first = [], [], {}
        for j, i in enumerate(test):
            put("alone", i, alone[j], classes)
            put("full", i, full[j], classes)
            rng = np.random.default_rng([seed, int(i)])
            others = test[test != i]
            sets = {
                f"random {k}": rng.choice(others, min(k, len(others)), replace=False) for k in ks
            }
            sets["neutral"] = others[y[others] == neutral]
            emotions = np.setdiff1d(np.unique(y[others]), [y[i]])
            sets["other emotion"] = others[y[others] == rng.choice(emotions)]
            sets["same emotion"] = others[y[others] == y[i]]
            for name, context in sets.items():
                first[(name, i)] = sum(len(r) for r in rows)
                rows.append(np.concatenate([[i], context]).astype(int))
                ids += [len(first)] * len(rows[-1])
        proba = call_with_groups(
            fitted, "predict_proba", X[np.concatenate(rows)], groups=np.asarray(ids)
        )
        for (name, i), at in first.items():
            put(name, i, proba[at], classes)
    return {name: 100 * balanced_accuracy_score(y, p) for name, p in preds.items()}


def evaluate_level(
    model, corpus: str, seed: int, gains: tuple[float, ...] = (-20.0, -35.0)
) -> dict[str, float]:
    """UA (%) file alone and with full context, clean and with the test audio quieter."""
    bunch = load(corpus)
    y, groups = np.asarray(bunch.target), np.asarray(bunch.speaker, dtype=object)
    X = corpus_features(corpus, 0.0)
    tests = {"clean": X, **{f"{g:+g} dB": corpus_features(corpus, g) for g in gains}}
    preds = {f"{c} {p}": np.empty(len(y), dtype=y.dtype) for c in tests for p in ("alone", "ctx")}
    for train, test in LeaveOneGroupOut().split(X, y, groups):
        m = clone(model)
        for name in [k for k in m.get_params() if k.endswith("random_state")]:
            m.set_params(**{name: seed})
        fitted = call_with_groups(m, "fit", X[train], y[train], groups=groups[train])
        g = np.full(len(test), groups[test[0]], dtype=object)
        for c, Xt in tests.items():
            preds[f"{c} alone"][test] = fitted.predict(Xt[test])
            preds[f"{c} ctx"][test] = call_with_groups(fitted, "predict", Xt[test], groups=g)
    return {name: 100 * balanced_accuracy_score(y, p) for name, p in preds.items()}


COLUMNS = [
    ("alone", "file alone"),
    ("-20 dB alone", "alone, -20 dB"),
    ("-35 dB alone", "alone, -35 dB"),
    ("random 5", "file + 5 random"),
    ("random 20", "file + 20 random"),
    ("neutral", "file + neutral files"),
    ("other emotion", "file + one other emotion"),
    ("same emotion", "file + its own emotion"),
    ("full", "full context"),
    ("-20 dB full", "full, -20 dB"),
    ("-35 dB full", "full, -35 dB"),
]


def report() -> None:
    """``results/tune_context.rst``: UA of every configuration, mean ± sd over its seeds."""
    import json

    from _common import RESULTS, rst_table

    runs: dict = {}
    for line in (RESULTS / "tune_context.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if rec["what"] == "level":  # older records: the clean and quieter columns only
            rec["ua"] = {
                k.replace("clean ", "").replace("ctx", "full"): v for k, v in rec["ua"].items()
            }
        key = (rec["corpus"], rec["label"], rec["features"], json.dumps(rec["scaler"]))
        runs.setdefault(key, {})[rec["seed"]] = rec  # the latest record of each seed
    cols = COLUMNS
    rows = []
    for (corpus, label, _, _), by_seed in sorted(runs.items()):
        cells = []
        for key, _ in cols:
            values = [r["ua"][key] for r in by_seed.values() if key in r["ua"]]
            sd = f" ± {np.std(values):.1f}" if len(values) > 1 else ""
            cells.append(f"{np.mean(values):.1f}{sd}" if values else "")
        seeds = ", ".join(str(s) for s in sorted(by_seed))
        commits = ", ".join(sorted({r["commit"] for r in by_seed.values()}))
        rows.append([corpus, label, *cells, seeds, commits])
    text = (
        "Speaker context and level (benchmarks/tune_context.py)\n"
        "=====================================================\n\n"
        "UA % (balanced accuracy), leave one speaker out (EmoDB 10 folds, EMOVO 6), "
        "predictions pooled; the default ``make_ser_pipeline()`` steps after the extractor "
        "(features cached per feature version), trained on clean audio; the test files "
        "scored alone, quieter (gain on the test audio only) and with realistic contexts "
        "(:func:`evaluate_contexts`). Mean ± sd over the seeds listed.\n\n"
        + rst_table(["corpus", "configuration", *[n for _, n in cols], "seeds", "commit"], rows)
        + "\n"
    )
    (RESULTS / "tune_context.rst").write_text(text)
    print(text)


def main() -> None:
    import sklearn

    sklearn.set_config(enable_metadata_routing=True)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["level", "context", "features", "report"])
    ap.add_argument("--corpus", nargs="+", default=["emodb", "emovo"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--label", default="", help="free text stored with the record")
    ap.add_argument("--scaler", nargs="*", default=[], help="scaler params, name=value")
    args = ap.parse_args()
    scaler = {}
    for item in args.scaler:
        name, value = item.split("=")
        try:
            scaler[name] = float(value) if "." in value or "e" in value else int(value)
        except ValueError:
            scaler[name] = None if value == "None" else value
    if args.what == "report":
        report()
        return
    for corpus in args.corpus:
        if args.what == "features":
            for g in (0.0, -20.0, -35.0):
                corpus_features(corpus, g, n_jobs=args.n_jobs)
            continue
        for seed in args.seeds:
            start = time.perf_counter()
            model = default_model(seed, **scaler)
            if args.what == "level":
                ua = evaluate_level(model, corpus, seed)
            else:
                bunch = load(corpus)
                ua = evaluate_contexts(
                    model,
                    corpus_features(corpus),
                    np.asarray(bunch.target),
                    np.asarray(bunch.speaker, dtype=object),
                    seed=seed,
                    conditions={f"{g:+g} dB": corpus_features(corpus, g) for g in GAINS},
                )
            rec = {
                "commit": commit(),
                "date": time.strftime("%Y-%m-%d"),
                "what": args.what,
                "corpus": corpus,
                "protocol": "leave one speaker out, pooled UA",
                "seed": seed,
                "features": feature_version(),
                "scaler": scaler,
                "label": args.label,
                "ua": {k: round(v, 2) for k, v in ua.items()},
                "wall_s": round(time.perf_counter() - start, 1),
            }
            append_json("tune_context", rec)
            print(corpus, seed, args.label, {k: round(v, 1) for k, v in ua.items()})


if __name__ == "__main__":
    main()
