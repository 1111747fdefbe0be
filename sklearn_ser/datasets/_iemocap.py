"""Loader of IEMOCAP (Interactive Emotional Dyadic Motion Capture database)."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np
from sklearn.utils import Bunch

from ._base import _CorpusInfo, _iglob_ci, _load

__all__ = ["load_iemocap"]

_LABELS = {
    "ang": "anger",
    "hap": "happiness",
    "exc": "excitement",
    "sad": "sadness",
    "neu": "neutral",
    "fru": "frustration",
    "sur": "surprise",
    "fea": "fear",
    "dis": "disgust",
    "oth": "other",
    # "xxx" (no majority among the annotators) is always dropped
}
_FOUR_CLASSES = ("anger", "happiness", "neutral", "sadness")
_LINE = re.compile(
    r"\[\s*([\d.]+)\s*-\s*([\d.]+)\s*\]\s+(Ses(\d\d)[FM]_\S+)\s+(\w+)\s+"
    r"\[\s*([\d.]+),\s*([\d.]+),\s*([\d.]+)\s*\]"
)

_INFO = _CorpusInfo(
    name="iemocap",
    title="IEMOCAP (Interactive Emotional Dyadic Motion Capture database)",
    layout="<data_home>/iemocap/Session{1..5}/dialog/EmoEvaluation/<dialog>.txt and "
    "<data_home>/iemocap/Session{1..5}/sentences/wav/<dialog>/<utterance>.wav",
    example="iemocap/Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F000.wav",
    how_to_get="request a licence at https://sail.usc.edu/iemocap/ and unpack the "
    "Session folders there.",
)

DESCR = """\
IEMOCAP: Interactive Emotional Dyadic Motion Capture database
=============================================================

About 12 hours of English dyadic sessions (5 sessions, each with one female and one male
actor: 10 speakers), improvised and scripted, segmented into about 10,000 utterances with
categorical labels (majority vote of at least three annotators) and dimensional ratings
(valence, activation, dominance, 1 to 5). Most papers use the 4-class setting anger,
happiness (merged with excitement), neutral, sadness (5531 utterances) with
leave-one-session-out evaluation.

Reference: C. Busso et al., "IEMOCAP: Interactive emotional dyadic motion capture database",
Language Resources and Evaluation 42(4), 2008. https://sail.usc.edu/iemocap/
"""


def _label_map(label_set: str, merge_excited: bool) -> dict[str, str]:
    mapping = dict(_LABELS)
    if merge_excited:
        mapping["exc"] = "happiness"
    if label_set == "4class":
        mapping = {k: v for k, v in mapping.items() if v in _FOUR_CLASSES}
    return mapping


def _collect(root: Path, mapping: dict[str, str]) -> list[dict[str, Any]]:
    records, missing = [], 0
    for session_dir in _iglob_ci(root, r"Session[1-5]"):
        for txt in sorted((session_dir / "dialog" / "EmoEvaluation").glob("*.txt")):
            with open(txt, encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
            for line in lines:
                m = _LINE.match(line.strip())
                if m is None:
                    continue
                start, end, utt, session, code, val, act, dom = m.groups()
                if code not in mapping:
                    continue
                dialog, last = utt.rsplit("_", 1)
                wav = session_dir / "sentences" / "wav" / dialog / f"{utt}.wav"
                if not wav.is_file():
                    missing += 1
                    continue
                letter = last[0].upper()
                records.append(
                    {
                        "filename": str(wav),
                        "target": mapping[code],
                        "speaker": f"Ses{session}{letter}",
                        "gender": "female" if letter == "F" else "male",
                        "session": int(session),
                        "utterance": utt,
                        "improvised": "_impro" in dialog,
                        "start": float(start),
                        "end": float(end),
                        "valence": float(val),
                        "activation": float(act),
                        "dominance": float(dom),
                    }
                )
    if missing:
        warnings.warn(
            f"{missing} labelled IEMOCAP utterances have no wav file under "
            f"{str(root)!r}/Session*/sentences/wav/ and were skipped.",
            UserWarning,
            stacklevel=5,
        )
    return records


def load_iemocap(
    data_home: str | os.PathLike | None = None,
    *,
    emotions: Any = None,
    return_X_y: bool = False,
    download: bool = False,
    label_set: Literal["4class", "all"] = "4class",
    merge_excited: bool = True,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load the utterances of IEMOCAP with their categorical labels.

    =================   ==========================================
    Utterances          10039 labelled, 5531 in the default
                        4-class setting
    Speakers            10 (one female, one male per session)
    Emotions            default: anger, happiness (+ excitement),
                        neutral, sadness
    Language            English (American)
    =================   ==========================================

    Expected layout, as distributed: ``<data_home>/iemocap/Session{1..5}/``. Labels come from
    ``Session<n>/dialog/EmoEvaluation/*.txt``, one line per utterance such as
    ``[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]``
    (start and end time, utterance ID, label, valence/activation/dominance); the audio is
    ``Session<n>/sentences/wav/Ses01F_impro01/Ses01F_impro01_F000.wav``. The speaker is the
    session plus the gender letter of the last part of the utterance ID (``F000`` -> female
    speaker ``"Ses01F"``, ``M012`` -> ``"Ses01M"``). Labels: ang anger, hap happiness,
    exc excitement, sad sadness, neu neutral, fru frustration, sur surprise, fea fear,
    dis disgust, oth other; ``xxx`` (no majority) is always dropped. Labelled utterances
    whose wav file is missing are skipped with a warning.

    Parameters
    ----------
    data_home : str or PathLike, default=None
        Folder containing ``iemocap/``, or the ``iemocap`` folder itself (the one holding
        ``Session1``...). Defaults to :func:`get_data_home`.
    emotions : sequence of str, default=None
        Keep only these emotions (among those of ``label_set``). None keeps all.
    return_X_y : bool, default=False
        If True, return ``(filenames, target)`` instead of a bunch.
    download : bool, default=False
        Accepted for a uniform interface; IEMOCAP needs a licence and has no public download,
        so a missing corpus raises FileNotFoundError in any case.
    label_set : {"4class", "all"}, default="4class"
        ``"4class"`` keeps the usual anger, happiness, neutral, sadness; ``"all"`` keeps every
        label but ``xxx``, including ``excitement``, ``frustration`` and ``other``.
    merge_excited : bool, default=True
        Label excited utterances ``happiness``, as most 4-class papers do. With False they are
        ``excitement`` (dropped in the 4-class setting).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``filenames``, ``target``, ``target_names``, ``speaker``, ``gender``, ``session``
        (1-5, for leave-one-session-out), ``utterance`` (ID), ``improvised`` (bool),
        ``start`` and ``end`` (seconds in the dialog), ``valence``, ``activation``,
        ``dominance`` (mean ratings), ``corpus`` (``"iemocap"``), ``DESCR``.
    (filenames, target) : tuple of ndarray
        If ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        If the corpus is not found or has no matching utterances.
    ValueError
        If ``emotions`` or ``label_set`` is invalid.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np, soundfile as sf
    >>> from sklearn_ser.datasets import load_iemocap
    >>> session = pathlib.Path(tempfile.mkdtemp()) / "iemocap" / "Session1"
    >>> (session / "dialog" / "EmoEvaluation").mkdir(parents=True)
    >>> (session / "sentences" / "wav" / "Ses01F_impro01").mkdir(parents=True)
    >>> lines = ["[6.2901 - 8.2357]\\tSes01F_impro01_F000\\tneu\\t[2.5000, 2.5000, 2.5000]",
    ...          "[9.0000 - 10.500]\\tSes01F_impro01_M001\\texc\\t[4.0000, 4.0000, 3.0000]",
    ...          "[11.000 - 12.000]\\tSes01F_impro01_M002\\tfru\\t[2.0000, 3.5000, 3.0000]"]
    >>> _ = (session / "dialog" / "EmoEvaluation" / "Ses01F_impro01.txt").write_text(
    ...     "\\n".join(lines))
    >>> for utt in ["F000", "M001", "M002"]:
    ...     sf.write(session / "sentences" / "wav" / "Ses01F_impro01" /
    ...              f"Ses01F_impro01_{utt}.wav", np.zeros(1600), 16000)
    >>> data = load_iemocap(session.parent)
    >>> data.target.tolist(), data.speaker.tolist()
    (['neutral', 'happiness'], ['Ses01F', 'Ses01M'])
    >>> load_iemocap(session.parent, label_set="all", merge_excited=False).target.tolist()
    ['neutral', 'excitement', 'frustration']
    """
    if label_set not in ("4class", "all"):
        raise ValueError(f"label_set must be '4class' or 'all', got {label_set!r}.")
    mapping = _label_map(label_set, merge_excited)
    return _load(
        _INFO,
        data_home,
        looks_like=lambda p: bool(_iglob_ci(p, r"Session[1-5]")),
        collect=lambda root: _collect(root, mapping),
        emotions=emotions,
        valid_emotions=sorted(set(mapping.values())),
        return_X_y=return_X_y,
        download=download,
        descr=DESCR,
    )
