"""Time in OpenLFR is UTC and timezone-aware, everywhere: ``utcnow()`` for now, ``as_utc()`` for a datetime
from outside (an ISO text without a zone, a value read by a driver that drops the zone). Stored times come
back aware by themselves (``openlfr.store.models.UTCDateTime``)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC: a naive one is taken to be UTC already (every time OpenLFR writes is)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
