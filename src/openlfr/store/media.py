"""Content-addressed media store for reference images, encrypted at rest when a key is configured.

A file lives at ``<root>/<aa>/<sha256>`` where the sha256 is that of the *original* bytes, so the same
image is stored once and its address is also the "same image twice" check. With a key, the file holds
a Fernet token (AES-128-CBC + HMAC-SHA256, random IV): the plain image bytes never touch the disk.
Writes go through a temporary file and an atomic rename, so an interrupted import leaves either the
whole file or none. Alert images live here too, so one file can belong to an alert and a reference image at
once: files are deleted only through ``openlfr.store.media_refs``, which checks that nothing points at them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from openlfr.store.errors import MediaKeyError, StorageError

_HEX = frozenset("0123456789abcdef")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def generate_key() -> str:
    """A new random media key, in the form ``LFR_MEDIA_KEY`` expects."""
    return Fernet.generate_key().decode("ascii")


def fernet_from(key: SecretStr | None) -> Fernet | None:
    if key is None:
        return None
    try:
        return Fernet(key.get_secret_value().encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise MediaKeyError(
            "the media key must be 32 url-safe base64-encoded bytes (generate one with `lfr watchlist keygen`)"
        ) from exc


@dataclass(frozen=True, slots=True)
class StoredMedia:
    digest: str
    size_bytes: int
    encrypted: bool


class MediaStore:
    def __init__(self, root: Path, key: SecretStr | None = None) -> None:
        self.root = root
        self._fernet = fernet_from(key)

    @property
    def encrypts(self) -> bool:
        return self._fernet is not None

    def path_for(self, digest: str) -> Path:
        if len(digest) != 64 or not set(digest) <= _HEX:
            raise ValueError(f"not a sha256 hex digest: {digest!r}")
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> StoredMedia:
        """Store ``data`` (idempotent: the same bytes are written once)."""
        digest = sha256_hex(data)
        path = self.path_for(digest)
        try:
            # Stored already: refresh its time, so a deletion decided before now (see media_refs) spares it.
            os.utime(path)
        except FileNotFoundError:
            payload = self._fernet.encrypt(data) if self._fernet else data
            self._write_atomic(path, payload)
        except OSError as exc:
            raise StorageError(f"cannot write to the media directory {self.root}: {exc.strerror}") from exc
        return StoredMedia(digest, len(data), self.encrypts)

    def get(self, digest: str, *, encrypted: bool) -> bytes:
        """The original bytes of ``digest``; ``encrypted`` is what the database recorded when it was stored."""
        try:
            payload = self.path_for(digest).read_bytes()
        except OSError as exc:
            raise StorageError(f"media file for {digest[:12]}… is missing or unreadable: {exc.strerror}") from exc
        if not encrypted:
            data = payload
        elif self._fernet is None:
            raise MediaKeyError("this image is encrypted at rest: set LFR_MEDIA_KEY to read it")
        else:
            try:
                data = self._fernet.decrypt(payload)
            except InvalidToken as exc:
                raise MediaKeyError("the media key does not decrypt this image (wrong key?)") from exc
        if sha256_hex(data) != digest:
            raise StorageError(f"media file for {digest[:12]}… is corrupt (digest mismatch)")
        return data

    def delete(self, digest: str) -> bool:
        """Remove the file of ``digest``; False when there was none. Callers go through
        ``openlfr.store.media_refs`` (a file may belong to an alert and a reference image at once)."""
        path = self.path_for(digest)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # only succeeds when empty
        return True

    def _write_atomic(self, path: Path, payload: bytes) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(payload)
                    handle.flush()
                    os.fsync(handle.fileno())
                Path(tmp).replace(path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise StorageError(f"cannot write to the media directory {self.root}: {exc.strerror}") from exc
