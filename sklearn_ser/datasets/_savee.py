"""Loader of SAVEE (Surrey Audio-Visual Expressed Emotion)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils import Bunch

from ._base import _CorpusInfo, _load

__all__ = ["load_savee"]

_EMOTIONS = {
    "a": "anger",
    "d": "disgust",
    "f": "fear",
    "h": "happiness",
    "n": "neutral",
    "sa": "sadness",
    "su": "surprise",
}
_SPEAKERS = ("DC", "JE", "JK", "KL")
_NAME = re.compile(r"(a|d|f|h|n|sa|su)(\d\d)")

_INFO = _CorpusInfo(
    name="savee",
    title="SAVEE (Surrey Audio-Visual Expressed Emotion)",
    layout="<data_home>/savee/AudioData/{DC,JE,JK,KL}/<emotion><sentence>.wav",
    example="savee/AudioData/DC/a01.wav",
    how_to_get="register at http://kahlan.eps.surrey.ac.uk/savee/ and unpack AudioData there.",
)

DESCR = """\
SAVEE: Surrey Audio-Visual Expressed Emotion
============================================

480 British English utterances by 4 male speakers (DC, JE, JK, KL), 15 sentences per emotion
and 30 neutral ones per speaker, in 7 emotions: anger, disgust, fear, happiness, neutral,
sadness, surprise. Speaker-independent evaluation uses leave-one-speaker-out (4 folds).

Reference: S. Haq and P. J. B. Jackson, "Speaker-dependent audio-visual emotion recognition",
AVSP 2009. http://kahlan.eps.surrey.ac.uk/savee/
"""


def _collect(root: Path) -> list[dict[str, Any]]:
    records = []
    for speaker in _SPEAKERS:
        for path in (root / "AudioData" / speaker).glob("*.wav"):
            m = _NAME.fullmatch(path.stem)
            if m is None:
                continue
            code, sentence = m.groups()
            records.append(
                {
                    "filename": str(path),
                    "target": _EMOTIONS[code],
                    "speaker": speaker,
                    "gender": "male",
                    "sentence": int(sentence),
                }
            )
    return records


def load_savee(
    data_home: str | os.PathLike | None = None,
    *,
    emotions: Any = None,
    return_X_y: bool = False,
    download: bool = False,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load SAVEE (Surrey Audio-Visual Expressed Emotion).

    =================   ==========================================
    Utterances          480
    Speakers            4 (all male)
    Emotions            7: anger, disgust, fear, happiness,
                        neutral, sadness, surprise
    Language            English (British)
    =================   ==========================================

    Expected layout, as distributed: ``<data_home>/savee/AudioData/{DC,JE,JK,KL}/a01.wav``.
    The speaker is the folder name; the file stem is an emotion code (a anger, d disgust,
    f fear, h happiness, n neutral, sa sadness, su surprise) followed by a two-digit sentence
    number. Other files (e.g. ``Info.txt``) are skipped.

    Parameters
    ----------
    data_home : str or PathLike, default=None
        Folder containing ``savee/``, or the ``savee`` folder itself (the one holding
        ``AudioData``). Defaults to :func:`get_data_home`.
    emotions : sequence of str, default=None
        Keep only these emotions. None keeps all.
    return_X_y : bool, default=False
        If True, return ``(filenames, target)`` instead of a bunch.
    download : bool, default=False
        Accepted for a uniform interface; SAVEE needs a registration and has no public
        download, so a missing corpus raises FileNotFoundError in any case.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``filenames``, ``target``, ``target_names``, ``speaker``, ``gender`` (all
        ``"male"``), ``sentence`` (int), ``corpus`` (``"savee"``), ``DESCR``.
    (filenames, target) : tuple of ndarray
        If ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        If the corpus is not found or has no matching files.
    ValueError
        If ``emotions`` names an emotion SAVEE does not have.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np, soundfile as sf
    >>> from sklearn_ser.datasets import load_savee
    >>> home = pathlib.Path(tempfile.mkdtemp())
    >>> for speaker, name in [("DC", "a01"), ("KL", "su15")]:
    ...     (home / "savee" / "AudioData" / speaker).mkdir(parents=True)
    ...     sf.write(home / "savee" / "AudioData" / speaker / f"{name}.wav", np.zeros(800), 8000)
    >>> data = load_savee(home)
    >>> data.target.tolist(), data.speaker.tolist()
    (['anger', 'surprise'], ['DC', 'KL'])
    """
    return _load(
        _INFO,
        data_home,
        looks_like=lambda p: (p / "AudioData").is_dir(),
        collect=_collect,
        emotions=emotions,
        valid_emotions=sorted(_EMOTIONS.values()),
        return_X_y=return_X_y,
        download=download,
        descr=DESCR,
    )
