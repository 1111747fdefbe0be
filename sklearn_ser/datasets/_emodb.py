"""Loader of the Berlin Database of Emotional Speech (EmoDB)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils import Bunch

from ._base import _CorpusInfo, _load, _RemoteArchive

__all__ = ["load_emodb"]

_EMOTIONS = {
    "W": "anger",  # Wut
    "L": "boredom",  # Langeweile
    "E": "disgust",  # Ekel
    "A": "fear",  # Angst
    "F": "happiness",  # Freude
    "T": "sadness",  # Trauer
    "N": "neutral",
}
_MALE = {"03", "10", "11", "12", "15"}
_FEMALE = {"08", "09", "13", "14", "16"}
_NAME = re.compile(r"(\d\d)([a-z]\d\d)([WLEAFTN])([a-z])")

_INFO = _CorpusInfo(
    name="emodb",
    title="EmoDB (Berlin Database of Emotional Speech)",
    layout="<data_home>/emodb/wav/<speaker><text><emotion><version>.wav",
    example="emodb/wav/03a01Fa.wav",
    # The official archive unpacks to wav/, labsilb/, lablaut/, silb/; no checksum is
    # published, so it is verified trust-on-first-use.
    remote=_RemoteArchive(
        "emodb_download.zip", "http://emodb.bilderbar.info/download/download.zip"
    ),
)

DESCR = """\
Berlin Database of Emotional Speech (EmoDB)
===========================================

535 German utterances by 10 actors (5 female, 5 male) speaking 10 everyday sentences in 7
emotions: anger, boredom, disgust, fear, happiness, neutral, sadness. Recorded at 48 kHz and
distributed at 16 kHz. Speaker-independent evaluation uses leave-one-speaker-out (10 folds).

Reference: F. Burkhardt, A. Paeschke, M. Rolfes, W. Sendlmeier and B. Weiss, "A database of
German emotional speech", Interspeech 2005. http://emodb.bilderbar.info/
"""


def _collect(root: Path) -> list[dict[str, Any]]:
    records = []
    for path in (root / "wav").glob("*.wav"):
        m = _NAME.fullmatch(path.stem)
        if m is None or m.group(1) not in _MALE | _FEMALE:
            continue
        speaker, text, letter, version = m.groups()
        records.append(
            {
                "filename": str(path),
                "target": _EMOTIONS[letter],
                "speaker": speaker,
                "gender": "male" if speaker in _MALE else "female",
                "text": text,
                "version": version,
            }
        )
    return records


def load_emodb(
    data_home: str | os.PathLike | None = None,
    *,
    emotions: Any = None,
    return_X_y: bool = False,
    download: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load the Berlin Database of Emotional Speech (EmoDB).

    =================   ==========================================
    Utterances          535
    Speakers            10 (5 female, 5 male)
    Emotions            7: anger, boredom, disgust, fear,
                        happiness, neutral, sadness
    Language            German
    =================   ==========================================

    Expected layout, as distributed: ``<data_home>/emodb/wav/03a01Fa.wav``. In the file stem,
    characters 1-2 are the speaker (03, 08, 09, 10, 11, 12, 13, 14, 15, 16), 3-5 the text code
    (``a01``), 6 the emotion letter (W anger, L boredom, E disgust, A fear, F happiness,
    T sadness, N neutral) and 7 the version. Speakers 03, 10, 11, 12, 15 are male, 08, 09, 13,
    14, 16 female. Files in ``wav/`` not following this scheme are skipped.

    Parameters
    ----------
    data_home : str or PathLike, default=None
        Folder containing ``emodb/``, or the ``emodb`` folder itself (the one holding
        ``wav/``). Defaults to :func:`get_data_home`.
    emotions : sequence of str, default=None
        Keep only these emotions (names from the list above). None keeps all.
    return_X_y : bool, default=False
        If True, return ``(filenames, target)`` instead of a bunch.
    download : bool, default=False
        If the corpus is not found, download it from http://emodb.bilderbar.info into
        ``<data_home>/emodb``. No checksum is published for the archive: the first download
        is trusted and its SHA-256 recorded, later downloads are checked against it.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``filenames`` (sorted ndarray of str paths, usable as ``X``), ``target`` (emotion
        names), ``target_names``, ``speaker`` (``"03"``...), ``gender`` (``"female"`` or
        ``"male"``), ``text`` (text code), ``version``, ``corpus`` (``"emodb"``), ``DESCR``.
    (filenames, target) : tuple of ndarray
        If ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        If the corpus is not found (and ``download`` is False) or has no matching files.
    ValueError
        If ``emotions`` names an emotion EmoDB does not have.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np, soundfile as sf
    >>> from sklearn_ser.datasets import load_emodb
    >>> home = pathlib.Path(tempfile.mkdtemp())
    >>> (home / "emodb" / "wav").mkdir(parents=True)
    >>> for name in ["03a01Wa", "08a02Tb", "08a04Nc"]:
    ...     sf.write(home / "emodb" / "wav" / f"{name}.wav", np.zeros(1600), 16000)
    >>> data = load_emodb(home)
    >>> data.target.tolist(), data.speaker.tolist(), data.gender.tolist()
    (['anger', 'sadness', 'neutral'], ['03', '08', '08'], ['male', 'female', 'female'])
    >>> X, y = load_emodb(home, emotions=["anger"], return_X_y=True)
    >>> y.tolist()
    ['anger']
    """
    return _load(
        _INFO,
        data_home,
        looks_like=lambda p: (p / "wav").is_dir(),
        collect=_collect,
        emotions=emotions,
        valid_emotions=sorted(_EMOTIONS.values()),
        return_X_y=return_X_y,
        download=download,
        descr=DESCR,
    )
