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

from _common import RESULTS, AnonPeak, append_json, commit, load, machine, rst_table, status_mb

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
                "imported": sorted(
                    m for m in ("torch", "skorch", "transformers", "matplotlib") if m in sys.modules
                ),
            }
        )
    )


# --------------------------------------------------------------------------- speech detection
CONDITIONS = (
    "clean",
    "white 20 dB",
    "white 10 dB",
    "pink 20 dB",
    "pink 10 dB",
    "hum 50 Hz",
    "20 dB quieter",
)
DETECTORS = ("threshold", "energy", "silero")
SR = 16000


def corpus_recording(files, rng, sr: int = SR):
    """Corpus utterances separated by pauses of 0.5-3 s, and its frame truth.

    The truth of each 10 ms frame comes from the clean utterance it belongs to: frames
    within 40 dB of the utterance's loudest frame, pauses inside it shorter than 0.2 s
    closed (the silence of a plosive is part of the word). Utterances and pauses are whole
    multiples of the 10 ms hop, so that the utterances' frames are the recording's.
    """
    import numpy as np

    from sklearn_ser import load_audio
    from sklearn_ser._audio import _tidy, frame_levels

    hop = sr // 100
    parts, truth = [], []

    def pause():
        n = int(rng.uniform(0.5, 3.0) * sr) // hop * hop
        parts.append(np.zeros(n, np.float32))
        truth.append(np.zeros(n // hop, bool))

    pause()
    for y in load_audio(list(files), sr=sr):
        y = np.pad(y, (0, -len(y) % hop))
        levels = frame_levels(y, sr)
        active = levels >= levels.max() - 40.0
        active = _tidy(active, 0.2, 0.0, 0.0)
        frames = np.zeros(len(y) // hop, bool)
        frames[: len(active)] = active
        parts.append(y)
        truth.append(frames)
        pause()
    return np.concatenate(parts), np.concatenate(truth)


def degrade(y, truth, condition: str, rng, sr: int = SR):
    """The recording under one condition; SNR relative to the power of the speech frames."""
    import numpy as np

    if condition == "clean":
        return y
    if condition == "20 dB quieter":
        return (y * 10 ** (-20 / 20)).astype(np.float32)
    hop = sr // 100
    mask = np.repeat(truth, hop)[: len(y)]
    speech_power = float(np.mean(np.square(y[: len(mask)][mask], dtype=np.float64)))
    kind, snr = (
        condition.split(" ")[0],
        (10.0 if condition == "hum 50 Hz" else float(condition.split(" ")[1])),
    )
    n = len(y)
    if kind == "white":
        noise = rng.standard_normal(n)
    elif kind == "pink":
        spec = np.fft.rfft(rng.standard_normal(n))
        f = np.fft.rfftfreq(n, 1 / sr)
        spec[1:] /= np.sqrt(f[1:])
        spec[0] = 0
        noise = np.fft.irfft(spec, n)
    else:  # mains hum and two harmonics, 10 dB below the speech
        t = np.arange(n) / sr
        noise = sum(a * np.sin(2 * np.pi * f * t) for f, a in ((50, 1.0), (100, 0.5), (150, 0.25)))
    noise *= np.sqrt(speech_power / 10 ** (snr / 10) / np.mean(np.square(noise)))
    return np.clip(y + noise, -1, 1).astype(np.float32)


def frame_f1(truth, found) -> dict:
    import numpy as np

    n = min(len(truth), len(found))
    t, f = truth[:n], found[:n]
    tp = float(np.sum(t & f))
    precision = tp / max(f.sum(), 1)
    recall = tp / max(t.sum(), 1)
    return {
        "f1": round(2 * precision * recall / max(precision + recall, 1e-12), 4),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
    }


def run_vad(corpora, seeds, n_utterances: int, record: bool) -> list[dict]:
    import numpy as np

    from sklearn_ser import speech_activity

    out = []
    for corpus in corpora:
        bunch = load(corpus)
        for seed in seeds:
            rng = np.random.default_rng(seed)
            idx = rng.choice(len(bunch.filenames), n_utterances, replace=False)
            clean, truth = corpus_recording(np.asarray(bunch.filenames)[idx], rng)
            for condition in CONDITIONS:
                y = degrade(clean, truth, condition, np.random.default_rng(1000 + seed))
                for detector in DETECTORS:
                    start = time.perf_counter()
                    found = speech_activity(y, SR, vad=detector)
                    seconds = time.perf_counter() - start
                    r = {
                        "commit": commit(),
                        "date": date.today().isoformat(),
                        "corpus": corpus,
                        "seed": int(seed),
                        "n_utterances": n_utterances,
                        "audio_s": round(len(y) / SR, 1),
                        "speech_share": round(float(truth.mean()), 3),
                        "condition": condition,
                        "detector": detector,
                        **frame_f1(truth, found),
                        "realtime_factor": round(len(y) / SR / seconds, 1),
                    }
                    print(json.dumps(r), flush=True)
                    out.append(r)
                    if record:
                        append_json(f"{NAME}_vad", r)
    return out


def report_vad() -> str:
    import numpy as np

    path = RESULTS / f"{NAME}_vad.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    # The last run: the records of the last date (a run spans commits while it runs).
    records = [r for r in records if r["date"] == records[-1]["date"]]
    last = ", ".join(dict.fromkeys(r["commit"] for r in records))
    rows = []
    for corpus in sorted({r["corpus"] for r in records}):
        for condition in CONDITIONS:
            cells = [corpus, condition]
            for detector in DETECTORS:
                f1 = [
                    r["f1"]
                    for r in records
                    if (r["corpus"], r["condition"], r["detector"]) == (corpus, condition, detector)
                ]
                cells.append(f"{100 * np.mean(f1):.1f} ± {100 * np.std(f1):.1f}" if f1 else "")
            rows.append(cells)
    speed = {
        d: np.mean([r["realtime_factor"] for r in records if r["detector"] == d]) for d in DETECTORS
    }
    seeds = sorted({r["seed"] for r in records})
    table = rst_table(["corpus", "condition", *(f"{d} F1 (%)" for d in DETECTORS)], rows)
    text = (
        ".. Generated by benchmarks/timeline.py --vad; do not edit.\n\n"
        "Speech/non-speech F1 of 10 ms frames (speech the positive class) on long synthetic\n"
        f"recordings: {records[-1]['n_utterances']} random utterances of the corpus separated by "
        "pauses of 0.5-3 s\n"
        f"(seeds {', '.join(map(str, seeds))}: mean ± sd over the seeds; commits {last}). "
        "Frame truth from the clean\nutterances: frames within 40 dB of the utterance's "
        "loudest, pauses inside shorter than 0.2 s\nclosed. SNR relative to the power of the "
        "speech frames; hum: 50 Hz with harmonics at 100\nand 150 Hz, 10 dB below the speech. "
        "Detectors: ``threshold`` the fixed -50 dBFS level of\nearlier versions, ``energy`` "
        "the level-relative default, ``silero`` the neural option.\nSpeed (real-time factor, "
        "one core): " + ", ".join(f"{d} {speed[d]:.0f}x" for d in DETECTORS) + ".\n\n"
        f"{table}\n"
    )
    (RESULTS / f"{NAME}_vad.rst").write_text(text)
    return text


# --------------------------------------------------------------------------- agreement
def speaker_recording(files, rng, sr: int = SR):
    """One speaker's utterances in a random order, separated by pauses of 0.5-3 s (1.2 s of
    silence first); returns the audio, each utterance's span (s) and its order."""
    import numpy as np

    from sklearn_ser import load_audio

    order = rng.permutation(len(files))
    waves = load_audio([files[i] for i in order], sr=sr)
    parts, spans, t = [np.zeros(int(1.2 * sr), np.float32)], [], 1.2
    for y in waves:
        pause = np.zeros(int(rng.uniform(0.5, 3.0) * sr), np.float32)
        parts += [y, pause]
        spans.append((t, t + len(y) / sr))
        t += (len(y) + len(pause)) / sr
    return np.concatenate(parts), spans, order


def utterance_labels(timeline, spans):
    """The emotion covering most of each utterance in the timeline's segments."""
    from collections import Counter

    out = []
    for a, b in spans:
        cover = Counter()
        for s in timeline.segments:
            overlap = min(b, s.end) - max(a, s.start)
            if overlap > 0 and s.label != "no speech":
                cover[s.label] += overlap
        out.append(cover.most_common(1)[0][0] if cover else "no speech")
    return out


def fit_model(kind: str, files, target, speaker, seed: int, epochs: int, cache=None):
    import sklearn

    from sklearn_ser import load_model, make_ser_pipeline, save_model

    if kind == "cnn" and cache:  # trained models kept outside the repository
        path = Path(cache) / f"cnn_{Path(files[0]).parent.name}_{len(files)}_{seed}_{epochs}"
        if path.with_suffix(".safetensors").exists():
            return load_model(path.with_suffix(".safetensors"))
        pipe = fit_model(kind, files, target, speaker, seed, epochs)
        save_model(pipe, path.with_suffix(".safetensors"))
        return pipe
    if kind == "cnn":
        import torch

        torch.manual_seed(seed)
        pipe = make_ser_pipeline("cnn", max_epochs=epochs, random_state=seed)
        return pipe.fit(list(files), target, classifier__groups=speaker)
    pipe = make_ser_pipeline(random_state=seed)
    with sklearn.config_context(enable_metadata_routing=True):
        return pipe.fit(list(files), target, groups=speaker)


def run_agreement(corpus: str, held_out: str, kinds, seeds, epochs: int, record: bool, cache=None):
    import numpy as np

    from sklearn_ser import predict_timeline
    from sklearn_ser.ensemble import call_with_groups

    bunch = load(corpus)
    files, target = np.asarray(bunch.filenames), np.asarray(bunch.target)
    speaker = np.asarray(bunch.speaker)
    test = speaker == held_out
    out = []
    for kind in kinds:
        for seed in seeds:
            start = time.perf_counter()
            train = ~test
            pipe = fit_model(kind, files[train], target[train], speaker[train], seed, epochs, cache)
            fit_s = time.perf_counter() - start
            audio, spans, order = speaker_recording(files[test], np.random.default_rng(seed))
            utts = list(files[test][order])
            truth = target[test][order]
            in_context = call_with_groups(pipe, "predict", utts, groups=[held_out] * len(utts))
            result = {}
            for context in ("recording", "window"):
                timeline = predict_timeline(pipe, audio, context=context)
                labels = np.asarray(utterance_labels(timeline, spans))
                counts = {str(c): int(np.sum(labels == c)) for c in pipe.classes_}
                result[context] = {
                    "agreement": round(float(np.mean(labels == in_context)), 4),
                    "accuracy": round(float(np.mean(labels == truth)), 4),
                    "labels": counts,
                }
            if kind == "cnn":  # the cause of the lost emotion: windows with their pauses
                import sklearn_ser._timeline as module

                keep_speech = module._keep_speech
                module._keep_speech = lambda *a: lambda *b: None
                try:
                    timeline = predict_timeline(pipe, audio, context="recording")
                finally:
                    module._keep_speech = keep_speech
                labels = np.asarray(utterance_labels(timeline, spans))
                result["recording_with_pauses"] = {
                    "agreement": round(float(np.mean(labels == in_context)), 4),
                    "accuracy": round(float(np.mean(labels == truth)), 4),
                    "labels": {str(c): int(np.sum(labels == c)) for c in pipe.classes_},
                }
            r = {
                "commit": commit(),
                "date": date.today().isoformat(),
                "corpus": corpus,
                "held_out": held_out,
                "model": kind,
                "epochs": epochs if kind == "cnn" else None,
                "seed": int(seed),
                "n_utterances": len(utts),
                "audio_s": round(len(audio) / SR, 1),
                "predict_accuracy": round(float(np.mean(in_context == truth)), 4),
                "predict_labels": {str(c): int(np.sum(in_context == c)) for c in pipe.classes_},
                "true_labels": {str(c): int(np.sum(truth == c)) for c in pipe.classes_},
                **{f"{k}_{m}": v[m] for k, v in result.items() for m in v},
                "fit_s": round(fit_s, 1),
            }
            print(json.dumps(r), flush=True)
            out.append(r)
            if record:
                append_json(f"{NAME}_agreement", r)
    return out


def report_agreement() -> str:
    path = RESULTS / f"{NAME}_agreement.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = [
        [
            r["date"],
            r["commit"],
            f"{r['corpus']} {r['held_out']}",
            r["model"] + (f" ({r['epochs']} epochs)" if r.get("epochs") else ""),
            r["seed"],
            r["n_utterances"],
            f"{100 * r['recording_agreement']:.1f}",
            f"{100 * r['window_agreement']:.1f}",
            f"{100 * r['predict_accuracy']:.1f}",
            f"{100 * r['recording_accuracy']:.1f}",
            f"{r['recording_labels'].get('anger', 0)} / {r['predict_labels'].get('anger', 0)}",
            (
                f"{100 * r['recording_with_pauses_agreement']:.1f} "
                f"(anger {r['recording_with_pauses_labels'].get('anger', 0)})"
                if "recording_with_pauses_agreement" in r
                else ""
            ),
        ]
        for r in records
    ]
    table = rst_table(
        [
            "date",
            "commit",
            "held-out speaker",
            "model",
            "seed",
            "utterances",
            "agreement, recording (%)",
            "agreement, window (%)",
            "predict accuracy (%)",
            "timeline accuracy (%)",
            "anger: timeline / predict",
            "CNN windows with their pauses (%)",
        ],
        rows,
    )
    text = (
        ".. Generated by benchmarks/timeline.py --agreement; do not edit.\n\n"
        "One held-out speaker's utterances (random order, pauses of 0.5-3 s, 1.2 s of silence\n"
        "first) as one recording, through ``predict_timeline`` with a model trained on the\n"
        "other speakers of the corpus. Each utterance's timeline label is the emotion covering\n"
        "most of it; agreement: the share of utterances where it equals ``predict`` of the\n"
        "same files with the speaker's context (``groups``); recording / window: the\n"
        "timeline's ``context``. Accuracies against the corpus labels. Last column: the CNN\n"
        "as earlier versions fed it, each window with its pauses (the cause of the lost\n"
        "anger).\n\n"
        f"{table}\n"
    )
    (RESULTS / f"{NAME}_agreement.rst").write_text(text)
    return text


# --------------------------------------------------------------------------- window edges
def run_edges(corpus: str, held_out: str, record: bool) -> dict:
    """Window features from the recording's shared frames against the window analysed
    alone, in units of each feature's spread over the recording's windows; the same for
    the window alone shifted by one 10 ms frame, as a reference of what a tiny change of
    the window does."""
    import numpy as np

    from sklearn_ser import FunctionalsExtractor, MelSpectrogramExtractor
    from sklearn_ser._timeline import _frames_once, _LLDFrames, _LogMelFrames, _window_starts

    bunch = load(corpus)
    files = np.asarray(bunch.filenames)[np.asarray(bunch.speaker) == held_out]
    audio, _, _ = speaker_recording(files, np.random.default_rng(0))
    win, hop = 3 * SR, SR * 3 // 2
    starts = _window_starts(len(audio), win, hop)[:-1]
    rows = np.arange(len(starts))
    out = {
        "commit": commit(),
        "date": date.today().isoformat(),
        "corpus": corpus,
        "held_out": held_out,
        "audio_s": round(len(audio) / SR, 1),
        "windows": len(rows),
    }
    fx = FunctionalsExtractor().fit([audio[:win]])
    shared = np.concatenate(
        [
            X
            for _, X in _frames_once(
                _LLDFrames(fx), iter([audio]), starts, win, rows, lambda *a: None, 64
            )
        ]
    )
    alone = fx.transform([audio[s : s + win] for s in starts])
    shifted = fx.transform([audio[s + 160 : s + 160 + win] for s in starts])
    spread = np.maximum(alone.std(axis=0), 1e-12)
    informative = alone.std(axis=0) > 1e-9 * np.maximum(np.abs(alone).mean(axis=0), 1e-9)
    for name, other in (("shared", shared), ("shifted_10ms", shifted)):
        z = (np.abs(other - alone) / spread)[:, informative]
        out[f"functionals_{name}"] = {
            q: round(float(np.percentile(z, p)), 4)
            for q, p in (("median", 50), ("p90", 90), ("p99", 99))
        }
    mx = MelSpectrogramExtractor(max_frames=300).fit([audio[:win]])
    mel = _LogMelFrames(mx)
    length = mx._target_length  # the CNN's window: exactly its input
    maps = np.concatenate(
        [X for _, X in _frames_once(mel, iter([audio]), starts, length, rows, lambda *a: None, 64)]
    )
    maps_alone = mx.transform([audio[s : s + length] for s in starts])
    diff = np.abs(maps - maps_alone)
    out["logmel_max_db"] = {
        "edge_frames": round(float(max(diff[..., :2].max(), diff[..., -2:].max())), 3),
        "inner_frames": round(float(diff[..., 2:-2].max()), 5),
    }
    print(json.dumps(out), flush=True)
    if record:
        append_json(f"{NAME}_edges", out)
        records = [
            json.loads(line)
            for line in (RESULTS / f"{NAME}_edges.jsonl").read_text().splitlines()
            if line.strip()
        ]
        rows_ = [
            [
                r["date"],
                r["commit"],
                f"{r['corpus']} {r['held_out']}",
                r["windows"],
                *(
                    f"{r[f'functionals_{k}'][q]:.3f}"
                    for k in ("shared", "shifted_10ms")
                    for q in ("median", "p90", "p99")
                ),
                f"{r['logmel_max_db']['inner_frames']:.4f}",
                f"{r['logmel_max_db']['edge_frames']:.1f}",
            ]
            for r in records
        ]
        table = rst_table(
            [
                "date",
                "commit",
                "recording",
                "windows",
                "shared: median",
                "p90",
                "p99",
                "shifted 10 ms: median",
                "p90",
                "p99",
                "log-mel, inner frames (dB)",
                "edge frames (dB)",
            ],
            rows_,
        )
        (RESULTS / f"{NAME}_edges.rst").write_text(
            ".. Generated by benchmarks/timeline.py --edges; do not edit.\n\n"
            "3 s windows every 1.5 s over one speaker's utterances with pauses. Functionals:\n"
            "``|shared - alone| / spread``, the window's functionals from the recording's frames\n"
            "(``predict_timeline``) against the window analysed alone, each feature in units\n"
            "of its standard deviation over the windows (constant features left out),\n"
            "percentiles over windows and features; beside it the same for the window alone\n"
            "moved by one 10 ms frame, for scale. Log-mel: the largest difference (dB) of\n"
            "the window's map from the shared frames and from the window alone, in its two\n"
            "first and last frames and in the others.\n\n" + table + "\n"
        )
    return out


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
            ", ".join(r["imported"]) or "none" if "imported" in r else "",
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
            "torch & co. imported",
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
        "librosa take about 430 MB); anon: peak anonymous memory (RssAnon). Imported: which\n"
        "of torch, skorch, transformers and matplotlib the process had loaded at the end\n"
        "(the functionals model is loaded with joblib; blank: not measured). From the rows\n"
        "with that column on, every frame is analysed once (frame descriptors or log-mel\n"
        "frames of the whole recording, each window a slice of them), speech is found per\n"
        "10 ms frame first, and the windows of the log-mel CNN keep their speech frames.\n\n"
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
    parser.add_argument("--vad", action="store_true", help="speech detection F1 in noise")
    parser.add_argument("--corpora", default="emodb,emovo")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--utterances", type=int, default=80)
    parser.add_argument("--agreement", action="store_true", help="timeline vs predict")
    parser.add_argument("--edges", action="store_true", help="window edges vs window alone")
    parser.add_argument("--corpus", default="emodb")
    parser.add_argument("--held-out", default="16")
    parser.add_argument("--models", default="functionals,cnn")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--cache", default=None, help="folder for trained CNNs (reused)")
    args = parser.parse_args()
    if args.edges:
        run_edges(args.corpus, args.held_out, not args.no_record)
        return
    if args.agreement:
        import torch

        torch.set_num_threads(args.threads)
        seeds = [int(s) for s in args.seeds.split(",")]
        kinds = args.models.split(",")
        run_agreement(
            args.corpus, args.held_out, kinds, seeds, args.epochs, not args.no_record, args.cache
        )
        if not args.no_record:
            print(report_agreement())
        return
    if args.vad:
        import torch

        torch.set_num_threads(1)
        seeds = [int(s) for s in args.seeds.split(",")]
        run_vad(args.corpora.split(","), seeds, args.utterances, not args.no_record)
        if not args.no_record:
            print(report_vad())
        return
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
