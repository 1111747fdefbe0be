"""Shared machinery of the corpus loaders: data home, label vocabulary, bunches, downloads.

Downloads follow scikit-learn's ``_fetch_remote``: the archive is streamed into a ``.part``
file, its SHA-256 is checked, and only then is it renamed to its final name and extracted
(after every member of the archive has been checked to stay inside the target folder).
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import shutil
import stat
import tarfile
import urllib.error
import urllib.request
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils import Bunch

__all__ = [
    "BASIC_EMOTIONS",
    "EMOTIONS",
    "get_data_home",
]

#: Emotions shared by the acted corpora, in alphabetical order.
BASIC_EMOTIONS: tuple[str, ...] = (
    "anger",
    "boredom",
    "calm",
    "disgust",
    "fear",
    "happiness",
    "neutral",
    "sadness",
    "surprise",
)

#: The whole label vocabulary of :mod:`sklearn_ser.datasets`: :data:`BASIC_EMOTIONS` plus the
#: extra IEMOCAP categories (``excitement``, ``frustration``, ``other``), which only
#: :func:`~sklearn_ser.datasets.load_iemocap` returns, and only when asked for.
EMOTIONS: tuple[str, ...] = (*BASIC_EMOTIONS, "excitement", "frustration", "other")

_CHECKSUM_FILE = "sklearn_ser_checksums.json"


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Return the folder where the corpora are looked for (and downloaded to).

    Parameters
    ----------
    data_home : str or PathLike, default=None
        An explicit folder. When None, the environment variable ``SKLEARN_SER_DATA`` is used
        if set, else ``~/sklearn_ser_data``. ``~`` is expanded. The folder is not created.

    Returns
    -------
    data_home : pathlib.Path
        The folder.

    Examples
    --------
    >>> from sklearn_ser.datasets import get_data_home
    >>> str(get_data_home("/tmp/corpora"))
    '/tmp/corpora'
    """
    if data_home is None:
        data_home = os.environ.get("SKLEARN_SER_DATA") or os.path.join("~", "sklearn_ser_data")
    return Path(os.path.expanduser(os.fspath(data_home)))


# --------------------------------------------------------------------------------------------
# Locating a corpus and building the returned bunch
# --------------------------------------------------------------------------------------------


def _find_corpus_dir(
    data_home: str | os.PathLike | None, name: str, looks_like: Callable[[Path], bool]
) -> Path | None:
    """``data_home/name`` if it holds the corpus, else ``data_home`` itself if it does."""
    home = get_data_home(data_home)
    for candidate in (home / name, home):
        if candidate.is_dir() and looks_like(candidate):
            return candidate
    return None


@dataclass(frozen=True)
class _CorpusInfo:
    """What a loader needs to explain a missing corpus and to download it."""

    name: str  # folder name under data_home, also the ``corpus`` field of the bunch
    title: str
    layout: str  # expected layout, relative to data_home
    example: str  # one example file, relative to data_home
    remote: _RemoteArchive | None = None
    how_to_get: str = ""  # where to obtain corpora without a public download


def _missing_corpus_error(
    info: _CorpusInfo, data_home: str | os.PathLike | None, detail: str = ""
) -> FileNotFoundError:
    home = get_data_home(data_home)
    msg = (
        f"{info.title} not found{detail}: looked in {str(home / info.name)!r} and "
        f"{str(home)!r}. Expected layout: {info.layout} (e.g. "
        f"{str(home / info.example)!r}). Pass data_home= (the folder holding "
        f"{info.name!r}, or the corpus folder itself; --data-home on the command line) or "
        "set SKLEARN_SER_DATA."
    )
    if info.remote is not None:
        msg += (
            f" Or pass download=True to fetch it from {info.remote.url} (--download on the "
            "command line)."
        )
    else:
        msg += f" This corpus has no public download; {info.how_to_get}"
    return FileNotFoundError(msg)


def _check_emotions(emotions: Any, valid: Sequence[str], corpus: str) -> list[str] | None:
    """Validate the ``emotions=`` argument of a loader against the labels it can return."""
    if emotions is None:
        return None
    if isinstance(emotions, str):
        emotions = [emotions]
    emotions = list(emotions)
    if not emotions:
        raise ValueError(f"emotions must name at least one emotion, got {emotions!r}.")
    unknown = [e for e in emotions if e not in valid]
    if unknown:
        raise ValueError(
            f"emotions={emotions!r} contains {unknown!r}, which {corpus} does not have; "
            f"valid emotions are {sorted(valid)!r}."
        )
    return emotions


def _make_bunch(
    records: list[dict[str, Any]],
    *,
    corpus: str,
    descr: str,
    emotions: list[str] | None,
    return_X_y: bool,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Sort records by file name, keep ``emotions`` and turn the columns into arrays.

    Every record has ``filename``, ``target``, ``speaker`` and ``gender``; all other keys
    become corpus-specific fields of the bunch.
    """
    if emotions is not None:
        keep = set(emotions)
        records = [r for r in records if r["target"] in keep]
    records = sorted(records, key=lambda r: r["filename"])
    keys = list(records[0]) if records else ["filename", "target", "speaker", "gender"]
    columns: dict[str, np.ndarray] = {}
    for key in keys:
        values = [r[key] for r in records]
        if values and isinstance(values[0], str):
            columns[key] = np.asarray(values, dtype=str)
        else:
            columns[key] = np.asarray(values)
    filenames = columns.pop("filename").astype(str)
    target = columns.pop("target").astype(str)
    if return_X_y:
        return filenames, target
    return Bunch(
        filenames=filenames,
        target=target,
        target_names=np.unique(target),
        corpus=corpus,
        DESCR=descr,
        **columns,
    )


def _load(
    info: _CorpusInfo,
    data_home: str | os.PathLike | None,
    *,
    looks_like: Callable[[Path], bool],
    collect: Callable[[Path], list[dict[str, Any]]],
    emotions: Any,
    valid_emotions: Sequence[str],
    return_X_y: bool,
    download: bool,
    descr: str,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """The common body of every corpus loader."""
    emotions = _check_emotions(emotions, valid_emotions, info.title)
    root = _find_corpus_dir(data_home, info.name, looks_like)
    if root is None and download and info.remote is not None:
        target = get_data_home(data_home) / info.name
        _fetch_and_extract(info.remote, target)
        root = _find_corpus_dir(data_home, info.name, looks_like)
        if root is None:
            raise FileNotFoundError(
                f"Downloaded and extracted {info.remote.url} into {str(target)!r}, but the "
                f"result does not have the expected layout {info.layout}."
            )
    if root is None:
        raise _missing_corpus_error(info, data_home)
    records = collect(root)
    if not records:
        raise _missing_corpus_error(
            info, data_home, detail=f" ({str(root)!r} exists but has no matching audio files)"
        )
    return _make_bunch(
        records, corpus=info.name, descr=descr, emotions=emotions, return_X_y=return_X_y
    )


def _iglob_ci(folder: Path, pattern: str) -> list[Path]:
    """Children of ``folder`` whose name matches the regular expression, ignoring case."""
    if not folder.is_dir():
        return []
    regex = re.compile(pattern, re.IGNORECASE)
    return sorted(p for p in folder.iterdir() if regex.fullmatch(p.name))


# --------------------------------------------------------------------------------------------
# Downloads
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RemoteArchive:
    """A downloadable archive.

    ``sha256`` is None where no checksum has been published or could be checked by the
    developers; such archives are verified trust-on-first-use (see :func:`_fetch_remote`).
    """

    filename: str
    url: str
    sha256: str | None = None


def _sha256(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _recorded_checksums(dirname: Path) -> dict[str, str]:
    path = dirname / _CHECKSUM_FILE
    if not path.is_file():
        return {}
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


def _record_checksum(dirname: Path, url: str, sha256: str) -> None:
    checksums = _recorded_checksums(dirname)
    checksums[url] = sha256
    tmp = dirname / (_CHECKSUM_FILE + ".part")
    tmp.write_text(json.dumps(checksums, indent=1, sort_keys=True))
    os.replace(tmp, dirname / _CHECKSUM_FILE)


def _fetch_remote(
    remote: _RemoteArchive,
    dirname: str | os.PathLike,
    *,
    sha256: str | None = None,
    timeout: float = 60.0,
    chunk_size: int = 1 << 16,
) -> Path:
    """Download ``remote`` into ``dirname`` and verify its SHA-256 before returning it.

    The data is streamed into ``<filename>.part`` and renamed to ``<filename>`` only once it
    is complete (as many bytes as the server announced) and its checksum verified, so an
    interrupted or corrupt download is never mistaken for a complete one. An archive already
    present under its final name is verified the same way and reused.

    The expected checksum is, in order: ``sha256`` (passed by the caller), ``remote.sha256``
    (published), or the one recorded in ``dirname/sklearn_ser_checksums.json`` when this URL
    was first downloaded. When there is none, the archive is accepted, a warning says that it
    could not be verified, and its checksum is recorded so that later downloads are
    verified against it (trust on first use).

    Returns
    -------
    path : pathlib.Path
        The verified archive.
    """
    dirname = Path(dirname)
    dirname.mkdir(parents=True, exist_ok=True)
    final = dirname / remote.filename
    part = dirname / (remote.filename + ".part")
    expected = sha256 or remote.sha256 or _recorded_checksums(dirname).get(remote.url)
    expected = expected.lower() if expected else None

    if final.is_file():
        actual = _sha256(final)
        if expected is None or actual == expected:
            if expected is None:
                _warn_unverified(remote, actual, dirname)
                _record_checksum(dirname, remote.url, actual)
            return final
        final.unlink()  # a stale or tampered copy: fetch it again

    digest = hashlib.sha256()
    n_bytes = 0
    try:
        with urllib.request.urlopen(remote.url, timeout=timeout) as response:
            announced = response.headers.get("Content-Length") if response.headers else None
            with open(part, "wb") as f:
                while chunk := response.read(chunk_size):
                    f.write(chunk)
                    digest.update(chunk)
                    n_bytes += len(chunk)
        if announced is not None and n_bytes != int(announced):
            raise OSError(f"the connection ended after {n_bytes} of {announced} bytes")
    except (OSError, urllib.error.URLError, ValueError) as exc:
        part.unlink(missing_ok=True)
        raise OSError(
            f"Could not download {remote.url} to {str(final)!r}: {exc}. Download it by hand "
            f"and put it there (or extract it in {str(dirname)!r}), or retry."
        ) from exc

    actual = digest.hexdigest()
    if expected is not None and actual != expected:
        part.unlink(missing_ok=True)
        raise OSError(
            f"Checksum mismatch for {remote.url}: expected SHA-256 {expected}, got {actual}. "
            "The download was deleted; it may be corrupt or the file may have changed on the "
            "server."
        )
    os.replace(part, final)
    if expected is None:
        _warn_unverified(remote, actual, dirname)
        _record_checksum(dirname, remote.url, actual)
    return final


def _warn_unverified(remote: _RemoteArchive, actual: str, dirname: Path) -> None:
    warnings.warn(
        f"{remote.url} has no published SHA-256 checksum, so the download could not be "
        f"verified against one; its SHA-256 is {actual}. It was recorded in "
        f"{str(dirname / _CHECKSUM_FILE)!r} and later downloads are checked against it.",
        UserWarning,
        stacklevel=3,
    )


def _inside(root: str, path: str) -> bool:
    root = os.path.realpath(root)
    return os.path.commonpath([root, os.path.realpath(path)]) == root


def _check_member_name(name: str, archive: str) -> None:
    normalized = name.replace("\\", "/")
    if (
        normalized.startswith("/")
        or re.match(r"^[A-Za-z]:", normalized)
        or ".." in normalized.split("/")
    ):
        raise ValueError(
            f"Refusing to extract {archive!r}: member {name!r} has an absolute path or a "
            "'..' component and would be written outside the target folder."
        )


def _safe_extract(archive: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Extract a zip or tar archive into ``target``, refusing members that escape it.

    All members are checked before anything is written: absolute paths, ``..`` components,
    symbolic or hard links whose target lies outside ``target``, and device files or FIFOs
    raise a ValueError naming the member.
    """
    archive, target = os.fspath(archive), Path(target)
    target.mkdir(parents=True, exist_ok=True)
    root = os.fspath(target)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                _check_member_name(info.filename, archive)
                if not _inside(root, os.path.join(root, info.filename)):
                    raise ValueError(
                        f"Refusing to extract {archive!r}: member {info.filename!r} would be "
                        "written outside the target folder."
                    )
                if stat.S_ISLNK(info.external_attr >> 16):
                    # zipfile writes links as plain files holding the link text; still refuse
                    # escaping ones, as other tools would create real links from them.
                    link = zf.read(info).decode("utf-8", "replace")
                    dest = posixpath.join(posixpath.dirname(info.filename), link)
                    if link.startswith("/") or not _inside(root, os.path.join(root, dest)):
                        raise ValueError(
                            f"Refusing to extract {archive!r}: symbolic link {info.filename!r}"
                            f" points outside the target folder ({link!r})."
                        )
            zf.extractall(root)
        return target
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
            for m in members:
                _check_member_name(m.name, archive)
                if not _inside(root, os.path.join(root, m.name)):
                    raise ValueError(
                        f"Refusing to extract {archive!r}: member {m.name!r} would be written "
                        "outside the target folder."
                    )
                if m.issym() or m.islnk():
                    base = posixpath.dirname(m.name) if m.issym() else ""
                    dest = posixpath.join(base, m.linkname)
                    if m.linkname.startswith("/") or not _inside(root, os.path.join(root, dest)):
                        kind = "symbolic" if m.issym() else "hard"
                        raise ValueError(
                            f"Refusing to extract {archive!r}: {kind} link {m.name!r} points "
                            f"outside the target folder ({m.linkname!r})."
                        )
                elif not (m.isfile() or m.isdir()):
                    raise ValueError(
                        f"Refusing to extract {archive!r}: member {m.name!r} is a device file "
                        "or FIFO."
                    )
            if hasattr(tarfile, "data_filter"):  # a second line of defence where available
                tf.extractall(root, members=members, filter="data")
            else:  # pragma: no cover - Python without extraction filters
                tf.extractall(root, members=members)
        return target
    raise ValueError(f"{archive!r} is neither a zip nor a tar archive.")


def _fetch_and_extract(
    remote: _RemoteArchive, target: str | os.PathLike, *, sha256: str | None = None
) -> Path:
    """Download (verified) and extract ``remote`` into ``target``; remove the archive after.

    Extraction goes to a temporary sibling folder that is renamed to ``target`` only when
    complete, so a failed extraction does not leave a half-filled corpus behind.
    """
    target = Path(target)
    path = _fetch_remote(remote, target.parent, sha256=sha256)
    tmp = target.parent / (target.name + ".extracting")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        _safe_extract(path, tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if target.exists():
        # merge into an existing folder (e.g. one holding only some other files)
        for child in tmp.iterdir():
            dest = target / child.name
            if not dest.exists():
                os.replace(child, dest)
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        os.replace(tmp, target)
    path.unlink(missing_ok=True)
    return target
