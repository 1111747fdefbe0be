"""The ``sklearn-ser`` command line (also ``python -m sklearn_ser``).

Heavy imports (torch, librosa) happen inside the commands, so ``--help`` answers at once.
A user mistake ends in one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

NO_SPEECH = "no speech"  # as sklearn_ser._timeline.NO_SPEECH (not imported: lean start-up)

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".au")
CORPORA = ("emodb", "emovo", "ravdess", "tess", "savee", "cremad", "iemocap")
FEATURES = ("logmel", "mfcc", "spectrogram", "llds", "both", "logmel+mfcc")
MODELS = ("functionals", "cnn", "fusion")
DEMO_EPOCHS = 15


class UserError(Exception):
    """A mistake in the command's arguments or inputs: reported in one line."""


def default_threads() -> int:
    """Threads for torch and BLAS: the cores this process may use, at most 4.

    More threads than cores (or than the small networks here can use) slow training and
    prediction down several times when other processes share the machine.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def _set_threads(args: argparse.Namespace) -> Callable[[], None]:
    """Limit torch and BLAS threads to ``--threads``; returns what restores them.

    ``main`` restores them when the command ends, so that calling it from Python (a
    notebook, a test) leaves the process's thread settings as they were.
    """
    threads = getattr(args, "threads", None)
    if threads is None:
        return lambda: None
    if threads < 1:
        raise UserError(f"--threads must be >= 1, got {threads}.")
    undo: list[Callable[[], None]] = []
    if "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = str(threads)
        undo.append(lambda: os.environ.pop("OMP_NUM_THREADS", None))
    try:
        from threadpoolctl import threadpool_limits

        undo.append(threadpool_limits(limits=threads).restore_original_limits)
    except ImportError:  # pragma: no cover
        pass
    if getattr(args, "needs_torch", True):
        import torch

        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
        undo.append(lambda: torch.set_num_threads(previous))

    def restore() -> None:
        for step in reversed(undo):
            step()

    return restore


def _check_output(path: str | None, option: str, suffixes: tuple[str, ...] = ()) -> None:
    """Fail before any work if ``path`` cannot be written."""
    if path is None:
        return
    target = Path(path)
    if suffixes and target.suffix.lower() not in suffixes:
        raise UserError(f"{option} must end in {' or '.join(suffixes)}, got {str(target)!r}.")
    if target.is_dir():
        raise UserError(f"{option} {str(target)!r} is a folder; give a file name.")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise UserError(f"{option} {str(target)!r}: folder {str(parent)!r} does not exist.")
    if not os.access(parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise UserError(f"{option} {str(target)!r} is not writable.")


def _output_folder(path: str, option: str) -> Path:
    """Create the folder ``path`` if needed; fail before any work if it cannot be written."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{option} {path!r} is a file; give a folder.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{option} {path!r}: cannot create the folder ({exc.strerror}).") from None
    if not os.access(folder, os.W_OK):
        raise UserError(f"{option} {path!r} is not writable; give another folder.")
    return folder


class _PlainText:
    """A text stream that drops ANSI colour codes (skorch's epoch table has them)."""

    def __init__(self, stream: Any):
        import re

        self._stream = stream
        self._pattern = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

    def write(self, text: str) -> int:
        return self._stream.write(self._pattern.sub("", text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


# --------------------------------------------------------------------------- helpers
def _check_model_options(args: argparse.Namespace) -> None:
    """The CNN's options with ``--model functionals``: a mistake, said before any work."""
    if args.model != "functionals":
        return
    given = [
        option
        for option, value in (
            ("--epochs", args.epochs),
            ("--features", args.features),
            ("--checkpoint", getattr(args, "checkpoint", None)),
        )
        if value is not None
    ]
    if given:
        raise UserError(
            f"{', '.join(given)} set{'s' if len(given) == 1 else ''} the CNN, which "
            "--model functionals has none of; use --model cnn or --model fusion."
        )


def _pipeline(args: argparse.Namespace, **overrides: Any):
    """``make_ser_pipeline`` of ``--model``, with the command's options."""
    from . import make_ser_pipeline

    _check_model_options(args)
    cnn_params: dict[str, Any] = {}
    if args.epochs is not None:
        cnn_params["max_epochs"] = args.epochs
    if getattr(args, "checkpoint", None) is not None:
        cnn_params["checkpoint"] = args.checkpoint
    cnn_params.update(overrides)
    return make_ser_pipeline(
        args.model,
        features=args.features,
        n_jobs=args.n_jobs,
        random_state=args.seed,
        augment=getattr(args, "augment", False),
        verbose=max(args.verbose - 1, 0),
        **cnn_params,
    )


def _predictor(model: Any) -> Any:
    """The model that predicts: an AugmentedClassifier's estimator (nothing is augmented
    at prediction), else ``model``."""
    from .augment import AugmentedClassifier

    while isinstance(model, AugmentedClassifier):
        model = getattr(model, "estimator_", model.estimator)
    return model


def _without_samplers(pipe: Any) -> Any:
    """An imbalanced-learn pipeline without its samplers (skipped at prediction anyway)."""
    steps = getattr(pipe, "steps", None)
    if steps is None or not any(hasattr(step, "fit_resample") for _, step in steps):
        return pipe
    from sklearn.pipeline import Pipeline

    return Pipeline([(name, step) for name, step in steps if not hasattr(step, "fit_resample")])


def _members(model: Any) -> list[Any]:
    """The pipelines that predict for ``model``: itself, or the members of a fusion.

    Each starts with its feature extractor: what only trains is left out (the augmenter
    of an :class:`~sklearn_ser.augment.AugmentedClassifier`, the samplers of an
    imbalanced-learn pipeline).
    """
    from .ensemble import LateFusionClassifier

    model = _predictor(model)
    if isinstance(model, LateFusionClassifier):
        fitted = getattr(model, "estimators_", None)
        members = list(fitted) if fitted is not None else [est for _, est in model.estimators]
        return [_without_samplers(_predictor(member)) for member in members]
    return [_without_samplers(model)]


def _weights(model: Any) -> Any:
    """The weights of a fusion's members (None: equal)."""
    return getattr(_predictor(model), "weights", None)


def _show_epochs(model: Any) -> None:
    """One line per training epoch (skorch's table) for every network of ``model``."""
    from . import SERClassifier

    for member in _members(model):
        final = member.steps[-1][1]
        if isinstance(final, SERClassifier):
            final.set_params(verbose=max(final.verbose, 1))


def _settings(args: argparse.Namespace) -> dict:
    """The command's settings, for reports: everything but the function to run."""
    from . import __version__

    settings = {k: v for k, v in vars(args).items() if k not in ("func", "needs_torch")}
    return {"library_version": __version__, **settings}


def _load_corpus(name: str, data_home: str | None, download: bool = False):
    from . import datasets

    loader = getattr(datasets, f"load_{name}")
    return loader(data_home, download=download)


def _collect_audio(paths: Sequence[str]) -> list[str]:
    files: list[str] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found = sorted(str(f) for f in path.rglob("*") if f.suffix.lower() in AUDIO_EXTENSIONS)
            if not found:
                raise UserError(
                    f"folder {p!r} contains no audio files ({', '.join(AUDIO_EXTENSIONS)})."
                )
            files += found
        else:
            files.append(str(path))  # a missing file is reported and skipped later
    return files


def _load_model(path: str):
    from ._persistence import load_model

    try:
        model = load_model(path)
    except (FileNotFoundError, IsADirectoryError, ValueError) as exc:
        raise UserError(str(exc)) from None
    for member in _members(model):
        if not hasattr(member, "steps") or len(member.steps) < 2:
            raise UserError(
                f"model file {path!r} holds a {type(member).__name__}, not a pipeline that "
                "starts from audio (save a fitted make_ser_pipeline() model)."
            )
    return model


def _run_skipping_failures(
    method: Callable[[list[str]], list], files: list[str], verbose: bool, chunk: int = 64
) -> tuple[list | None, list[str], list[str]]:
    """Apply ``method`` chunk by chunk; files that fail are reported and skipped.

    ``method`` returns a list of arrays for a list of files (one array per model member);
    the result is that list for the readable files, each array concatenated over chunks.
    """
    from tqdm.auto import tqdm

    results, kept, failed = [], [], []
    for start in tqdm(range(0, len(files), chunk), disable=not verbose, unit="chunk"):
        part = files[start : start + chunk]
        try:
            results.append(method(part))
            kept += part
            continue
        except (ValueError, FileNotFoundError, OSError):
            pass
        for f in part:  # find the culprits one by one
            try:
                results.append(method([f]))
                kept.append(f)
            except (ValueError, FileNotFoundError, OSError) as exc:
                failed.append(f)
                print(f"sklearn-ser: skipped {f}: {exc}", file=sys.stderr)
    import numpy as np

    stacked = [np.concatenate(arrays) for arrays in zip(*results)] if results else None
    return stacked, kept, failed


def _speaker_groups(files: list[str], group_by: str) -> list[str]:
    """The speaker of each file under ``--group-by``."""
    if group_by == "folder":
        return [str(Path(f).parent) for f in files]
    if group_by == "all":
        return ["all"] * len(files)
    return list(files)


def _apply_to_files(model, method: str, files: list[str], args: argparse.Namespace):
    """``model.<method>`` of the readable files, with the speaker groups of ``--group-by``.

    Features are extracted chunk by chunk (unreadable files are skipped), then the steps
    after the extractor run on all of them at once with the speaker ids of ``--group-by``,
    so that a speaker-standardising model sees each speaker's files together; by default
    every file is its own speaker, so that a file's result does not depend on the other
    files of the call. For a fusion every member does so, and their probabilities are
    averaged with the fusion's weights, as its ``predict_proba`` does. ``method`` is
    ``"predict_proba"`` or ``"embed"``: the network's embeddings, or the standardised
    functionals of a functionals model (the input of its linear model).
    """
    import numpy as np

    from .ensemble import call_with_groups

    members = _members(model)
    if getattr(args, "crop", "model") == "cover":
        # Files longer than the model's input are covered whole, not cut to their centre.
        for member in members:
            member.set_params(**{k: "cover" for k in member.get_params() if k.endswith("__crop")})
    extractors = [member[:1] for member in members]
    Xts, kept, failed = _run_skipping_failures(
        lambda part: [extractor.transform(part) for extractor in extractors],
        files,
        args.verbose > 0,
    )
    if Xts is None:
        return None, kept, failed
    groups = _speaker_groups(kept, args.group_by)
    outputs = []
    for member, Xt in zip(members, Xts):
        rest, method_name = member[1:], method
        if method == "embed":
            method_name = "transform"
            if not hasattr(rest.steps[-1][1], "transform"):  # not a network: its input
                if len(rest.steps) == 1:
                    outputs.append(Xt)
                    continue
                rest = rest[:-1]
        outputs.append(call_with_groups(rest, method_name, Xt, groups=groups))
    if len(outputs) == 1:
        return outputs[0], kept, failed
    return np.average(np.stack(outputs), axis=0, weights=_weights(model)), kept, failed


def _classes(model) -> list[str]:
    return [str(c) for c in model.classes_]


# --------------------------------------------------------------------------- commands
def cmd_demo(args: argparse.Namespace) -> int:
    import numpy as np

    from .datasets import make_emotional_speech
    from .model_selection import evaluate_speaker_independent

    if args.speakers < 3:
        raise UserError(
            "--speakers must be >= 3 (the map of unseen speakers holds out two), got "
            f"{args.speakers}."
        )
    if args.utterances < 1:
        raise UserError(f"--utterances must be >= 1, got {args.utterances}.")
    out = _output_folder(args.out, "--out")
    start = time.perf_counter()
    data = make_emotional_speech(
        n_speakers=args.speakers, n_utterances=args.utterances, random_state=args.seed
    )
    X, y, speakers = data.data, np.asarray(data.target), np.asarray(data.speaker)
    print(
        f"Synthetic emotional speech: {len(y)} utterances, {len(set(speakers))} speakers, "
        f"emotions {', '.join(sorted(map(str, set(y))))}."
    )
    settings = {"max_frames": 120}
    print(
        'Leave-one-speaker-out evaluation of make_ser_pipeline("cnn") (features + SERClassifier):'
    )
    result = evaluate_speaker_independent(_pipeline(args, **settings), X, y, speakers, verbose=1)
    print(result.to_text())
    figures = _demo_figures(args, out, X, y, speakers, result, settings)
    print(f"Done in {time.perf_counter() - start:.0f} s. {figures}")
    return 0


def _demo_figures(args, out: Path, X, y, speakers, result, settings) -> str:
    import numpy as np

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "Figures skipped: install matplotlib (pip install 'sklearn-ser[plotting]')."
    from .plotting import plot_confusion_matrix, plot_embedding

    disp = plot_confusion_matrix(y[result.test_indices], result.y_pred)
    disp.ax_.set_title(f"Held-out speakers: UA {100 * result.ua:.1f}%, WA {100 * result.wa:.1f}%")
    disp.figure_.savefig(out / "confusion_matrix.png", dpi=120, bbox_inches="tight")
    plt.close(disp.figure_)
    # Embeddings of two speakers the model never heard.
    held_out = sorted(set(speakers))[-2:]
    train = ~np.isin(speakers, held_out)
    pipe = _pipeline(args, **settings).fit(
        [X[i] for i in np.flatnonzero(train)], y[train], classifier__groups=speakers[train]
    )
    test = np.flatnonzero(~train)
    features = pipe[:-1].transform([X[i] for i in test])
    emb = plot_embedding(
        pipe.steps[-1][1].transform(features, groups=speakers[test]),
        y[test],
        method="tsne",
        random_state=args.seed,
        title=f"t-SNE of embeddings, unseen speakers {', '.join(held_out)}",
    )
    emb.figure_.savefig(out / "embedding_tsne.png", dpi=120, bbox_inches="tight")
    plt.close(emb.figure_)
    return f"Figures: {out / 'confusion_matrix.png'}, {out / 'embedding_tsne.png'}."


def cmd_evaluate(args: argparse.Namespace) -> int:
    import numpy as np
    import sklearn

    from .model_selection import evaluate_speaker_independent

    _check_output(args.json, "--json")
    for option in ("speakers", "folds"):
        value = getattr(args, option)
        if value is not None and value < 1:
            raise UserError(f"--{option} must be >= 1, got {value}.")
    bunch = _load_corpus(args.corpus, args.data_home, args.download)
    files = np.asarray(list(bunch.filenames), dtype=object)
    target, speaker = np.asarray(bunch.target), np.asarray(bunch.speaker).astype(str)
    kept = sorted(set(speaker))
    if args.speakers is not None:
        if args.speakers < 2:
            raise UserError("--speakers must be >= 2 (one to train on, one to test).")
        kept = kept[: args.speakers]
        mask = np.isin(speaker, kept)
        files, target, speaker = files[mask], target[mask], speaker[mask]
    cv = None
    n_folds = len(kept)
    if args.folds is not None and args.folds < n_folds:
        from sklearn.model_selection import LeaveOneGroupOut

        splits = LeaveOneGroupOut().split(files, target, speaker)
        cv = [next(splits) for _ in range(args.folds)]
        n_folds = args.folds
    print(
        f"{args.corpus}: {len(target)} utterances, {len(kept)} speakers, "
        f"{len(set(target))} emotions; leave-one-speaker-out, {n_folds} folds."
    )
    pipe = _pipeline(args)
    # Speaker ids reach every step that uses them (the functionals' scaler) by routing.
    with sklearn.config_context(enable_metadata_routing=True):
        results = evaluate_speaker_independent(
            pipe, list(files), target, speaker, cv=cv, verbose=1, protocol="both"
        )
    for protocol, result in results.items():
        print(f"\n{_PROTOCOL_TITLES[protocol]}")
        print(result.to_text())
    if args.json:
        report = {
            "protocols": {protocol: result.to_dict() for protocol, result in results.items()},
            "settings": _settings(args),
            "n_folds_run": n_folds,
        }
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


_PROTOCOL_TITLES = {
    "file": "Protocol 'file': every test file predicted alone",
    "speaker": "Protocol 'speaker': each test speaker's files predicted together, with "
    "their speaker's id (context)",
}


def _read_labels(path: str, audio_dir: str | None) -> tuple[list[str], list[str], list | None]:
    if not os.path.isfile(path):
        raise UserError(f"labels file {path!r} does not exist.")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or not {"path", "label"} <= set(rows[0]):
        raise UserError(
            f"labels file {path!r} must be a CSV with columns 'path' and 'label' (and "
            "optionally 'speaker')."
        )
    columns = ["path", "label"] + (["speaker"] if "speaker" in rows[0] else [])
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        for column in columns:
            if row.get(column) is None or not str(row[column]).strip():
                raise UserError(
                    f"labels file {path!r}, row {line}: empty {column!r} cell; every row "
                    "needs a " + " and a ".join(repr(c) for c in columns) + "."
                )
    base = Path(audio_dir) if audio_dir else Path(path).parent
    files = [str(base / r["path"].strip()) for r in rows]
    speakers = [r["speaker"].strip() for r in rows] if "speaker" in rows[0] else None
    return files, [r["label"].strip() for r in rows], speakers


@contextlib.contextmanager
def _noting_interrupts() -> Iterator[list]:
    """Note every Ctrl-C, even one that a library catches.

    skorch ends training at a KeyboardInterrupt and returns as if it had finished, so a
    model half trained would look complete. The list this yields is non-empty once
    Ctrl-C was pressed; the interrupt is still raised where it lands.
    """
    noted: list = []
    if threading.current_thread() is not threading.main_thread():  # pragma: no cover
        yield noted
        return

    def note(signum: int, frame: Any) -> None:
        noted.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, note)
    try:
        yield noted
    finally:
        signal.signal(signal.SIGINT, previous)


def _training_data(args: argparse.Namespace) -> tuple[list, list, list | None]:
    if args.corpus:
        bunch = _load_corpus(args.corpus, args.data_home, args.download)
        return list(bunch.filenames), list(bunch.target), list(bunch.speaker)
    if args.labels:
        return _read_labels(args.labels, args.audio_dir)
    raise UserError("train needs --corpus NAME (with --data-home) or --labels CSV.")


def cmd_train(args: argparse.Namespace) -> int:
    from ._persistence import save_model
    from .ensemble import call_with_groups

    _check_output(args.output, "--output")
    if args.checkpoint is not None:
        _check_output(args.checkpoint, "--checkpoint")
    pipe = _pipeline(args)
    # One line per epoch (skorch's table) even without -v; -v adds extraction progress.
    _show_epochs(pipe)
    try:
        with _noting_interrupts() as interrupted:
            files, labels, speakers = _training_data(args)
            emotions = ", ".join(sorted({str(v) for v in labels}))
            print(
                f"Training make_ser_pipeline({args.model!r}) on {len(files)} utterances, "
                f"{len(set(labels))} emotions ({emotions})..."
            )
            sys.stdout.flush()
            pipe = call_with_groups(pipe, "fit", files, labels, groups=speakers)
            if interrupted:  # caught by skorch, which returned a half-trained network
                raise KeyboardInterrupt
            # Written whole to a temporary file, then renamed over the output.
            path = save_model(pipe, args.output)
    except KeyboardInterrupt:
        kept = "is unchanged" if Path(args.output).exists() else "was not created"
        resume = (
            f" Run the same command again to resume from the last finished epoch in "
            f"{args.checkpoint}."
            if args.checkpoint is not None and Path(args.checkpoint).exists()
            else ""
        )
        print(
            f"sklearn-ser train: interrupted; nothing was written ({args.output} {kept}).{resume}",
            file=sys.stderr,
        )
        return 130
    print(f"Saved {path} (classes: {', '.join(_classes(pipe))}).")
    return 0


def _speech_files(model, files: list[str], vad: str) -> tuple[list[str], set[str]]:
    """The files that hold speech and those that do not (silent, too short, noise only:
    :func:`~sklearn_ser.has_speech`); unreadable files count as speech here, so that the
    model's own reading reports them."""
    from ._audio import has_speech

    first = _members(model)[0].steps[0][1]
    if hasattr(first, "extractors_"):
        first = first.extractors_[0][1]
    sr = int(getattr(first, "sr", 16000))
    silent = set()
    for f in files:
        try:
            if not has_speech([f], sr=sr, vad=vad)[0]:
                silent.add(f)
        except (ValueError, OSError):
            pass
    return [f for f in files if f not in silent], silent


def cmd_predict(args: argparse.Namespace) -> int:
    _check_output(args.output, "--output")
    model = _load_model(args.model)
    files = _collect_audio(args.paths)
    # No speech is an answer: such files get "no speech" and no probabilities, and do not
    # take part in a speaker's statistics.
    speech_files, silent = _speech_files(model, files, args.vad)
    proba, kept, failed = (None, [], [])
    if speech_files:
        proba, kept, failed = _apply_to_files(model, "predict_proba", speech_files, args)
    classes = _classes(model)
    found = {}
    for f, p in zip(kept, proba if proba is not None else []):
        best = int(p.argmax())
        found[f] = {
            "path": f,
            "label": str(classes[best]),
            **{f"p_{c}": round(float(v), 6) for c, v in zip(classes, p)},
        }
    for f in silent:
        found[f] = {"path": f, "label": NO_SPEECH, **{f"p_{c}": None for c in classes}}
    records = [found[f] for f in files if f in found]
    stream = open(args.output, "w", newline="") if args.output else sys.stdout
    try:
        if args.format == "json":
            json.dump(records, stream, indent=2)
            stream.write("\n")
        else:
            writer = csv.DictWriter(
                stream, fieldnames=["path", "label"] + [f"p_{c}" for c in classes]
            )
            writer.writeheader()
            writer.writerows(
                {k: ("" if v is None else v) for k, v in record.items()} for record in records
            )
    finally:
        if stream is not sys.stdout:
            stream.close()
    return 1 if failed else 0


def _check_embeddable(model: Any) -> None:
    if len(_members(model)) > 1:
        raise UserError(
            "the model is a fusion of "
            + " and ".join(repr(name) for name, _ in _predictor(model).estimators)
            + ", which has no single embedding; embed with one of its members (e.g. "
            "save_model(model.named_estimators_['cnn'], path)) or a model trained with "
            "--model cnn or --model functionals."
        )


def _has_embedding(model: Any) -> bool:
    (member,) = _members(model)
    return hasattr(member.steps[-1][1], "transform")


def cmd_embed(args: argparse.Namespace) -> int:
    import numpy as np

    _check_output(args.output, "--output", (".npy", ".csv"))
    model = _load_model(args.model)
    _check_embeddable(model)
    files = _collect_audio(args.paths)
    speech_files, silent = _speech_files(model, files, args.vad)
    emb, kept, failed = (None, [], [])
    if speech_files:
        emb, kept, failed = _apply_to_files(model, "embed", speech_files, args)
    out = Path(args.output)
    if emb is None:
        emb = np.zeros((0, 0), dtype=np.float32)
    if silent:  # no speech: a row of NaN, in the files' order
        rows = {f: row for f, row in zip(kept, emb)}
        width = emb.shape[1]
        kept = [f for f in files if f in rows or f in silent]
        nan = np.full(width, np.nan, dtype=np.float32)
        emb = np.stack([rows.get(f, nan) for f in kept]) if kept else emb
        print(
            f"sklearn-ser: no speech in {len(silent)} file(s) (silent, too short or noise "
            "only): their embeddings are NaN.",
            file=sys.stderr,
        )
    if out.suffix.lower() == ".csv":
        with out.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["path"] + [f"e{i}" for i in range(emb.shape[1])])
            writer.writerows([p, *map(float, row)] for p, row in zip(kept, emb))
    elif out.suffix.lower() == ".npy":
        np.save(out, emb)
        out.with_suffix(".paths.txt").write_text("".join(f"{p}\n" for p in kept))
    else:
        raise UserError(f"--output must end in .npy or .csv, got {str(out)!r}.")
    what = "embeddings" if _has_embedding(model) else "standardised functionals"
    print(f"Wrote {emb.shape[0]} {what} of size {emb.shape[1]} to {out}.")
    return 1 if failed else 0


def _timeline(model: Any, audio: str, **params: Any) -> Any:
    """``predict_timeline`` of a pipeline; of a fusion, its members' averaged.

    The members' windows are the first member's (its window length and hop), so their
    probabilities are of the same stretches of audio, averaged with the fusion's weights
    as its ``predict_proba`` does.
    """
    import numpy as np

    from . import predict_timeline

    first, *others = _members(model)
    timeline = predict_timeline(first, audio, **params)
    if not others:
        return timeline
    params = {**params, "window": timeline.window, "hop": timeline.hop}
    timelines = [timeline] + [predict_timeline(member, audio, **params) for member in others]
    proba = np.average(np.stack([t.proba for t in timelines]), axis=0, weights=_weights(model))
    return timeline.with_proba(proba)  # segments at the detector's frames, as for one model


def cmd_timeline(args: argparse.Namespace) -> int:
    _check_output(args.output, "--output")
    model = _load_model(args.model)
    files = _collect_audio(args.paths)
    classes = _classes(model)
    results, failed = [], []
    for f in files:
        try:
            timeline = _timeline(
                model,
                f,
                window=args.window,
                hop=args.hop,
                context=args.context,
                vad=args.vad,
                verbose=1 if not args.quiet else 0,
            )
        except (ValueError, FileNotFoundError, OSError) as exc:
            failed.append(f)
            print(f"sklearn-ser: skipped {f}: {exc}", file=sys.stderr)
            continue
        except TypeError as exc:
            raise UserError(str(exc)) from None
        results.append((f, timeline))
    stream = open(args.output, "w", newline="") if args.output else sys.stdout
    try:
        if args.format == "json":
            records = [
                {
                    "path": f,
                    "duration": round(t.duration, 4),
                    "window": round(t.window, 4),
                    "hop": round(t.hop, 4),
                    "classes": classes,
                    "segments": [
                        {"start": round(s.start, 4), "end": round(s.end, 4), "label": s.label}
                        for s in t.segments
                    ],
                    "windows": t.to_records(),
                }
                for f, t in results
            ]
            json.dump(records, stream, indent=2)
            stream.write("\n")
        elif args.segments:
            writer = csv.writer(stream)
            writer.writerow(["path", "start", "end", "label"])
            for f, t in results:
                writer.writerows(
                    [f, round(s.start, 4), round(s.end, 4), s.label] for s in t.segments
                )
        else:
            fields = ["path", "start", "end", "label"] + [f"p_{c}" for c in classes]
            writer = csv.DictWriter(stream, fieldnames=fields)
            writer.writeheader()
            for f, t in results:
                for record in t.to_records():
                    writer.writerow(
                        {"path": f, **{k: ("" if v is None else v) for k, v in record.items()}}
                    )
    finally:
        if stream is not sys.stdout:
            stream.close()
    return 1 if failed else 0


# --------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sklearn-ser",
        description="Speech emotion recognition with scikit-learn: evaluate, train, predict.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def download_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--download",
            action="store_true",
            help="download the corpus into --data-home if it is not there (where it has a "
            "public download)",
        )

    def threads_option(p: argparse.ArgumentParser, default: int | None = None) -> None:
        why = f"the usable cores, at most 4: {default_threads()} here"
        if default is not None:
            why = (
                f"{default}: the networks are tiny, and one thread is as fast on an idle "
                "machine and several times faster on a busy one"
            )
        p.add_argument(
            "--threads",
            type=int,
            default=default_threads() if default is None else default,
            help=f"threads of torch and BLAS (default: {why})",
        )

    def model_options(
        p: argparse.ArgumentParser,
        choose_model: bool = True,
        threads: int | None = None,
        epochs: int = 40,
    ) -> None:
        if choose_model:
            p.add_argument(
                "--model",
                choices=MODELS,
                default="functionals",
                help="functionals (default, the library's most accurate model on new speakers: "
                "acoustic functionals of each utterance, standardised per speaker, and a "
                "linear model, fitted in seconds once the features are extracted), cnn (a CNN "
                "over 3 s log-mel maps) or "
                "fusion (both, their probabilities averaged): make_ser_pipeline(MODEL)",
            )
        p.add_argument(
            "--features",
            choices=FEATURES,
            default=None,
            help="the CNN's input (--model cnn or fusion; default: logmel)",
        )
        p.add_argument(
            "--epochs",
            type=int,
            default=None,
            help=f"the CNN's training epochs (default: {epochs})",
        )
        if choose_model:
            p.add_argument(
                "--augment",
                action="store_true",
                help="multi-condition training: each training file also as perturbed copies "
                "(noise, telephone band, room, codec, level), for recordings unlike the "
                "corpus (needs the augment extra)",
            )
        p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
        p.add_argument("--n-jobs", type=int, default=None, help="feature extraction jobs")
        threads_option(p, threads)
        p.add_argument("-v", "--verbose", action="count", default=0, help="more output")

    demo = sub.add_parser(
        "demo",
        help="end-to-end demo on built-in synthetic speech",
        description="Features, SERClassifier and leave-one-speaker-out "
        "evaluation on synthetic emotional speech; writes a confusion "
        "matrix and a t-SNE map of unseen speakers' embeddings as PNG.",
    )
    model_options(demo, choose_model=False, threads=1, epochs=DEMO_EPOCHS)
    demo.add_argument("--speakers", type=int, default=6, help="synthetic speakers (default: 6)")
    demo.add_argument(
        "--utterances",
        type=int,
        default=6,
        help="utterances per speaker and emotion (default: 6)",
    )
    demo.add_argument("--out", default="sklearn_ser_demo", help="folder for the figures")
    demo.set_defaults(func=cmd_demo, model="cnn", epochs=DEMO_EPOCHS)

    ev = sub.add_parser(
        "evaluate",
        help="speaker-independent table for a corpus",
        description="Leave-one-speaker-out UA/WA of make_ser_pipeline(MODEL) (by default "
        "the functionals model), under both protocols from one fit per fold: each test file "
        "alone, and with its speaker's other files as context.",
    )
    ev.add_argument("--corpus", required=True, choices=CORPORA)
    ev.add_argument(
        "--data-home",
        default=None,
        help="folder holding the corpus folder (default: $SKLEARN_SER_DATA or ~/sklearn_ser_data)",
    )
    ev.add_argument(
        "--json",
        default=None,
        help="also write the result, with the settings, seed and library version, as JSON",
    )
    ev.add_argument(
        "--speakers", type=int, default=None, help="use only the first N speakers (sorted)"
    )
    ev.add_argument(
        "--folds", type=int, default=None, help="run only the first N leave-one-speaker-out folds"
    )
    download_option(ev)
    model_options(ev)
    ev.set_defaults(func=cmd_evaluate)

    tr = sub.add_parser(
        "train",
        help="train on a corpus or labelled files; save a model",
        description="Train make_ser_pipeline(MODEL) (by default the functionals model) "
        "and save it as a safe model file. The file is written whole at the end, or not at "
        "all: Ctrl-C leaves an existing file unchanged (exit code 130).",
    )
    tr.add_argument("--corpus", choices=CORPORA, help="a corpus loader's name")
    tr.add_argument("--data-home", default=None, help="folder holding the corpus folder")
    download_option(tr)
    tr.add_argument("--labels", help="CSV with columns path,label[,speaker]")
    tr.add_argument(
        "--audio-dir", help="folder the CSV paths are relative to (default: the CSV's folder)"
    )
    tr.add_argument("-o", "--output", required=True, help="model file (.safetensors)")
    tr.add_argument(
        "--checkpoint",
        default=None,
        help="the CNN's training state, saved after every epoch; if the file exists, "
        "training resumes from it (after Ctrl-C, run the same command again)",
    )
    model_options(tr)
    tr.set_defaults(func=cmd_train)

    def vad_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--vad",
            choices=("energy", "silero", "threshold"),
            default="energy",
            help="speech detector: level-relative energy (default), the Silero network "
            "(needs torch and silero-vad), or the fixed -50 dBFS level",
        )

    def audio_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("-v", "--verbose", action="count", default=0, help="progress bar")
        p.add_argument(
            "--group-by",
            choices=("all", "folder", "file"),
            default="file",
            help="which files share a speaker, for the models' per-speaker "
            "standardisation: file (default: each file alone, so a file's result does not "
            "depend on the other files), folder (the files of each folder: a folder per "
            "speaker) or all (every file of the call is one speaker)",
        )
        p.add_argument(
            "--crop",
            choices=("cover", "model"),
            default="cover",
            help="files longer than the model's input: covered whole (default: silences "
            "dropped, evenly spaced pieces kept) or cropped as the model was saved",
        )
        threads_option(p)

    pr = sub.add_parser(
        "predict",
        help="emotion and class probabilities per file",
        description="Predict files or folders; unreadable files are "
        "reported and skipped, and the exit code is 1 if any was.",
    )
    pr.add_argument("model", help="model file from 'train' or save_model")
    pr.add_argument("paths", nargs="+", help="audio files or folders")
    pr.add_argument("--format", choices=("csv", "json"), default="csv")
    pr.add_argument("-o", "--output", default=None, help="output file (default: stdout)")
    audio_options(pr)
    vad_option(pr)
    pr.set_defaults(func=cmd_predict)

    em = sub.add_parser(
        "embed",
        help="embeddings to .npy or .csv",
        description="Write the model's embeddings of files or folders.",
    )
    em.add_argument("model", help="model file")
    em.add_argument("paths", nargs="+", help="audio files or folders")
    em.add_argument("-o", "--output", required=True, help="output .npy or .csv")
    audio_options(em)
    vad_option(em)
    em.set_defaults(func=cmd_embed)

    tl = sub.add_parser(
        "timeline",
        help="emotion over time in long recordings",
        description="Window-by-window emotion probabilities and merged segments of each "
        "recording (streamed from disk: any length). Windows without speech are labelled "
        "'no speech'. Unreadable files are reported and skipped (exit code 1).",
    )
    tl.add_argument("model", help="model file from 'train' or save_model")
    tl.add_argument("paths", nargs="+", help="audio files or folders")
    tl.add_argument("--format", choices=("csv", "json"), default="csv")
    tl.add_argument("-o", "--output", default=None, help="output file (default: stdout)")
    tl.add_argument(
        "--window", type=float, default=None, help="window in seconds (default: the model's)"
    )
    tl.add_argument(
        "--hop", type=float, default=None, help="seconds between windows (default: window/2)"
    )
    tl.add_argument(
        "--context",
        choices=("recording", "window"),
        default="recording",
        help="speaker statistics of the whole recording (default) or of each window alone",
    )
    tl.add_argument(
        "--segments", action="store_true", help="CSV of merged segments instead of windows"
    )
    tl.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    vad_option(tl)
    threads_option(tl)
    tl.set_defaults(func=cmd_timeline)
    return parser


def _version() -> str:
    from . import __version__

    return f"sklearn-ser {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    The process's thread settings (torch, BLAS) and standard streams are restored when
    the command ends, so ``main`` can also be called from Python.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    stdout, stderr = sys.stdout, sys.stderr
    if not _isatty(stdout):
        sys.stdout = _PlainText(stdout)
    if not _isatty(stderr):
        sys.stderr = _PlainText(stderr)
    restore_threads = lambda: None  # noqa: E731
    try:
        restore_threads = _set_threads(args)
        return args.func(args)
    except UserError as exc:
        print(f"sklearn-ser {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, IsADirectoryError, ValueError) as exc:
        print(f"sklearn-ser {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sklearn-ser {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        restore_threads()
        sys.stdout, sys.stderr = stdout, stderr


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
