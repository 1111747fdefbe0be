"""Tests of the download and safe-extraction machinery of sklearn_ser.datasets."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import io
import json
import socket
import tarfile
import threading
import typing
import urllib.request
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sklearn_ser.datasets import _base, _emodb, load_emodb
from sklearn_ser.datasets._base import (
    _fetch_and_extract,
    _fetch_remote,
    _RemoteArchive,
    _safe_extract,
)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture
def source(tmp_path):
    """A local archive served by a file:// URL."""
    payload = _zip_bytes({"corpus/a.txt": b"hello", "corpus/sub/b.txt": b"world"})
    path = tmp_path / "server" / "archive.zip"
    path.parent.mkdir()
    path.write_bytes(payload)
    return path, payload, _RemoteArchive("archive.zip", path.as_uri())


# ---------------------------------------------------------------------------- checksums


def test_correct_checksum(source, tmp_path):
    _, payload, remote = source
    out = _fetch_remote(remote, tmp_path / "home", sha256=_sha(payload).upper())
    assert out == tmp_path / "home" / "archive.zip"
    assert out.read_bytes() == payload
    assert not (tmp_path / "home" / "archive.zip.part").exists()


def test_published_checksum_in_remote(source, tmp_path):
    _, payload, remote = source
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # verified: no warning
        out = _fetch_remote(dataclasses.replace(remote, sha256=_sha(payload)), tmp_path)
    assert out.read_bytes() == payload


def test_wrong_checksum_keeps_nothing(source, tmp_path):
    _, payload, remote = source
    with pytest.raises(OSError, match="Checksum mismatch") as info:
        _fetch_remote(remote, tmp_path / "home", sha256="0" * 64)
    assert _sha(payload) in str(info.value)
    assert list((tmp_path / "home").iterdir()) == []


def test_trust_on_first_use(source, tmp_path):
    path, payload, remote = source
    home = tmp_path / "home"
    with pytest.warns(UserWarning, match="could not be verified"):
        out = _fetch_remote(remote, home)
    recorded = json.loads((home / "sklearn_ser_checksums.json").read_text())
    assert recorded == {remote.url: _sha(payload)}
    # the archive changes on the server: the next download is checked against the record
    out.unlink()
    path.write_bytes(_zip_bytes({"corpus/a.txt": b"tampered"}))
    with pytest.raises(OSError, match="Checksum mismatch"):
        _fetch_remote(remote, home)
    assert not out.exists() and not (home / "archive.zip.part").exists()


def test_existing_archive_verified_before_reuse(source, tmp_path):
    path, payload, remote = source
    home = tmp_path / "home"
    _fetch_remote(remote, home, sha256=_sha(payload))
    path.unlink()  # "offline": a verified local copy is reused without the network
    assert _fetch_remote(remote, home, sha256=_sha(payload)).read_bytes() == payload
    # a corrupt local copy is not used: it is deleted and fetched again (here: fails)
    (home / "archive.zip").write_bytes(b"corrupt")
    with pytest.raises(OSError, match="Could not download"):
        _fetch_remote(remote, home, sha256=_sha(payload))
    assert not (home / "archive.zip").exists()


def test_stale_part_file_is_never_used(source, tmp_path):
    path, payload, remote = source
    home = tmp_path / "home"
    home.mkdir()
    (home / "archive.zip.part").write_bytes(payload)  # left by an earlier interrupted run
    path.unlink()
    with pytest.raises(OSError, match="Could not download"):
        _fetch_remote(remote, home, sha256=_sha(payload))
    assert not (home / "archive.zip").exists()
    assert not (home / "archive.zip.part").exists()


# ---------------------------------------------------------------------------- interrupted


class _Handler(http.server.BaseHTTPRequestHandler):
    payload = b"x" * 5000

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.payload)))
        self.end_headers()
        if self.path == "/truncated":
            self.wfile.write(self.payload[:1000])  # then the connection closes
        else:
            self.wfile.write(self.payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_http_download(server, tmp_path):
    remote = _RemoteArchive("data.bin", f"{server}/complete")
    out = _fetch_remote(remote, tmp_path, sha256=_sha(_Handler.payload))
    assert out.read_bytes() == _Handler.payload


def test_interrupted_http_download_is_not_kept(server, tmp_path):
    remote = _RemoteArchive("data.bin", f"{server}/truncated")
    with pytest.raises(OSError, match="1000 of 5000 bytes"):
        _fetch_remote(remote, tmp_path)  # even without a checksum to compare with
    assert list(tmp_path.iterdir()) == []


def test_connection_reset_midway(monkeypatch, tmp_path):
    class Response(io.BytesIO):
        headers: typing.ClassVar[dict] = {}

        def read(self, n=-1):
            if self.tell() >= 100:
                raise ConnectionResetError("connection reset by peer")
            return super().read(min(n, 50))

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: Response(b"y" * 1000))
    with pytest.raises(OSError, match="connection reset"):
        _fetch_remote(_RemoteArchive("data.bin", "http://example.invalid/data.bin"), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_offline_error_says_what_to_put_where(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    remote = _RemoteArchive("data.zip", f"http://127.0.0.1:{port}/data.zip")
    with pytest.raises(OSError, match=r"Could not download .*put it there") as info:
        _fetch_remote(remote, tmp_path, timeout=5)
    assert str(tmp_path / "data.zip") in str(info.value)


# ---------------------------------------------------------------------------- extraction


def test_safe_extract_zip_and_tar(tmp_path):
    archive = tmp_path / "ok.zip"
    archive.write_bytes(_zip_bytes({"a/b.txt": b"b", "c.txt": b"c"}))
    out = _safe_extract(archive, tmp_path / "zip")
    assert (out / "a" / "b.txt").read_bytes() == b"b"
    tar = tmp_path / "ok.tar.gz"
    with tarfile.open(tar, "w:gz") as tf:
        _add(tf, "d/e.txt", b"e")
        _add_link(tf, "d/link", "e.txt", tarfile.SYMTYPE)  # stays inside: allowed
    out = _safe_extract(tar, tmp_path / "tar")
    assert (out / "d" / "e.txt").read_bytes() == b"e"
    assert (out / "d" / "link").read_bytes() == b"e"


def _add(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tf.addfile(info, io.BytesIO(data))


def _add_link(tf: tarfile.TarFile, name: str, target: str, kind: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    tf.addfile(info)


@pytest.mark.parametrize("bad", ["/tmp/evil.txt", "../evil.txt", "ok/../../evil.txt"])
def test_zip_path_traversal_refused(tmp_path, bad):
    archive = tmp_path / "bad.zip"
    archive.write_bytes(_zip_bytes({"good.txt": b"g", bad: b"evil"}))
    with pytest.raises(ValueError, match=f"member '{bad}'"):
        _safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "out" / "good.txt").exists()  # checked before anything is written
    assert not (tmp_path / "evil.txt").exists()


def test_zip_escaping_symlink_refused(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.external_attr = 0o120777 << 16  # a symbolic link
        zf.writestr(info, "../../etc/passwd")
    archive = tmp_path / "link.zip"
    archive.write_bytes(buffer.getvalue())
    with pytest.raises(ValueError, match="symbolic link 'link'"):
        _safe_extract(archive, tmp_path / "out")


@pytest.mark.parametrize(
    "name, linkname, kind, match",
    [
        ("evil", "../outside.txt", tarfile.SYMTYPE, "symbolic link 'evil'"),
        ("evil", "/etc/passwd", tarfile.SYMTYPE, "symbolic link 'evil'"),
        ("d/evil", "../../outside.txt", tarfile.SYMTYPE, "symbolic link 'd/evil'"),
        ("evil", "../outside.txt", tarfile.LNKTYPE, "hard link 'evil'"),
        ("/abs.txt", None, None, "member '/abs.txt'"),
        ("../up.txt", None, None, "member '../up.txt'"),
        ("fifo", None, tarfile.FIFOTYPE, "FIFO"),
    ],
)
def test_tar_malicious_members_refused(tmp_path, name, linkname, kind, match):
    (tmp_path / "outside.txt").write_text("secret")
    tar = tmp_path / "bad.tar"
    with tarfile.open(tar, "w") as tf:
        _add(tf, "good.txt", b"g")
        if linkname is not None:
            _add_link(tf, name, linkname, kind)
        elif kind is not None:
            info = tarfile.TarInfo(name)
            info.type = kind
            tf.addfile(info)
        else:
            _add(tf, name, b"evil")
    with pytest.raises(ValueError, match=match):
        _safe_extract(tar, tmp_path / "out")
    assert not (tmp_path / "out" / "good.txt").exists()
    assert not (tmp_path / "up.txt").exists()


def test_not_an_archive(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("not an archive")
    with pytest.raises(ValueError, match="neither a zip nor a tar"):
        _safe_extract(path, tmp_path / "out")


def test_fetch_and_extract_failure_leaves_no_corpus(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(_zip_bytes({"../evil.txt": b"x"}))
    with pytest.raises(ValueError, match="evil"):
        _fetch_and_extract(
            _RemoteArchive("bad.zip", bad.as_uri()),
            tmp_path / "home" / "c",
            sha256=_sha(bad.read_bytes()),
        )
    assert not (tmp_path / "home" / "c").exists()
    assert not (tmp_path / "home" / "c.extracting").exists()


# ---------------------------------------------------------------------------- loaders


def _emodb_zip(tmp_path: Path) -> Path:
    members = {}
    for name in ["03a01Wa", "08a02Tb"]:
        buffer = io.BytesIO()
        sf.write(buffer, np.zeros(16, dtype=np.float32), 16000, format="WAV")
        members[f"wav/{name}.wav"] = buffer.getvalue()
    members["lablaut/03a01Wa.lab"] = b"labels"
    path = tmp_path / "server" / "download.zip"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(_zip_bytes(members))
    return path


def test_load_emodb_download(monkeypatch, tmp_path):
    archive = _emodb_zip(tmp_path)
    remote = _RemoteArchive("emodb_download.zip", archive.as_uri())
    monkeypatch.setattr(_emodb, "_INFO", dataclasses.replace(_emodb._INFO, remote=remote))
    home = tmp_path / "home"
    with pytest.raises(FileNotFoundError, match=f"download=True to fetch it from {remote.url}"):
        load_emodb(home)
    with pytest.warns(UserWarning, match="could not be verified"):
        data = load_emodb(home, download=True)
    assert data.target.tolist() == ["anger", "sadness"]
    assert (home / "emodb" / "lablaut" / "03a01Wa.lab").is_file()
    assert not (home / "emodb_download.zip").exists()  # the archive is removed after use
    recorded = json.loads((home / _base._CHECKSUM_FILE).read_text())
    assert recorded[remote.url] == _sha(archive.read_bytes())
    archive.unlink()  # present now: no second download
    assert load_emodb(home, download=True).target.tolist() == ["anger", "sadness"]


def test_load_emodb_download_offline(monkeypatch, tmp_path):
    remote = _RemoteArchive("emodb_download.zip", (tmp_path / "missing.zip").as_uri())
    monkeypatch.setattr(_emodb, "_INFO", dataclasses.replace(_emodb._INFO, remote=remote))
    with pytest.raises(OSError, match="Could not download"):
        load_emodb(tmp_path / "home", download=True)
    assert not (tmp_path / "home" / "emodb").exists()


def test_public_downloads_have_no_invented_checksums():
    from sklearn_ser.datasets import _cremad, _ravdess, _tess

    for module in (_emodb, _ravdess, _tess, _cremad):
        remote = module._INFO.remote
        assert remote is not None and remote.url.startswith(("http://", "https://"))
        assert remote.sha256 is None  # unknown: verified trust-on-first-use
