"""Choose the functionals model's C on inner speaker folds of the training speakers only.

For every outer leave-one-speaker-out fold of each corpus, the training speakers are split
again, leave one speaker out, and each candidate C of ``make_ser_pipeline()``'s logistic
regression is scored by the inner UA averaged over both protocols (file alone and speaker
context). The outer test speaker is never seen. The default is the C chosen by the most
outer folds over both corpora (``_FUNCTIONALS_C`` in ``sklearn_ser/_pipeline.py``).

    python benchmarks/tune_functionals.py            # both corpora, writes tune_functionals.*
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import sklearn
from _common import RESULTS, commit, load, machine, rst_table
from sklearn.base import clone
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import LeaveOneGroupOut

from sklearn_ser import make_ser_pipeline

GRID = (0.003, 0.01, 0.03)


def inner_score(model, X, y, groups, C: float, seed: int) -> float:
    """Mean inner-fold UA over both protocols, for one C, on the training speakers only."""
    scores = []
    for train, test in LeaveOneGroupOut().split(X, y, groups):
        m = clone(model).set_params(classifier__C=C, scaler__random_state=seed)
        m.fit(X[train], y[train], groups=groups[train])
        alone = m.predict(X[test])
        context = m.predict(X[test], groups=groups[test])
        scores += [balanced_accuracy_score(y[test], p) for p in (alone, context)]
    return float(np.mean(scores))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", nargs="+", default=["emodb", "emovo"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sklearn.set_config(enable_metadata_routing=True)
    pipe = make_ser_pipeline()
    extractor, model = pipe.steps[0][1], pipe[1:]
    chosen = Counter()
    rows = []
    for corpus in args.corpora:
        bunch = load(corpus)
        y, groups = np.asarray(bunch.target), np.asarray(bunch.speaker)
        X = clone(extractor).fit_transform(list(bunch.filenames))
        for train, _ in LeaveOneGroupOut().split(X, y, groups):
            start = time.perf_counter()
            held_out = str(np.setdiff1d(groups, groups[train])[0])
            scores = {
                C: inner_score(model, X[train], y[train], groups[train], C, args.seed) for C in GRID
            }
            best = max(scores, key=scores.get)
            chosen[best] += 1
            rec = {
                "commit": commit(),
                "date": date.today().isoformat(),
                "machine": machine(),
                "corpus": corpus,
                "held_out_speaker": held_out,
                "protocol": "inner leave-one-speaker-out on the training speakers; "
                "UA averaged over file alone and speaker context",
                "seed": args.seed,
                "inner_ua": {str(C): 100 * s for C, s in scores.items()},
                "chosen_C": best,
                "time_s": time.perf_counter() - start,
            }
            with (RESULTS / "tune_functionals.jsonl").open("a") as out:
                out.write(json.dumps(rec) + "\n")
            print(
                corpus,
                held_out,
                {C: round(100 * s, 1) for C, s in scores.items()},
                best,
                flush=True,
            )
            rows.append([corpus, held_out, *[f"{100 * scores[C]:.1f}" for C in GRID], best])
    default = chosen.most_common(1)[0][0]
    print("chosen per outer fold:", dict(chosen), "-> default C =", default)
    (RESULTS / "tune_functionals.rst").write_text(
        f"Measured {date.today().isoformat()} on {machine()}. Inner leave-one-speaker-out "
        "UA (%, mean of file alone and speaker context) of each C on the training speakers "
        "of every outer fold (the held-out speaker never seen); default: the C chosen by "
        f"most outer folds, C = {default} ({dict(chosen)}).\n\n"
        + rst_table(["corpus", "held out", *[f"C={C}" for C in GRID], "chosen"], rows)
        + "\n"
    )


if __name__ == "__main__":
    main()
