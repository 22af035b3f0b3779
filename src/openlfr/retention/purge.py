"""Retention of alerts: purge after ``governance.alert_retention_days`` unless on hold; holds by supervisors.

An alert is due when its decision time is older than the retention period and it is not on hold. Purging
deletes the alert rows and their media files (probe and context crops; a file another remaining alert still
uses is kept), then records the counts — never the content — in the audit chain. The reference image an
alert points at belongs to the watchlist and is not touched.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from openlfr.audit import append_audit
from openlfr.audit.chain import iso_utc
from openlfr.auth.permissions import Permission
from openlfr.auth.principal import Principal
from openlfr.errors import OpenLFRError
from openlfr.store.alert_models import AlertRecord
from openlfr.store.context import Store
from openlfr.store.errors import NotFoundError
from openlfr.store.models import utcnow

log = logging.getLogger(__name__)

SCHEDULER = Principal.system("retention")
BATCH = 500


class HoldError(OpenLFRError):
    code = "hold_invalid"


@dataclass(frozen=True, slots=True)
class PurgeResult:
    cutoff: datetime
    alerts: int
    media_files: int
    held: int
    """alerts past the cutoff kept because they are on hold"""

    def as_dict(self) -> dict[str, object]:
        return {
            "cutoff": iso_utc(self.cutoff),
            "alerts": self.alerts,
            "media_files": self.media_files,
            "held": self.held,
        }


def cutoff_for(now: datetime, retention_days: int) -> datetime:
    return now - timedelta(days=retention_days)


def due_count(session: Session, cutoff: datetime) -> tuple[int, int]:
    """(alerts due for purging, alerts past the cutoff kept on hold)."""
    past = select(func.count()).select_from(AlertRecord).where(AlertRecord.decided_at < cutoff)
    due = session.scalar(past.where(AlertRecord.hold.is_(False))) or 0
    held = session.scalar(past.where(AlertRecord.hold.is_(True))) or 0
    return int(due), int(held)


def purge_alerts(
    store: Store, *, now: datetime, retention_days: int, by: Principal, record_empty: bool = True
) -> PurgeResult:
    """Delete every alert past the retention period that is not on hold, with its media; audit the counts."""
    by.require(Permission.RETENTION_MANAGE)
    cutoff = cutoff_for(now, retention_days)
    alerts = 0
    media: set[str] = set()
    while True:
        with store.db.session() as session:
            rows = session.execute(
                select(AlertRecord.id, AlertRecord.probe_media, AlertRecord.context_media)
                .where(AlertRecord.decided_at < cutoff, AlertRecord.hold.is_(False))
                .limit(BATCH)
            ).all()
            if not rows:
                break
            ids = [r.id for r in rows]
            session.execute(delete(AlertRecord).where(AlertRecord.id.in_(ids)))
            alerts += len(ids)
            media.update(d for r in rows for d in (r.probe_media, r.context_media) if d)
    removed_files = 0
    if media:
        with store.db.session() as session:
            still_used = set(
                session.scalars(select(AlertRecord.probe_media).where(AlertRecord.probe_media.in_(media)))
            ) | set(session.scalars(select(AlertRecord.context_media).where(AlertRecord.context_media.in_(media))))
        removed_files = sum(store.media.delete(digest) for digest in sorted(media - still_used))
    with store.db.session() as session:
        _, held = due_count(session, cutoff)
        result = PurgeResult(cutoff, alerts, removed_files, held)
        if alerts or record_empty:
            append_audit(
                session,
                actor=by.actor,
                action="retention.purge",
                target_type="alert",
                target_id=None,
                details={**result.as_dict(), "retention_days": retention_days},
            )
    if alerts:
        log.info("retention: purged %d alerts and %d media files (cutoff %s)", alerts, removed_files, cutoff)
    return result


def _alert(session: Session, alert_id: str) -> AlertRecord:
    record = session.get(AlertRecord, alert_id)
    if record is None:
        raise NotFoundError(f"no alert {alert_id!r}")
    return record


def place_hold(session: Session, alert_id: str, *, by: Principal, reason: str, now: datetime) -> AlertRecord:
    """Keep an alert past the retention period (investigation, court); ``hold_by`` is ``by``."""
    by.require(Permission.RETENTION_MANAGE)
    if not reason.strip():
        raise HoldError("a hold needs a reason (e.g. the investigation or case reference)")
    record = _alert(session, alert_id)
    if record.hold:
        raise HoldError(f"alert {alert_id} is on hold already (by {record.hold_by})")
    record.hold, record.hold_reason, record.hold_by, record.hold_at = True, reason.strip(), by.label, now
    append_audit(
        session,
        actor=by.actor,
        action="alert.hold",
        target_type="alert",
        target_id=alert_id,
        details={"supervisor": by.label, "reason": reason.strip()},
    )
    return record


def lift_hold(session: Session, alert_id: str, *, by: Principal, reason: str) -> AlertRecord:
    """Release a hold: the alert is purged on the next run if it is past the retention period."""
    by.require(Permission.RETENTION_MANAGE)
    record = _alert(session, alert_id)
    if not record.hold:
        raise HoldError(f"alert {alert_id} is not on hold")
    previous = record.hold_reason
    record.hold, record.hold_reason, record.hold_by, record.hold_at = False, None, None, None
    append_audit(
        session,
        actor=by.actor,
        action="alert.hold_lifted",
        target_type="alert",
        target_id=alert_id,
        details={"supervisor": by.label, "reason": reason.strip(), "held_for": previous},
    )
    return record


def held_alerts(session: Session) -> list[AlertRecord]:
    return list(session.scalars(select(AlertRecord).where(AlertRecord.hold.is_(True)).order_by(AlertRecord.hold_at)))


def alerts_of_subjects(session: Session, subject_ids: list[str]) -> list[AlertRecord]:
    if not subject_ids:
        return []
    return list(session.scalars(select(AlertRecord).where(AlertRecord.subject_id.in_(subject_ids))))


@dataclass
class RetentionScheduler:
    """Runs the purge every ``interval_s`` inside ``lfr serve`` (a Lifecycle step)."""

    store: Store
    retention_days: int
    interval_s: float
    clock: Callable[[], datetime] = utcnow
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def run_once(self) -> PurgeResult:
        return purge_alerts(
            self.store,
            now=self.clock(),
            retention_days=self.retention_days,
            by=SCHEDULER,
            record_empty=False,
        )

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="retention", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            try:
                self.run_once()
            except Exception:  # a failed purge is retried on the next interval
                log.exception("retention purge failed")
            if self._stop.wait(self.interval_s):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
