"""SQLAlchemy model of the registered cameras (what ``lfr serve`` can run recognition on).

``source`` is what ``openlfr.sources.factory.open_source`` opens: a stream URL, a webcam index or a file. A
stream URL may hold credentials: the API only ever shows it redacted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openlfr.store.models import Base, UTCDateTime, new_id
from openlfr.utc import utcnow
from openlfr.zone import Zone


class CameraRecord(Base):
    __tablename__ = "camera"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # Also the alert's ``source``: short, unique and never renamed.
    name: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(String(200), default="")
    loop: Mapped[bool] = mapped_column(Boolean, default=False)
    # [[x, y], ...] in normalised image coordinates (openlfr.zone); None: the whole view.
    zone: Mapped[list[list[float]] | None] = mapped_column(JSON, default=None)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def camera_zone(record: CameraRecord) -> Zone | None:
    """The camera's stored zone as a checked ``Zone`` (None: recognition uses the whole view)."""
    return Zone.parse(record.zone) if record.zone else None
