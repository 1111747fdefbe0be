"""Speed and memory of predict_timeline on a long recording.

A synthetic 16 kHz recording (synthetic utterances with pauses, written to a temporary
folder, never to the repository) goes through ``predict_timeline`` with the default model
(``make_ser_pipeline()``, functionals) or the CNN (``--model cnn``), trained briefly on
synthetic speech: accuracy is irrelevant here, the model's size and cost are what count.
The timeline runs in a fresh process, so that its peak resident memory is that of loading
the model and predicting, not of training.

Reported: peak resident memory (VmHWM, MB; with the part held before the timeline starts:
the libraries and the model), peak anonymous memory (RssAnon: memory the process holds,
not mapped library files), wall time and real-time factor (seconds of audio per second of
computation: higher is faster), with torch and BLAS threads set explicitly.

    python benchmarks/timeline.py                       # 1 hour, 2 threads, default model
    python benchmarks/timeline.py --model cnn           # the same with the log-mel CNN
    python benchmarks/timeline.py --minutes 5 --threads 1 --no-record   # quick check
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS, AnonPeak, append_json, commit, machine, rst_table, status_mb

NAME = "timeline"


def write_recording(path: Path, minutes: float, seed: int = 0) -> float:
    """Synthetic utterances (1.5-3 s) separated by pauses (0.2-2 s), streamed to a WAV."""
    import numpy as np
    import soundfile as sf

    from sklearn_ser.datasets import make_emotional_speech

    rng = np.random.default_rng(seed)
    pool = make_emotional_speech(n_speakers=2, n_utterances=5, duration=2.0, random_state=seed)
    total = int(minutes * 60 * 16000)
    written = 0
    with sf.SoundFile(path, "w", samplerate=16000, channels=1, subtype="PCM_16") as f:
        while written < total:
            utt = pool.data[rng.integers(len(pool.data))]
            pause = np.zeros(int(rng.uniform(0.2, 2.0) * 16000), dtype=np.float32)
            chunk = np.concatenate([utt, pause])[: total - written]
            f.write(chunk)
            written += len(chunk)
    return written / 16000


def train_model(kind: str, path: Path, seed: int = 0) -> Path:
    """Train the model briefly on synthetic speech and save it; returns the file."""
    import sklearn

    from sklearn_ser import make_ser_pipeline, save_model
    from sklearn_ser.datasets import make_emotional_speech

    data = make_emotional_speech(n_speakers=4, n_utterances=4, random_state=seed)
    if kind == "cnn":
        import torch

        torch.set_num_threads(1)
        pipe = make_ser_pipeline("cnn", max_epochs=2, random_state=seed)
        pipe.fit(data.data, data.target, classifier__groups=data.speaker)
        return save_model(pipe, path.with_suffix(".safetensors"))
    import joblib

    pipe = make_ser_pipeline()
    with sklearn.config_context(enable_metadata_routing=True):
        pipe.fit(data.data, data.target, groups=data.speaker)
    joblib.dump(pipe, path.with_suffix(".joblib"))
    return path.with_suffix(".joblib")


def measure(model: str, audio: str, threads: int, window: float | None, hop: float | None):
    """Run in a fresh process: load the model, predict the timeline, print JSON."""
    from threadpoolctl import threadpool_limits

    from sklearn_ser import load_model, predict_timeline

    if model.endswith(".joblib"):  # the functionals pipeline: no torch at all
        import joblib

        pipe = joblib.load(model)
        pipe.set_params(features__n_jobs=threads)
    else:
        import torch

        torch.set_num_threads(threads)
        pipe = load_model(model)
    import librosa.filters  # noqa: F401  (imported by the first window anyway)

    baseline = status_mb("VmHWM")
    anon = AnonPeak(interval=0.02)
    with threadpool_limits(limits=threads), anon:
        start, cpu_start = time.perf_counter(), time.process_time()
        timeline = predict_timeline(pipe, audio, window=window, hop=hop)
        wall = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forked parent
    # (which trained the model), VmHWM is this process's own peak resident set.
    peak = status_mb("VmHWM")
    print(
        json.dumps(
            {
                "wall_s": round(wall, 2),
                "cpu_s": round(cpu, 2),
                "peak_rss_mb": round(peak, 1),
                "baseline_rss_mb": round(baseline, 1),
                "peak_rss_anon_mb": round(anon.peak, 1),
                "n_windows": len(timeline),
                "speech_windows": int(timeline.speech.sum()),
                "window_s": timeline.window,
                "hop_s": timeline.hop,
            }
        )
    )


def report() -> str:
    path = RESULTS / f"{NAME}.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = [
        [
            r["date"],
            r["commit"],
            r.get("model", "").rsplit(", synthetic", 1)[0],
            f"{r['audio_s'] / 60:.0f} min",
            f"{r['window_s']:.2f} / {r['hop_s']:.2f}",
            r["threads"],
            f"{r['wall_s']:.1f}",
            f"{r['realtime_factor']:.0f}x",
            f"{r['realtime_factor_per_core']:.0f}x",
            f"{r['load_average']:.1f}",
            f"{r['peak_rss_mb']:.0f} (before: {r['baseline_rss_mb']:.0f})",
            f"{r['peak_rss_anon_mb']:.0f}",
            r.get("where", ""),
        ]
        for r in records
    ]
    table = rst_table(
        [
            "date",
            "commit",
            "model",
            "audio",
            "window / hop (s)",
            "threads",
            "wall (s)",
            "real time",
            "per CPU core",
            "load",
            "peak RSS (MB)",
            "anon (MB)",
            "machine",
        ],
        rows,
    )
    text = (
        ".. Generated by benchmarks/timeline.py; do not edit.\n\n"
        "``predict_timeline`` on a synthetic 16 kHz recording (utterances with pauses) with\n"
        "a model trained briefly on synthetic speech (``make_ser_pipeline()``: functionals;\n"
        '``make_ser_pipeline("cnn")``: the log-mel CNN, 2 epochs), the recording as one\n'
        "speaker (its windows' features wait, for the CNN in a temporary file, for its\n"
        "statistics). Rows named ``make_ser_pipeline(max_epochs=2)`` predate the functionals\n"
        "default: ``make_ser_pipeline()`` was the CNN then.\n"
        "Real time: seconds of "
        "audio per second of computation (wall clock), and per CPU second of all threads\n"
        "(what one idle core does; the machine was shared: ``load`` is its load average,\n"
        "for 2 cores). Peak RSS: peak resident memory (VmHWM) of a fresh\n"
        "process that loads the model and predicts; before: the same after loading the\n"
        "libraries and the model, before the timeline (with torch, scikit-learn and\n"
        "librosa take about 430 MB); anon: peak anonymous memory (RssAnon).\n\n"
        f"{table}\n\n"
        f"Machine of the last row: {records[-1].get('machine', machine())}.\n"
    )
    (RESULTS / f"{NAME}.rst").write_text(text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--model", choices=["functionals", "cnn"], default="functionals")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--window", type=float, default=None)
    parser.add_argument("--hop", type=float, default=None)
    parser.add_argument("--tmpdir", default=None)
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument(
        "--where", default="2-core VM, shared", help="a few words on the machine, for the table"
    )
    parser.add_argument("--measure", nargs=2, metavar=("MODEL", "AUDIO"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(*args.measure, args.threads, args.window, args.hop)
        return
    with tempfile.TemporaryDirectory(dir=args.tmpdir) as tmp:
        audio = Path(tmp) / "long.wav"
        seconds = write_recording(audio, args.minutes)
        model = train_model(args.model, Path(tmp) / "model")
        cmd = [sys.executable, __file__, "--measure", str(model), str(audio)]
        cmd += ["--threads", str(args.threads)]
        if args.window:
            cmd += ["--window", str(args.window)]
        if args.hop:
            cmd += ["--hop", str(args.hop)]
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
    record = {
        "commit": commit(),
        "date": date.today().isoformat(),
        "machine": machine(),
        "threads": args.threads,
        "audio_s": round(seconds, 1),
        **result,
        "realtime_factor": round(seconds / result["wall_s"], 1),
        # Audio seconds per CPU second (all threads): what one idle core would do.
        "realtime_factor_per_core": round(seconds / result["cpu_s"], 1),
        "load_average": round(os.getloadavg()[0], 1),
        "model": (
            'make_ser_pipeline("cnn", max_epochs=2), synthetic speech'
            if args.model == "cnn"
            else "make_ser_pipeline() (functionals), synthetic speech"
        ),
        "where": args.where,
        "context": "recording",
    }
    print(json.dumps(record))
    if not args.no_record:
        append_json(NAME, record)
        print(report())


if __name__ == "__main__":
    main()
