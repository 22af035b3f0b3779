"""The store as the rest of the code sees it: the database and the media directory, opened together."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from openlfr.config.models import Settings
from openlfr.store.db import Database, open_database
from openlfr.store.media import MediaStore

MEDIA_DIR = "media"


@dataclass(frozen=True, slots=True)
class Store:
    db: Database
    media: MediaStore


@contextmanager
def open_store(settings: Settings) -> Iterator[Store]:
    """Open (and migrate) the configured database and media store; close the database afterwards."""
    # The key is checked before the database is touched, so a bad key fails fast and changes nothing.
    media = MediaStore(settings.data_dir / MEDIA_DIR, settings.media_key)
    db = open_database(settings)
    try:
        yield Store(db, media)
    finally:
        db.close()
