"""SQLAlchemy model of the durable list of media files waiting to be deleted.

A row is written in the same transaction that removes the last row pointing at a file (an alert purged or
erased, a subject erased), so the database never forgets a file it meant to delete: if deleting the file
then fails (or the process dies first), the next retention run retries it. Only the content address is
kept, never anything of the image.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openlfr.store.models import Base, UTCDateTime
from openlfr.utc import utcnow


class PendingMediaDeletion(Base):
    __tablename__ = "media_deletion"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Wall-clock time the deletion was decided: a file written (again) after it is someone's new image.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The action that released it, e.g. ``retention.purge`` or ``subject.erase``.
    reason: Mapped[str] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
