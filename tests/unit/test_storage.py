"""contest.storage: atomic writes, key validation, content-addressed keys, streamed uploads."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from contest.errors import FileTooLarge
from contest.imaging import IntakeRules, check_image
from contest.storage import (TMP_PREFIX, LocalStorage, derivative_key, get_storage,
                             original_key, receive_upload)

SHA = hashlib.sha256(b"poster").hexdigest()


def all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "uploads")


def test_put_bytes_and_read_back(storage):
    key = original_key(SHA, "JPEG")
    storage.put_bytes(key, b"\xff\xd8data")
    assert storage.exists(key)
    with storage.open(key) as fh:
        assert fh.read() == b"\xff\xd8data"
    assert all_files(storage.root) == [key]  # no temporary file left behind
    assert oct(storage.path(key).stat().st_mode & 0o777) == "0o644"


def test_put_file_replaces_atomically(storage, tmp_path):
    key = derivative_key("preview")
    storage.put_bytes(key, b"old")
    src = tmp_path / "new.jpg"
    src.write_bytes(b"new" * 100_000)
    storage.put_file(key, src)
    assert storage.path(key).read_bytes() == b"new" * 100_000
    assert all_files(storage.root) == [key]
    assert src.exists()  # the source is copied, not moved


def test_failed_write_leaves_nothing(storage, monkeypatch):
    """A crash between writing and renaming leaves neither the key nor a temp file."""
    key = original_key(SHA, "PNG")
    storage.put_bytes(key, b"first")

    def broken_replace(src, dst):  # noqa: ANN001
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        storage.put_bytes(key, b"second")
    monkeypatch.undo()
    assert storage.path(key).read_bytes() == b"first"  # the old version is intact
    assert not any(p.name.startswith(TMP_PREFIX) for p in storage.root.rglob("*"))


def test_fsyncs_file_and_folders(storage, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    storage.put_bytes("originals/ab/cd/x.jpg", b"x")
    # the temp file, then each new folder's parent (3 new folders), then the final folder
    assert len(synced) >= 5


@pytest.mark.parametrize("key", [
    "../escape.jpg", "originals/../../escape.jpg", "/etc/passwd", "originals//x.jpg",
    "originals\\x.jpg", "", ".", "./x.jpg", "originals/.", "海报.jpg", "originals/海报 作品.jpg",
    "x.jpg/", "..", "a/..", " x.jpg", "x.jpg\n", ".tmp-x",
])
def test_bad_keys_refused(storage, key):
    with pytest.raises(ValueError):
        storage.path(key)
    with pytest.raises(ValueError):
        storage.put_bytes(key, b"x")
    assert not (storage.root.parent / "escape.jpg").exists()


def test_symlink_out_of_root_refused(storage, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    storage.root.mkdir(parents=True)
    (storage.root / "link").symlink_to(outside)
    with pytest.raises(ValueError):
        storage.put_bytes("link/x.jpg", b"x")
    assert list(outside.iterdir()) == []


def test_delete_is_idempotent(storage):
    key = derivative_key("thumb")
    storage.put_bytes(key, b"x")
    storage.delete(key)
    assert not storage.exists(key)
    storage.delete(key)  # missing is fine
    with pytest.raises(FileNotFoundError):
        storage.open(key)


def test_original_key_is_content_addressed():
    assert original_key(SHA, "JPEG") == f"originals/{SHA[:2]}/{SHA[2:4]}/{SHA}.jpg"
    assert original_key(SHA.upper(), "PNG").endswith(f"{SHA}.png")
    for bad_sha, fmt in [("abc", "JPEG"), ("g" * 64, "JPEG"), (SHA, "WEBP"), (SHA, "海报")]:
        with pytest.raises(ValueError):
            original_key(bad_sha, fmt)


def test_derivative_keys_are_fresh_and_ascii():
    keys = {derivative_key("preview") for _ in range(50)}
    assert len(keys) == 50
    assert all(k.startswith("derived/") and k.endswith("/preview.jpg") and k.isascii()
               for k in keys)
    for bad in ("../x", "预览", "", "a/b", "x" * 40):
        with pytest.raises(ValueError):
            derivative_key(bad)


def test_receive_upload_streams_and_hashes(tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 17)
    path, size, digest = receive_upload(io.BytesIO(data), tmp_path / "tmp", max_bytes=10 << 20)
    assert (size, digest) == (len(data), hashlib.sha256(data).hexdigest())
    assert path.read_bytes() == data and path.parent == tmp_path / "tmp"


def test_receive_upload_refuses_too_large_and_cleans_up(tmp_path):
    data = b"\0" * (10 * 1024 * 1024 + 1)
    with pytest.raises(FileTooLarge) as info:
        receive_upload(io.BytesIO(data), tmp_path, max_bytes=10 * 1024 * 1024)
    assert info.value.reason == "size_large"
    assert info.value.params == {"max": 10 * 1024 * 1024, "actual": len(data)}
    assert list(tmp_path.iterdir()) == []


def test_chinese_file_name_never_reaches_a_key(tmp_path, shared_dir):
    """PITFALLS.md #1: the upload named '海报 作品（终稿）.JPG' is stored under its content
    hash and detected format; the name is display data only."""
    named = shared_dir / "corpus" / "generated" / "海报 作品（终稿）.JPG"
    with named.open("rb") as fh:
        tmp, size, digest = receive_upload(fh, tmp_path / "tmp")
    info = check_image(tmp, IntakeRules.content_only(100_000_000))
    key = original_key(info.sha256, info.format)
    assert info.sha256 == digest and key.isascii() and "海报" not in key
    storage = LocalStorage(tmp_path / "uploads")
    storage.put_file(key, tmp)
    tmp.unlink()
    assert all_files(storage.root) == [key]
    assert all(name.isascii() for name in all_files(storage.root))


def test_get_storage_uses_upload_dir(app):
    storage = get_storage(app)
    assert storage.root == Path(app.config["UPLOAD_DIR"]).resolve()
    assert get_storage(app) is storage
    with app.app_context():
        assert get_storage() is storage
