"""Speed and peak memory of PretrainedEmbeddingExtractor with base-size encoders, on the CPU.

The encoders are base-size configurations (wav2vec2-base, WavLM-base-plus: 12 layers,
768 dimensions, about 95 M parameters) with *random* weights: this measures speed and
memory, not accuracy (no weights can be downloaded where this runs). Each configuration
runs in its own process, so its peak resident memory (``resource.getrusage`` maxrss)
is its own: model loading, audio and activations included. Real-time factor = seconds
of audio per second of wall time (higher is faster), for ``transform`` on 60 s of audio
in six 10-second files, after a warm-up call that loads the weights.

    python benchmarks/pretrained.py                 # all configurations, 2 torch threads
    python benchmarks/pretrained.py --threads 1 --files 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS, append_json, commit, md_table, rst_table

FILE_SECONDS = 10.0
# (name, model family, extractor parameters)
CONFIGS = [
    ("wavlm-base-plus, layer -1, mean, batch 1", "wavlm", {"batch_size": 1}),
    ("wavlm-base-plus, layer -1, mean, batch 4", "wavlm", {"batch_size": 4}),
    ("wavlm-base-plus, all layers, frames, batch 4", "wavlm", {"layer": "all", "pooling": None}),
    ("wavlm-base-plus, bfloat16, batch 4", "wavlm", {"dtype": "bfloat16"}),
    ("wav2vec2-base, layer -1, mean, batch 4", "wav2vec2", {}),
]


def build(family: str, folder: str) -> int:
    """Save a base-size random encoder and its feature extractor; return its parameters."""
    import torch
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2Model,
        WavLMConfig,
        WavLMModel,
    )

    torch.manual_seed(0)
    # The configurations' defaults are the base models' (group-normalised front end, as in
    # facebook/wav2vec2-base and microsoft/wavlm-base-plus).
    model = WavLMModel(WavLMConfig()) if family == "wavlm" else Wav2Vec2Model(Wav2Vec2Config())
    model.save_pretrained(folder)
    Wav2Vec2FeatureExtractor(return_attention_mask=False).save_pretrained(folder)
    return sum(p.numel() for p in model.parameters())


def child(folder: str, params: dict, threads: int, n_files: int) -> None:
    """Runs in a fresh process: one timing, printed as JSON."""
    import resource

    import numpy as np
    import torch

    torch.set_num_threads(threads)
    from sklearn_ser import PretrainedEmbeddingExtractor

    rng = np.random.default_rng(0)
    n = int(FILE_SECONDS * 16000)
    t = np.arange(n) / 16000
    waves = [
        (0.3 * np.sin(2 * np.pi * (120 + 30 * i) * t) + 0.05 * rng.normal(size=n)).astype(
            np.float32
        )
        for i in range(n_files)
    ]
    extractor = PretrainedEmbeddingExtractor(folder, **{"device": "cpu", "batch_size": 4, **params})
    start = time.perf_counter()
    extractor.fit(waves)
    extractor.transform(waves[:1])  # loads the weights
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    out = extractor.transform(waves)
    wall = time.perf_counter() - start
    load_avg = os.getloadavg()[0]  # other work on the machine slows these timings
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB (Linux)
    print(
        json.dumps(
            {
                "wall_s": wall,
                "load_s": load_s,
                "peak_mib": peak,
                "shape": list(out.shape),
                "load_avg_1min": load_avg,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--files", type=int, default=6, help="10-second files (default 6)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], json.loads(args.child[1]), args.threads, args.files)
        return

    import torch
    import transformers

    audio_s = args.files * FILE_SECONDS
    rows, records = [], []
    with tempfile.TemporaryDirectory() as tmp:
        sizes = {}
        for name, family, params in CONFIGS:
            folder = str(Path(tmp) / family)
            if family not in sizes:
                sizes[family] = build(family, folder)
            cmd = [sys.executable, __file__, "--threads", str(args.threads)]
            cmd += ["--files", str(args.files), "--child", folder, json.dumps(params)]
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode:
                sys.exit(f"{name} failed:\n{res.stderr}")
            result = json.loads(res.stdout.strip().splitlines()[-1])
            record = {
                "commit": commit(),
                "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "config": name,
                "family": family,
                "params": params,
                "n_parameters": sizes[family],
                "threads": args.threads,
                "device": "cpu",
                "audio_s": audio_s,
                "n_files": args.files,
                "file_s": FILE_SECONDS,
                "rtf": audio_s / result["wall_s"],
                "torch": torch.__version__,
                "transformers": transformers.__version__,
                "machine": f"{platform.machine()}, {platform.python_version()}",
                "protocol": "random base-size weights; transform after a warm-up call",
                **result,
            }
            records.append(record)
            append_json("pretrained", record)
            rows.append(
                [
                    name,
                    f"{result['wall_s']:.1f}",
                    f"{record['rtf']:.1f}x",
                    f"{result['load_s']:.1f}",
                    f"{result['peak_mib']:.0f}",
                    "x".join(map(str, result["shape"][1:])),
                    f"{result['load_avg_1min']:.1f}",
                ]
            )
            print(md_table(["config", "s", "RTF", "load s", "MiB", "out", "loadavg"], rows[-1:]))
    header = [
        "configuration",
        "transform (s)",
        "real-time factor",
        "fit, load, 1st file (s)",
        "peak RSS (MiB)",
        "output per file",
        "machine load",
    ]
    from _common import machine

    text = (
        f"Measured {records[0]['date'][:10]} on {machine()}, torch {torch.__version__} "
        f"with {args.threads} threads, transformers {transformers.__version__}, commit "
        f"{records[0]['commit']}. {audio_s:.0f} s of audio in {args.files} files of "
        f"{FILE_SECONDS:.0f} s; base-size encoders with random weights "
        f"({sizes.get('wavlm', 0) / 1e6:.0f} M parameters). GPU: not measured (no GPU was "
        "available). Machine load: the 1-minute load average when each timing ended (the "
        "machine is shared; a load above the thread count slows the timings).\n\n"
        + rst_table(header, rows)
        + "\n"
    )
    (RESULTS / "pretrained.rst").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
