"""Loader of EMOVO, the Italian emotional speech corpus."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils import Bunch

from ._base import _CorpusInfo, _load

__all__ = ["load_emovo"]

_EMOTIONS = {
    "dis": "disgust",
    "gio": "happiness",  # gioia, joy
    "neu": "neutral",
    "pau": "fear",  # paura
    "rab": "anger",  # rabbia
    "sor": "surprise",  # sorpresa
    "tri": "sadness",  # tristezza
}
_SPEAKERS = ("f1", "f2", "f3", "m1", "m2", "m3")
_NAME = re.compile(r"(dis|gio|neu|pau|rab|sor|tri)-([fm][123])-(\w+)", re.IGNORECASE)

_INFO = _CorpusInfo(
    name="emovo",
    title="EMOVO (Italian emotional speech corpus)",
    layout="<data_home>/emovo/{f1,f2,f3,m1,m2,m3}/<emotion>-<speaker>-<sentence>.wav",
    example="emovo/f1/dis-f1-b1.wav",
    how_to_get="request it from its authors (Costantini et al., LREC 2014) and unpack it there.",
)

DESCR = """\
EMOVO Corpus
============

588 Italian utterances by 6 actors (3 female, 3 male), 14 sentences each in 7 emotions:
anger, disgust, fear, happiness (joy), neutral, sadness, surprise (84 files per emotion).
Speaker-independent evaluation uses leave-one-speaker-out (6 folds).

Reference: G. Costantini, I. Iaderola, A. Paoloni and M. Todisco, "EMOVO Corpus: an Italian
Emotional Speech Database", LREC 2014.
"""


def _collect(root: Path) -> list[dict[str, Any]]:
    records = []
    for folder in root.iterdir():
        if not (folder.is_dir() and folder.name.lower() in _SPEAKERS):
            continue
        for path in folder.glob("*.wav"):
            m = _NAME.fullmatch(path.stem)
            if m is None:
                continue
            emotion, speaker, sentence = (g.lower() for g in m.groups())
            records.append(
                {
                    "filename": str(path),
                    "target": _EMOTIONS[emotion],
                    "speaker": speaker,
                    "gender": "female" if speaker[0] == "f" else "male",
                    "sentence": sentence,
                }
            )
    return records


def load_emovo(
    data_home: str | os.PathLike | None = None,
    *,
    emotions: Any = None,
    return_X_y: bool = False,
    download: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load EMOVO, the Italian emotional speech corpus.

    =================   ==========================================
    Utterances          588
    Speakers            6 (3 female, 3 male)
    Emotions            7: anger, disgust, fear, happiness,
                        neutral, sadness, surprise
    Language            Italian
    =================   ==========================================

    Expected layout, as distributed: one folder per speaker,
    ``<data_home>/emovo/{f1,f2,f3,m1,m2,m3}/dis-f1-b1.wav``; the file stem is
    emotion-speaker-sentence. Emotion codes: dis disgust, gio happiness (joy), neu neutral,
    pau fear, rab anger, sor surprise, tri sadness. The speaker (and its gender, ``f`` or
    ``m``) is read from the file name. Other files (e.g. the documentation folder) are skipped.

    Parameters
    ----------
    data_home : str or PathLike, default=None
        Folder containing ``emovo/``, or the ``emovo`` folder itself. Defaults to
        :func:`get_data_home`.
    emotions : sequence of str, default=None
        Keep only these emotions. None keeps all.
    return_X_y : bool, default=False
        If True, return ``(filenames, target)`` instead of a bunch.
    download : bool, default=False
        Accepted for a uniform interface; EMOVO has no public download, so a missing corpus
        raises FileNotFoundError in any case.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``filenames``, ``target``, ``target_names``, ``speaker`` (``"f1"``...), ``gender``,
        ``sentence`` (sentence code, e.g. ``"b1"``), ``corpus`` (``"emovo"``), ``DESCR``.
    (filenames, target) : tuple of ndarray
        If ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        If the corpus is not found or has no matching files.
    ValueError
        If ``emotions`` names an emotion EMOVO does not have.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np, soundfile as sf
    >>> from sklearn_ser.datasets import load_emovo
    >>> home = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ["dis-f1-b1", "gio-m2-n3"]:
    ...     folder = home / "emovo" / name.split("-")[1]
    ...     folder.mkdir(parents=True, exist_ok=True)
    ...     sf.write(folder / f"{name}.wav", np.zeros(1600), 16000)
    >>> data = load_emovo(home)
    >>> data.target.tolist(), data.speaker.tolist(), data.gender.tolist()
    (['disgust', 'happiness'], ['f1', 'm2'], ['female', 'male'])
    """
    return _load(
        _INFO,
        data_home,
        looks_like=lambda p: any((p / s).is_dir() for s in _SPEAKERS),
        collect=_collect,
        emotions=emotions,
        valid_emotions=sorted(_EMOTIONS.values()),
        return_X_y=return_X_y,
        download=download,
        descr=DESCR,
    )
