"""Feature extraction throughput on EmoDB, against a plain per-file librosa loop.

Loading, mixing, resampling to 16 kHz and the feature itself are all timed. Real-time factor
= seconds of audio per second of wall time.

    python benchmarks/features.py                # every extractor, 1 and 2 jobs, and the loop
    python benchmarks/features.py --only mel --n-jobs 2 --repeat 1   # one timing (for a timer)
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA, RESULTS, md_table, rst_table, stamp

STFT = {"sr": 16000, "n_fft": 512, "win_length": 400, "hop_length": 160}


def extractors():
    from sklearn_ser import MelSpectrogramExtractor, MFCCExtractor, SpectrogramExtractor

    return {
        "spectrogram": SpectrogramExtractor(),
        "mel": MelSpectrogramExtractor(n_mels=64),
        "mfcc": MFCCExtractor(n_mfcc=40, n_mels=64),
    }


def librosa_loop(name: str, files: list) -> list:
    import librosa

    out = []
    for f in files:
        y, _ = librosa.load(f, sr=16000)
        kw = {k: v for k, v in STFT.items() if k != "sr"}
        if name == "spectrogram":
            S = librosa.power_to_db(np.abs(librosa.stft(y, **kw)) ** 2, top_db=80.0)
        elif name == "mel":
            S = librosa.power_to_db(
                librosa.feature.melspectrogram(y=y, sr=16000, n_mels=64, **kw), top_db=80.0
            )
        else:
            S = librosa.feature.mfcc(y=y, sr=16000, n_mfcc=40, n_mels=64, **kw)
        out.append(S)
    return out


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["spectrogram", "mel", "mfcc"], default=None)
    parser.add_argument("--n-jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs (median reported)")
    parser.add_argument("--no-loop", action="store_true", help="skip the librosa loop")
    args = parser.parse_args()
    files = sorted(str(p) for p in (DATA / "emodb" / "wav").glob("*.wav"))
    if not files:
        sys.exit(f"EmoDB not found under {DATA}; nothing to measure.")
    import soundfile as sf

    seconds = sum(sf.info(f).duration for f in files)
    header = ["extractor", "method", "files/s", "real-time factor", "max abs diff vs librosa (dB)"]
    rows = []
    for name, est in extractors().items():
        if args.only and name != args.only:
            continue
        ref = None
        if not args.no_loop:
            librosa_loop(name, files[:5])  # warm-up (imports, caches)
            loop = functools.partial(librosa_loop, name, files)
            wall, ref = timed(loop, max(1, args.repeat // 2))
            rows.append(
                [
                    name,
                    "librosa per-file loop",
                    f"{len(files) / wall:.0f}",
                    f"{seconds / wall:.0f}x",
                    "reference",
                ]
            )
        for n_jobs in args.n_jobs:
            est.set_params(n_jobs=n_jobs)
            est.fit(files).transform(files[:40])  # warm-up
            wall, out = timed(functools.partial(est.fit_transform, files), args.repeat)
            diff = ""
            if ref is not None:
                diff = f"{max(np.abs(o - r).max() for o, r in zip(out, ref)):.1e}"
            rows.append(
                [
                    name,
                    f"sklearn-ser, n_jobs={n_jobs}",
                    f"{len(files) / wall:.0f}",
                    f"{seconds / wall:.0f}x",
                    diff,
                ]
            )
        print(md_table(header, rows[-len(args.n_jobs) - (0 if args.no_loop else 1) :]), flush=True)
    print(md_table(header, rows))
    if not args.only and not args.no_loop:
        (RESULTS / "features.rst").write_text(
            stamp() + f" EmoDB, {len(files)} files, {seconds:.0f} s of audio, resampled "
            "22.05 -> 16 kHz; median of repeated runs.\n\n" + rst_table(header, rows) + "\n"
        )


if __name__ == "__main__":
    main()
