from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pydantic import SecretStr

from openlfr.store.errors import MediaKeyError, StorageError
from openlfr.store.media import MediaStore, generate_key

JPEG_LIKE = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40 + b"\xff\xd9"


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_content_addressed_and_idempotent(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    first = store.put(JPEG_LIKE)
    second = store.put(JPEG_LIKE)
    assert first == second
    assert first.digest == hashlib.sha256(JPEG_LIKE).hexdigest()
    assert _files(tmp_path) == [tmp_path / first.digest[:2] / first.digest]
    assert store.get(first.digest, encrypted=False) == JPEG_LIKE


def test_delete_removes_the_file_and_its_empty_folder(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    stored = store.put(JPEG_LIKE)
    assert store.delete(stored.digest)
    assert not store.delete(stored.digest)
    assert list(tmp_path.iterdir()) == []


def test_encrypted_at_rest(tmp_path: Path) -> None:
    store = MediaStore(tmp_path, SecretStr(generate_key()))
    stored = store.put(JPEG_LIKE)
    assert stored.encrypted
    (path,) = _files(tmp_path)
    on_disk = path.read_bytes()
    assert JPEG_LIKE not in on_disk
    assert JPEG_LIKE[:64] not in on_disk  # not even the header survives in the clear
    assert store.get(stored.digest, encrypted=True) == JPEG_LIKE


def test_encrypted_media_needs_the_right_key(tmp_path: Path) -> None:
    stored = MediaStore(tmp_path, SecretStr(generate_key())).put(JPEG_LIKE)
    with pytest.raises(MediaKeyError, match="set LFR_MEDIA_KEY"):
        MediaStore(tmp_path).get(stored.digest, encrypted=True)
    with pytest.raises(MediaKeyError, match="wrong key"):
        MediaStore(tmp_path, SecretStr(generate_key())).get(stored.digest, encrypted=True)


def test_malformed_key_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MediaKeyError, match="32 url-safe base64"):
        MediaStore(tmp_path, SecretStr("too-short"))


def test_tampered_file_is_detected(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    stored = store.put(JPEG_LIKE)
    store.path_for(stored.digest).write_bytes(b"something else")
    with pytest.raises(StorageError, match="digest mismatch"):
        store.get(stored.digest, encrypted=False)


def test_only_sha256_addresses_are_accepted(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sha256"):
        MediaStore(tmp_path).path_for("../../etc/passwd")
