"""How the defaults of make_ser_pipeline were chosen, on speaker-grouped folds.

Candidates are compared on 3 folds of held-out speakers. The first rounds used EMOVO only
(Italian; 2 held-out speakers per fold), leaving EmoDB (German) to judge what carries over
to another corpus; after MFCC input won on EMOVO and lost on EmoDB, candidates are judged
by their mean over the folds of both corpora. The chosen defaults are then evaluated
leave-one-speaker-out by benchmarks/accuracy.py.

    python benchmarks/tune_defaults.py --candidates base plain wide
    python benchmarks/tune_defaults.py --corpus emodb --candidates speaker-softmax
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS, append_json, load, md_table, rst_table, stamp

from sklearn_ser import make_ser_pipeline
from sklearn_ser.ensemble import LateFusionClassifier
from sklearn_ser.model_selection import evaluate_speaker_independent
from sklearn_ser.models import SpecAugment

# Each candidate is written out in full (not relative to the current defaults), so that
# its rows stay reproducible after the defaults change.
_MULTITASK = {"features": "logmel", "lambda_center": 0.01, "lambda_recon": 0.1}
_FIRST_GUESS = {
    **_MULTITASK,
    "window_frames": 200,
    "augment": SpecAugment(freq_masks=2, freq_width=8, time_masks=2, time_width=20),
    "label_smoothing": 0.1,
    "standardize": "corpus",
}
_PLAIN = {
    **_MULTITASK,
    "window_frames": None,
    "augment": None,
    "label_smoothing": 0.0,
    "standardize": "corpus",
}
CANDIDATES = {
    "base": _FIRST_GUESS,
    "plain": _PLAIN,
    "wide": {**_FIRST_GUESS, "module__channels": (16, 32, 64, 128)},
    "cmn": {**_FIRST_GUESS, "normalize": "mean"},
    "softmax": {**_FIRST_GUESS, "lambda_center": 0.0, "lambda_recon": 0.0},
    "speaker": {**_PLAIN, "standardize": "speaker"},
    "speaker-softmax": {
        **_PLAIN,
        "standardize": "speaker",
        "lambda_center": 0.0,
        "lambda_recon": 0.0,
    },
}
_MFCC = {**CANDIDATES["speaker-softmax"], "features": "mfcc"}
CANDIDATES["speaker-softmax-mfcc"] = {**_MFCC, "deltas": 2}
CANDIDATES["speaker-softmax-mfcc-static"] = {**_MFCC, "deltas": 0}
CANDIDATES["speaker-softmax-both"] = {**CANDIDATES["speaker-softmax"], "features": "both"}
CANDIDATES["speaker-softmax-logmel-mfcc"] = {
    **CANDIDATES["speaker-softmax"],
    "features": "logmel+mfcc",
}
# Up to 10 s of each utterance; training on a random 3 s window per epoch, prediction by
# averaging half-overlapping 3 s windows over the whole 10 s.
CANDIDATES["speaker-softmax-windows"] = {
    **CANDIDATES["speaker-softmax"],
    "max_frames": 1000,
    "window_frames": 300,
}
CANDIDATES["speaker-softmax-specaugment"] = {
    **CANDIDATES["speaker-softmax"],
    "augment": SpecAugment(freq_masks=2, freq_width=8, time_masks=2, time_width=20),
}


# Late fusion of the log-mel and the MFCC model (two trainings per fold).
FUSIONS = {"fusion-logmel-mfcc": ("speaker-softmax", "speaker-softmax-mfcc-static")}


def make(name_or_params):
    if isinstance(name_or_params, str):
        if name_or_params in FUSIONS:
            return LateFusionClassifier([(n, make(CANDIDATES[n])) for n in FUSIONS[name_or_params]])
        name_or_params = CANDIDATES[name_or_params]
    params = dict(name_or_params)
    extractor_params = {k: params.pop(k) for k in ("normalize", "deltas") if k in params}
    pipe = make_ser_pipeline("cnn", random_state=0, **params)
    pipe.named_steps["features"].set_params(**extractor_params)
    return pipe


DESCRIPTIONS = {
    "base": "first guess: random 2 s windows, SpecAugment, label smoothing 0.1",
    "plain": "no windows, no SpecAugment, no label smoothing",
    "wide": "first guess, channels (16, 32, 64, 128)",
    "cmn": "first guess, per-utterance mean normalisation",
    "softmax": "first guess, lambda_center = lambda_recon = 0",
    "speaker": "plain, with per-speaker standardisation",
    "speaker-softmax": "speaker, lambda_center = lambda_recon = 0 (chosen)",
    "speaker-softmax-mfcc": "speaker-softmax on 40 MFCCs + deltas instead of log-mel",
    "speaker-softmax-mfcc-static": "speaker-softmax on 40 MFCCs, no deltas",
    "speaker-softmax-both": "speaker-softmax on spectrogram + MFCCs (combined model)",
    "speaker-softmax-logmel-mfcc": "speaker-softmax on log-mel + MFCCs (combined model)",
    "fusion-logmel-mfcc": "mean probabilities of speaker-softmax and its static-MFCC twin",
    "speaker-softmax-windows": "speaker-softmax on up to 10 s: random 3 s windows, averaged",
    "speaker-softmax-specaugment": "speaker-softmax with SpecAugment masking",
}


def report() -> None:
    import json

    rows = []
    for line in (RESULTS / "tuning.jsonl").read_text().splitlines():
        rec = json.loads(line)
        rows.append(
            [
                rec["corpus"],
                rec["candidate"],
                DESCRIPTIONS.get(rec["candidate"], ""),
                f"{100 * rec['ua']:.1f}",
                " / ".join(f"{100 * u:.1f}" for u in rec["fold_ua"]),
            ]
        )
    header = ["corpus", "candidate", "settings", "UA %", "fold UA %"]
    print(md_table(header, rows))
    (RESULTS / "tuning.rst").write_text(
        stamp() + " 3 speaker-grouped folds (EMOVO: 2 held-out speakers per fold, EmoDB: 3"
        " or 4), 40 epochs; differences of a few points are within the fold noise.\n\n"
        + rst_table(header, rows)
        + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", nargs="+", default=[*CANDIDATES, *FUSIONS])
    parser.add_argument("--corpus", default="emovo")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument(
        "--report",
        action="store_true",
        help="only write results/tuning.rst from results/tuning.jsonl",
    )
    args = parser.parse_args()
    if args.report:
        return report()
    bunch = load(args.corpus)
    for name in args.candidates:
        start = time.perf_counter()
        res = evaluate_speaker_independent(
            make(name),
            list(bunch.filenames),
            bunch.target,
            bunch.speaker,
            cv=GroupKFold(args.folds),
        )
        wall = time.perf_counter() - start
        print(
            f"{name:10s} UA {100 * res.ua:5.1f}  WA {100 * res.wa:5.1f}  "
            f"fold UA {np.round(100 * np.asarray(res.fold_ua), 1)}  {wall:.0f} s",
            flush=True,
        )
        append_json(
            "tuning",
            {
                "corpus": args.corpus,
                "candidate": name,
                "ua": res.ua,
                "wa": res.wa,
                "fold_ua": list(map(float, res.fold_ua)),
                "wall_s": wall,
            },
        )


if __name__ == "__main__":
    main()
