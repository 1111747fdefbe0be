"""Loader of the Toronto Emotional Speech Set (TESS)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils import Bunch

from ._base import _CorpusInfo, _iglob_ci, _load, _RemoteArchive

__all__ = ["load_tess"]

_EMOTIONS = {
    "angry": "anger",
    "disgust": "disgust",
    "fear": "fear",
    "happy": "happiness",
    "neutral": "neutral",
    "ps": "surprise",  # "pleasant surprise"
    "sad": "sadness",
}
_NAME = re.compile(r"(OAF|YAF)_(\w+?)_(angry|disgust|fear|happy|neutral|ps|sad)", re.IGNORECASE)
_FOLDER = r"(OAF|YAF)_\w+"

_INFO = _CorpusInfo(
    name="tess",
    title="TESS (Toronto Emotional Speech Set)",
    layout="<data_home>/tess/<OAF|YAF>_<emotion>/<OAF|YAF>_<word>_<emotion>.wav",
    example="tess/OAF_angry/OAF_back_angry.wav",
    # "Download all files" of the dataset on the University of Toronto Dataverse (Borealis),
    # doi:10.5683/SP2/E8H2MF. No checksum is published: trust-on-first-use.
    remote=_RemoteArchive(
        "tess_dataverse.zip",
        "https://borealisdata.ca/api/access/dataset/:persistentId/"
        "?persistentId=doi:10.5683/SP2/E8H2MF",
    ),
)

DESCR = """\
TESS: Toronto Emotional Speech Set
==================================

2800 recordings by two actresses, aged 26 (YAF) and 64 (OAF), saying "Say the word _" with
200 target words in 7 emotions: anger, disgust, fear, happiness, pleasant surprise, sadness,
neutral (400 files each; pleasant surprise is labelled ``surprise`` here). With only two
speakers, speaker-independent results on TESS alone are of limited value.

Reference: K. Dupuis and M. K. Pichora-Fuller, "Toronto emotional speech set (TESS)",
University of Toronto, 2010. doi:10.5683/SP2/E8H2MF (licence CC BY-NC-ND 4.0).
"""


def _speaker_folders(path: Path) -> list[Path]:
    """Speaker-emotion folders directly in ``path`` or one level below it."""
    found = _iglob_ci(path, _FOLDER)
    if not found:
        for child in path.iterdir() if path.is_dir() else []:
            if child.is_dir():
                found.extend(_iglob_ci(child, _FOLDER))
    return [p for p in found if p.is_dir()]


def _collect(root: Path) -> list[dict[str, Any]]:
    records = []
    for folder in _speaker_folders(root):
        for path in folder.iterdir():
            m = _NAME.fullmatch(path.stem)
            if m is None or path.suffix.lower() != ".wav":
                continue
            speaker, word, emotion = m.groups()
            records.append(
                {
                    "filename": str(path),
                    "target": _EMOTIONS[emotion.lower()],
                    "speaker": speaker.upper(),
                    "gender": "female",
                    "word": word.lower(),
                }
            )
    return records


def load_tess(
    data_home: str | os.PathLike | None = None,
    *,
    emotions: Any = None,
    return_X_y: bool = False,
    download: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load the Toronto Emotional Speech Set (TESS).

    =================   ==========================================
    Utterances          2800
    Speakers            2 (both female: OAF older, YAF younger)
    Emotions            7: anger, disgust, fear, happiness,
                        neutral, sadness, surprise
    Language            English (Canadian)
    =================   ==========================================

    Expected layout, as distributed: one folder per speaker and emotion,
    ``<data_home>/tess/OAF_angry/OAF_back_angry.wav``; the folders may also sit one level
    deeper (e.g. ``tess/TESS Toronto emotional speech set data/OAF_angry/``), and their names
    vary in case and wording (``YAF_pleasant_surprised``, ``OAF_Fear``), so only the file
    names are used: the speaker (OAF or YAF) is the first underscore-separated part of the
    stem, the emotion the last (angry, disgust, fear, happy, neutral, ps = pleasant surprise,
    sad), the word the middle. Files not following this scheme are skipped.

    Parameters
    ----------
    data_home : str or PathLike, default=None
        Folder containing ``tess/``, or the ``tess`` folder itself. Defaults to
        :func:`get_data_home`.
    emotions : sequence of str, default=None
        Keep only these emotions (``"surprise"`` for pleasant surprise). None keeps all.
    return_X_y : bool, default=False
        If True, return ``(filenames, target)`` instead of a bunch.
    download : bool, default=False
        If the corpus is not found, download it from the University of Toronto Dataverse
        (doi:10.5683/SP2/E8H2MF) into ``<data_home>/tess``. No checksum is published: the
        first download is trusted and its SHA-256 recorded for later downloads.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``filenames``, ``target``, ``target_names``, ``speaker`` (``"OAF"``/``"YAF"``),
        ``gender`` (all ``"female"``), ``word``, ``corpus`` (``"tess"``), ``DESCR``.
    (filenames, target) : tuple of ndarray
        If ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        If the corpus is not found (and ``download`` is False) or has no matching files.
    ValueError
        If ``emotions`` names an emotion TESS does not have.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np, soundfile as sf
    >>> from sklearn_ser.datasets import load_tess
    >>> home = pathlib.Path(tempfile.mkdtemp())
    >>> for folder, name in [("OAF_angry", "OAF_back_angry"), ("YAF_pleasant_surprised",
    ...                                                          "YAF_bath_ps")]:
    ...     (home / "tess" / folder).mkdir(parents=True)
    ...     sf.write(home / "tess" / folder / f"{name}.wav", np.zeros(1600), 16000)
    >>> data = load_tess(home)
    >>> data.target.tolist(), data.speaker.tolist(), data.word.tolist()
    (['anger', 'surprise'], ['OAF', 'YAF'], ['back', 'bath'])
    """
    return _load(
        _INFO,
        data_home,
        looks_like=lambda p: bool(_speaker_folders(p)),
        collect=_collect,
        emotions=emotions,
        valid_emotions=sorted(_EMOTIONS.values()),
        return_X_y=return_X_y,
        download=download,
        descr=DESCR,
    )
