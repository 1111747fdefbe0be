"""Loader of the audio-only part of RAVDESS."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
from sklearn.utils import Bunch

from ._base import _CorpusInfo, _iglob_ci, _load, _RemoteArchive

__all__ = ["load_ravdess"]

_EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happiness",
    "04": "sadness",
    "05": "anger",
    "06": "fear",
    "07": "disgust",
    "08": "surprise",
}
_CHANNELS = {"01": "speech", "02": "song"}
_STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
_NAME = re.compile(r"(\d\d)-(0[12])-(0[1-8])-(0[12])-(0[12])-(0[12])-(\d\d)")

_INFO = _CorpusInfo(
    name="ravdess",
    title="RAVDESS (Ryerson Audio-Visual Database of Emotional Speech and Song)",
    layout="<data_home>/ravdess/Actor_<nn>/<modality>-<channel>-<emotion>-<intensity>-"
    "<statement>-<repetition>-<actor>.wav",
    example="ravdess/Actor_01/03-01-06-01-02-01-01.wav",
    # Zenodo record 1188976 (audio-only speech); unpacks to Actor_01/ ... Actor_24/.
    # Zenodo lists an MD5 only, which we could not check offline: trust-on-first-use.
    remote=_RemoteArchive(
        "Audio_Speech_Actors_01-24.zip",
        "https://zenodo.org/record/1188976/files/Audio_Speech_Actors_01-24.zip",
    ),
)

DESCR = """\
RAVDESS: Ryerson Audio-Visual Database of Emotional Speech and Song
===================================================================

24 professional actors (12 female, 12 male) speaking two lexically matched statements in a
neutral North American accent. Speech: 1440 audio files (60 per actor) in 8 emotions:
neutral, calm, happiness, sadness, anger, fear, disgust, surprise, at normal and strong
intensity (neutral only at normal intensity). Song files (vocal channel 02) are kept apart.

Reference: S. R. Livingstone and F. A. Russo, "The Ryerson Audio-Visual Database of Emotional
Speech and Song (RAVDESS)", PLoS ONE 13(5), 2018. https://zenodo.org/record/1188976
(licence CC BY-NC-SA 4.0).
"""


def _looks_like(path: Path) -> bool:
    return bool(_iglob_ci(path, r"Actor_\d+"))


def _collect(root: Path, channels: set[str]) -> list[dict[str, Any]]:
    records = []
    for folder in _iglob_ci(root, r"Actor_\d+"):
        for path in folder.glob("*.wav"):
            m = _NAME.fullmatch(path.stem)
            if m is None or m.group(1) != "03":  # 03: audio-only
                continue
            _, channel, emotion, intensity, statement, repetition, actor = m.groups()
            if _CHANNELS[channel] not in channels:
                continue
            records.append(
                {
                    "filename": str(path),
                    "target": _EMOTIONS[emotion],
                    "speaker": actor,
                    "gender": "male" if int(actor) % 2 else "female",
                    "vocal_channel": _CHANNELS[channel],
                    "intensity": "normal" if intensity == "01" else "strong",
                    "statement": _STATEMENTS[statement],
                    "repetition": int(repetition),
                }
            )
    return records


def load_ravdess(
    data_home: str | os.PathLike | None = None,
    *,
    emotions: Any = None,
    return_X_y: bool = False,
    download: bool = False,
    vocal_channel: Literal["speech", "song", "both"] = "speech",
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load the audio-only files of RAVDESS.

    =================   ==========================================
    Utterances          1440 speech (+ 1012 song)
    Speakers            24 (12 female, 12 male)
    Emotions            8: anger, calm, disgust, fear, happiness,
                        neutral, sadness, surprise
    Language            English (North American)
    =================   ==========================================

    Expected layout, as distributed on Zenodo:
    ``<data_home>/ravdess/Actor_01/03-01-06-01-02-01-01.wav``. The file stem is seven
    two-digit fields: modality (03 audio-only; others are skipped), vocal channel (01 speech,
    02 song), emotion (01 neutral, 02 calm, 03 happy, 04 sad, 05 angry, 06 fearful,
    07 disgust, 08 surprised), intensity (01 normal, 02 strong), statement (01 "Kids are
    talking by the door", 02 "Dogs are sitting by the door"), repetition (01, 02) and actor
    (01-24; odd actors are male, even ones female). Files not following this scheme are
    skipped. Song files may sit in the same ``Actor_nn`` folders.

    Parameters
    ----------
    data_home : str or PathLike, default=None
        Folder containing ``ravdess/``, or the ``ravdess`` folder itself (the one holding the
        ``Actor_nn`` folders). Defaults to :func:`get_data_home`.
    emotions : sequence of str, default=None
        Keep only these emotions. None keeps all.
    return_X_y : bool, default=False
        If True, return ``(filenames, target)`` instead of a bunch.
    download : bool, default=False
        If the corpus is not found, download the speech archive from Zenodo (record 1188976,
        about 200 MB) into ``<data_home>/ravdess``. Its checksum is trusted on first use and
        recorded; later downloads are checked against it.
    vocal_channel : {"speech", "song", "both"}, default="speech"
        Which vocal channel to keep.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``filenames``, ``target``, ``target_names``, ``speaker`` (actor, ``"01"``...),
        ``gender``, ``vocal_channel``, ``intensity`` (``"normal"``/``"strong"``),
        ``statement`` (its text), ``repetition`` (1 or 2), ``corpus`` (``"ravdess"``),
        ``DESCR``.
    (filenames, target) : tuple of ndarray
        If ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        If the corpus is not found (and ``download`` is False) or has no matching files.
    ValueError
        If ``emotions`` or ``vocal_channel`` is invalid.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np, soundfile as sf
    >>> from sklearn_ser.datasets import load_ravdess
    >>> home = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ["03-01-05-02-01-01-01", "03-01-02-01-02-02-02", "03-02-03-01-01-01-02"]:
    ...     folder = home / "ravdess" / f"Actor_{name[-2:]}"
    ...     folder.mkdir(parents=True, exist_ok=True)
    ...     sf.write(folder / f"{name}.wav", np.zeros(1600), 16000)
    >>> data = load_ravdess(home)
    >>> data.target.tolist(), data.gender.tolist(), data.intensity.tolist()
    (['anger', 'calm'], ['male', 'female'], ['strong', 'normal'])
    >>> load_ravdess(home, vocal_channel="song").target.tolist()
    ['happiness']
    """
    valid = {"speech": {"speech"}, "song": {"song"}, "both": {"speech", "song"}}
    if vocal_channel not in valid:
        raise ValueError(
            f"vocal_channel must be 'speech', 'song' or 'both', got {vocal_channel!r}."
        )
    channels = valid[vocal_channel]
    return _load(
        _INFO,
        data_home,
        looks_like=_looks_like,
        collect=lambda root: _collect(root, channels),
        emotions=emotions,
        valid_emotions=sorted(_EMOTIONS.values()),
        return_X_y=return_X_y,
        download=download,
        descr=DESCR,
    )
