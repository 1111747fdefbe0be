"""Loader of CREMA-D (Crowd-sourced Emotional Multimodal Actors Dataset)."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils import Bunch

from ._base import _CorpusInfo, _load, _RemoteArchive

__all__ = ["load_cremad"]

_EMOTIONS = {
    "ANG": "anger",
    "DIS": "disgust",
    "FEA": "fear",
    "HAP": "happiness",
    "NEU": "neutral",
    "SAD": "sadness",
}
_LEVELS = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified", "X": "unspecified"}
_NAME = re.compile(r"(\d{4})_([A-Z]{3})_(ANG|DIS|FEA|HAP|NEU|SAD)_(LO|MD|HI|XX|X)")
_LFS_POINTER = b"version https://git-lfs"

_INFO = _CorpusInfo(
    name="cremad",
    title="CREMA-D (Crowd-sourced Emotional Multimodal Actors Dataset)",
    layout="<data_home>/cremad/AudioWAV/<actor>_<sentence>_<emotion>_<level>.wav, with the "
    "optional <data_home>/cremad/VideoDemographics.csv for the actors' gender",
    example="cremad/AudioWAV/1001_DFA_ANG_XX.wav",
    # GitHub's archive of the official repository (unpacks to CREMA-D-master/AudioWAV). The
    # audio is stored with Git LFS; should the archive hold LFS pointers instead of audio,
    # the loader says so. No checksum is published: trust-on-first-use.
    remote=_RemoteArchive(
        "CREMA-D-master.zip",
        "https://github.com/CheyneyComputerScience/CREMA-D/archive/refs/heads/master.zip",
    ),
)

DESCR = """\
CREMA-D: Crowd-sourced Emotional Multimodal Actors Dataset
==========================================================

7442 clips by 91 actors (48 male, 43 female, aged 20 to 74, of various ethnicities) speaking
12 sentences in 6 emotions: anger, disgust, fear, happiness, neutral, sadness, at four
intensity levels (low, medium, high, unspecified). The labels used here are the intended
(acted) emotions, not the crowd-sourced perceived ones.

Reference: H. Cao, D. G. Cooper, M. K. Keutmann, R. C. Gur, A. Nenkova and R. Verma,
"CREMA-D: Crowd-sourced Emotional Multimodal Actors Dataset", IEEE Trans. Affective Computing
5(4), 2014. https://github.com/CheyneyComputerScience/CREMA-D (licence ODbL).
"""


def _audio_dir(path: Path) -> Path | None:
    """``AudioWAV`` directly in ``path`` or one level below (as in GitHub's archive)."""
    if (path / "AudioWAV").is_dir():
        return path / "AudioWAV"
    for child in sorted(path.iterdir()) if path.is_dir() else []:
        if (child / "AudioWAV").is_dir():
            return child / "AudioWAV"
    return None


def _read_genders(csv_path: Path) -> dict[str, str]:
    if not csv_path.is_file():
        return {}
    genders = {}
    with open(csv_path, newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            actor, sex = str(row.get("ActorID", "")).strip(), str(row.get("Sex", "")).lower()
            if actor and sex.strip() in ("male", "female"):
                genders[actor] = sex.strip()
    return genders


def _collect(root: Path) -> list[dict[str, Any]]:
    audio = _audio_dir(root)
    if audio is None:
        return []
    genders = _read_genders(audio.parent / "VideoDemographics.csv")
    records = []
    for path in audio.glob("*.wav"):
        m = _NAME.fullmatch(path.stem)
        if m is None:
            continue
        actor, sentence, emotion, level = m.groups()
        records.append(
            {
                "filename": str(path),
                "target": _EMOTIONS[emotion],
                "speaker": actor,
                "gender": genders.get(actor, "unknown"),
                "sentence": sentence,
                "level": _LEVELS[level],
            }
        )
    if records:
        with open(records[0]["filename"], "rb") as f:
            if f.read(len(_LFS_POINTER)) == _LFS_POINTER:
                raise FileNotFoundError(
                    f"{records[0]['filename']!r} is a Git LFS pointer, not audio: the CREMA-D "
                    "copy was obtained without its LFS objects. Fetch the audio with "
                    "`git lfs pull` in a clone of the repository and put AudioWAV/ in "
                    f"{str(audio.parent)!r}."
                )
    return records


def load_cremad(
    data_home: str | os.PathLike | None = None,
    *,
    emotions: Any = None,
    return_X_y: bool = False,
    download: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load the audio of CREMA-D.

    =================   ==========================================
    Utterances          7442
    Speakers            91 (48 male, 43 female)
    Emotions            6: anger, disgust, fear, happiness,
                        neutral, sadness
    Language            English (American)
    =================   ==========================================

    Expected layout, as in the official repository:
    ``<data_home>/cremad/AudioWAV/1001_DFA_ANG_XX.wav`` (``AudioWAV`` may also sit one level
    deeper, e.g. ``cremad/CREMA-D-master/AudioWAV``). The file stem is
    actor_sentence_emotion_level: a four-digit actor ID, a three-letter sentence code, the
    emotion (ANG, DIS, FEA, HAP, NEU, SAD) and the intensity (LO, MD, HI, XX unspecified).
    Gender comes from ``VideoDemographics.csv`` beside ``AudioWAV`` (columns ``ActorID``,
    ``Sex``, ...) when present, else is ``"unknown"``. Files not following this scheme are
    skipped.

    Parameters
    ----------
    data_home : str or PathLike, default=None
        Folder containing ``cremad/``, or the ``cremad`` folder itself. Defaults to
        :func:`get_data_home`.
    emotions : sequence of str, default=None
        Keep only these emotions. None keeps all.
    return_X_y : bool, default=False
        If True, return ``(filenames, target)`` instead of a bunch.
    download : bool, default=False
        If the corpus is not found, download GitHub's archive of the official repository into
        ``<data_home>/cremad``. No checksum is published: the first download is trusted and
        its SHA-256 recorded for later downloads. The repository keeps its audio in Git LFS;
        if the archive holds LFS pointers instead of audio, a FileNotFoundError says so.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``filenames``, ``target``, ``target_names``, ``speaker`` (actor ID, ``"1001"``...),
        ``gender``, ``sentence`` (code, e.g. ``"DFA"``), ``level`` (``"low"``,
        ``"medium"``, ``"high"`` or ``"unspecified"``), ``corpus`` (``"cremad"``), ``DESCR``.
    (filenames, target) : tuple of ndarray
        If ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        If the corpus is not found (and ``download`` is False) or has no matching files.
    ValueError
        If ``emotions`` names an emotion CREMA-D does not have.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np, soundfile as sf
    >>> from sklearn_ser.datasets import load_cremad
    >>> home = pathlib.Path(tempfile.mkdtemp())
    >>> (home / "cremad" / "AudioWAV").mkdir(parents=True)
    >>> for name in ["1001_DFA_ANG_XX", "1002_IEO_SAD_HI"]:
    ...     sf.write(home / "cremad" / "AudioWAV" / f"{name}.wav", np.zeros(1600), 16000)
    >>> _ = (home / "cremad" / "VideoDemographics.csv").write_text(
    ...     "ActorID,Age,Sex,Race,Ethnicity\\n1001,51,Male,Caucasian,Not Hispanic\\n")
    >>> data = load_cremad(home)
    >>> data.target.tolist(), data.gender.tolist(), data.level.tolist()
    (['anger', 'sadness'], ['male', 'unknown'], ['unspecified', 'high'])
    """
    return _load(
        _INFO,
        data_home,
        looks_like=lambda p: _audio_dir(p) is not None,
        collect=_collect,
        emotions=emotions,
        valid_emotions=sorted(_EMOTIONS.values()),
        return_X_y=return_X_y,
        download=download,
        descr=DESCR,
    )
