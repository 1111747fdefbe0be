"""Scaling: extraction throughput, parallel model selection, and a corpus larger than memory.

(a) MelSpectrogramExtractor throughput on the EmoDB files (n_jobs=1 and 2): files/s and
    real-time factor (processing time / audio duration: lower is faster).
(b) GridSearchCV wall time, serial vs n_jobs=2: MFCCExtractor + FeatureStatistics +
    StandardScaler + SVC over 3 values of C, GroupKFold(5) by speaker, on EmoDB.
(c) A large synthetic corpus (1-second utterances synthesised on demand, never all in
    memory) featurised with transform_to_memmap into a float32 .npy memory map, then one
    epoch of a small SERClassifier streaming from it; peak memory and wall times.

    python benchmarks/scaling.py                          # everything, 100000 utterances
    python benchmarks/scaling.py --n-utterances 2000      # quick check
    python benchmarks/scaling.py --parts synthetic --tmpdir /big/disk

Parts (a) and (b) need ../shared/data/emodb/wav and are skipped with a message without it.
Peak memory is reported twice: ``ru_maxrss`` (peak resident set, which also counts pages of
the memory-mapped file that are resident, i.e. reclaimable page cache) and the peak of
anonymous resident memory (``RssAnon`` in /proc/self/status, sampled every 50 ms), which is
what the process itself holds.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA, RESULTS, AnonPeak, md_table, peak_rss_mb, rst_table, stamp

PARTS = ("extraction", "gridsearch", "synthetic")
EMODB_WAV = DATA / "emodb" / "wav"


# ----------------------------------------------------------------------------- memory
def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _anon(meter: AnonPeak) -> str:
    return f"{_mb(meter.peak)} (from {_mb(meter.start)})"


# ----------------------------------------------------------------------------- EmoDB
def emodb_files() -> tuple[list[str], np.ndarray, np.ndarray] | None:
    if not EMODB_WAV.is_dir():
        return None
    files = sorted(str(p) for p in EMODB_WAV.glob("*.wav"))
    if not files:
        return None
    names = [Path(f).name for f in files]
    speakers = np.array([n[:2] for n in names])  # characters 1-2: the speaker
    emotions = np.array([n[5] for n in names])  # character 6: the emotion letter
    return files, emotions, speakers


def bench_extraction(files: list[str], repeats: int) -> list[list]:
    import soundfile as sf

    from sklearn_ser import MelSpectrogramExtractor

    audio_s = sum(sf.info(f).duration for f in files)
    rows = []
    for n_jobs in (1, 2):
        est = MelSpectrogramExtractor(n_mels=64, n_jobs=n_jobs).fit(files)
        est.transform(files[:32])  # warm the page cache and the filter banks
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            est.transform(files)
            times.append(time.perf_counter() - start)
        wall = min(times)
        rows.append(
            [
                f"MelSpectrogramExtractor(n_mels=64), n_jobs={n_jobs}",
                len(files),
                f"{audio_s / 60:.1f}",
                f"{wall:.2f}",
                f"{len(files) / wall:.0f}",
                f"{wall / audio_s:.4f}",
            ]
        )
        print(md_table(EXTRACTION_HEADER, rows[-1:]), flush=True)
    return rows


def bench_gridsearch(files: list[str], y: np.ndarray, groups: np.ndarray) -> list[list]:
    from sklearn.model_selection import GridSearchCV, GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from sklearn_ser import FeatureStatistics, MFCCExtractor

    pipe = make_pipeline(
        MFCCExtractor(n_mfcc=40, deltas=1), FeatureStatistics(), StandardScaler(), SVC()
    )
    grid = {"svc__C": [0.1, 1.0, 10.0]}
    rows, results = [], {}
    for n_jobs in (None, 2):
        search = GridSearchCV(
            pipe, grid, cv=GroupKFold(5), n_jobs=n_jobs, scoring="balanced_accuracy"
        )
        start = time.perf_counter()
        search.fit(files, y, groups=groups)
        wall = time.perf_counter() - start
        results[n_jobs] = search.cv_results_["mean_test_score"]
        rows.append(
            [
                "serial" if n_jobs is None else f"n_jobs={n_jobs}",
                f"{len(grid['svc__C'])} x 5 folds + refit",
                f"{wall:.1f}",
                f"C={search.best_params_['svc__C']:g}",
                f"{100 * search.best_score_:.1f}",
            ]
        )
        print(md_table(GRID_HEADER, rows[-1:]), flush=True)
    if not np.array_equal(results[None], results[2]):
        print("WARNING: parallel and serial cross-validation scores differ", file=sys.stderr)
    base = float(rows[0][2])
    rows[1][2] += f" ({base / float(rows[1][2]):.2f}x)"
    return rows


# ----------------------------------------------------------------------------- synthetic
class SyntheticCorpus(Sequence):
    """``n`` one-second utterances synthesised on demand from their index.

    Utterance ``i`` belongs to class ``i % n_classes``: a harmonic tone whose pitch and
    amplitude modulation depend on the class, jittered per utterance, in noise. Slicing
    returns a list of waveforms, so only the chunk asked for is ever in memory.
    """

    def __init__(self, n: int, *, sr: int = 16000, n_classes: int = 4, seed: int = 0):
        self.n, self.sr, self.n_classes, self.seed = n, sr, n_classes, seed
        self._t = np.arange(sr, dtype=np.float32) / sr

    def __len__(self) -> int:
        return self.n

    def labels(self) -> np.ndarray:
        return np.arange(self.n) % self.n_classes

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._utterance(i) for i in range(*index.indices(self.n))]
        if not -self.n <= index < self.n:
            raise IndexError(index)
        return self._utterance(index % self.n)

    def _utterance(self, i: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, i])
        label = i % self.n_classes
        f0 = (120.0 + 60.0 * label) * rng.uniform(0.9, 1.1)
        am = 1.0 + 0.5 * np.sin(2 * np.pi * (2.0 + 2.0 * label) * self._t)
        voice = sum(np.sin(2 * np.pi * k * f0 * self._t) / k for k in (1, 2, 3))
        noise = rng.standard_normal(self.sr).astype(np.float32)
        return (0.1 * am * voice + 0.05 * noise).astype(np.float32)


def bench_synthetic(n: int, chunk_size: int, n_jobs: int, tmpdir: str | None) -> list[list]:
    import torch

    from sklearn_ser import MelSpectrogramExtractor, SERClassifier
    from sklearn_ser.features._memmap import transform_to_memmap

    corpus = SyntheticCorpus(n)
    y = corpus.labels()
    est = MelSpectrogramExtractor(n_mels=64, max_frames=101, n_jobs=n_jobs)
    est.fit(corpus[:8])  # max_frames is given: fit only validates
    rows = []
    with tempfile.TemporaryDirectory(dir=tmpdir, prefix="sklearn-ser-scaling-") as folder:
        path = os.path.join(folder, "mel.npy")
        with AnonPeak() as anon:
            start = time.perf_counter()
            features = transform_to_memmap(est, corpus, path, chunk_size=chunk_size, verbose=1)
            wall = time.perf_counter() - start
        size_mb = os.path.getsize(path) / 2**20
        rows.append(
            [
                f"featurise {n:,} x 1 s -> .npy memmap",
                f"{wall:.1f}",
                f"{n / wall:.0f} utt/s",
                _mb(peak_rss_mb()),
                _anon(anon),
                f"{size_mb:,.0f}",
            ]
        )
        print(md_table(SYNTH_HEADER, rows[-1:]), flush=True)

        clf = SERClassifier(
            max_epochs=1,
            batch_size=64,
            module__channels=(8, 16),
            module__embedding_dim=16,
            lr_schedule=None,
            random_state=0,
            verbose=1,
        )
        with AnonPeak() as anon:
            start = time.perf_counter()
            clf.fit(features, y)
            wall = time.perf_counter() - start
        train_loss = float(np.mean(clf.history_[-1, "train_loss"]))
        rows.append(
            [
                f"1 epoch SERClassifier (torch threads: {torch.get_num_threads()})",
                f"{wall:.1f}",
                f"{n / wall:.0f} utt/s, loss {train_loss:.3f}",
                _mb(peak_rss_mb()),
                _anon(anon),
                f"{size_mb:,.0f}",
            ]
        )
        print(md_table(SYNTH_HEADER, rows[-1:]), flush=True)
        del features, clf
    return rows


EXTRACTION_HEADER = ["extractor", "files", "audio min", "wall s", "files/s", "RTF"]
GRID_HEADER = ["GridSearchCV", "fits", "wall s", "best", "best CV UA %"]
SYNTH_HEADER = [
    "step",
    "wall s",
    "throughput",
    "peak RSS MB",
    "peak anon MB (at start)",
    "memmap MB",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=list(PARTS), choices=PARTS)
    parser.add_argument("--n-utterances", type=int, default=100_000)
    parser.add_argument("--chunk-size", type=int, default=512)
    parser.add_argument("--n-jobs", type=int, default=1, help="extractor jobs in part (c)")
    parser.add_argument("--repeats", type=int, default=2, help="timed runs in part (a)")
    parser.add_argument("--tmpdir", default=None, help="folder for the memmap of part (c)")
    parser.add_argument("--output", default=str(RESULTS / "scaling.rst"))
    args = parser.parse_args()
    if args.n_utterances < 2:
        parser.error(f"--n-utterances must be >= 2, got {args.n_utterances}")

    sections = []
    emodb = emodb_files() if {"extraction", "gridsearch"} & set(args.parts) else None
    if {"extraction", "gridsearch"} & set(args.parts) and emodb is None:
        print(f"EmoDB not found in {EMODB_WAV}: skipping the extraction and GridSearchCV parts.")
    if "extraction" in args.parts and emodb is not None:
        rows = bench_extraction(emodb[0], args.repeats)
        sections.append(("Extraction throughput on EmoDB", EXTRACTION_HEADER, rows))
    if "gridsearch" in args.parts and emodb is not None:
        rows = bench_gridsearch(*emodb)
        sections.append(("GridSearchCV on EmoDB, GroupKFold(5) by speaker", GRID_HEADER, rows))
    if "synthetic" in args.parts:
        rows = bench_synthetic(args.n_utterances, args.chunk_size, args.n_jobs, args.tmpdir)
        sections.append(
            (
                f"Synthetic corpus of {args.n_utterances:,} utterances (64 mel x 101 frames, "
                f"chunk_size={args.chunk_size})",
                SYNTH_HEADER,
                rows,
            )
        )

    for title, header, rows in sections:
        print(f"\n**{title}**\n\n{md_table(header, rows)}")
    if not sections:
        return
    out = [
        stamp() + " Wall times on a shared machine; RTF = processing time / audio duration.",
        "",
    ]
    for title, header, rows in sections:
        out += [title, "~" * len(title), "", rst_table(header, rows), ""]
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text("\n".join(out))
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
