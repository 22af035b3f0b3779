"""Storage errors with stable codes (printed by the CLI, mapped by the API)."""

from __future__ import annotations

from openlfr.errors import OpenLFRError


class StorageError(OpenLFRError):
    """The database or media directory cannot be used (unreachable server, bad URL, unreadable file)."""

    code = "storage_unavailable"


class MediaKeyError(OpenLFRError):
    """The media encryption key is malformed, missing for encrypted media, or not the one used to write it."""

    code = "media_key_invalid"


class NotFoundError(OpenLFRError):
    code = "not_found"


class ConflictError(OpenLFRError):
    """The request contradicts what is stored (a name that already exists, …)."""

    code = "conflict"
