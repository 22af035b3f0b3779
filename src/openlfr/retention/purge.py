"""Retention of alerts: purge after ``governance.alert_retention_days`` unless on hold; holds by supervisors,
and automatically when an engagement outcome makes the alert evidence (``governance.evidence_outcomes``).

An alert is due when its decision time is older than the retention period and it is not on hold. Purging
is two steps. First, one transaction deletes the due alert rows, puts their image files on the durable
deletion list and writes the ``retention.purge`` audit entry (counts, never content): the rows and their
record go together or not at all. Then the files are deleted through the one media rule
(``openlfr.store.media_refs``: a file another alert or a reference image still points at is kept), and a
``media.delete`` entry records what was deleted, kept, swept and what failed. A file that cannot be deleted
stays on the list and the purge ends with ``MediaDeletionError`` (after auditing); the next run retries it
and sweeps files no row accounts for.
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
from openlfr.deployments.figures import retire_alerts
from openlfr.errors import OpenLFRError
from openlfr.store import media_refs
from openlfr.store.alert_models import AlertRecord
from openlfr.store.context import Store
from openlfr.store.errors import NotFoundError, StorageError
from openlfr.utc import utcnow

log = logging.getLogger(__name__)

SCHEDULER = Principal.system("retention")
BATCH = 500


class HoldError(OpenLFRError):
    code = "hold_invalid"


class MediaDeletionError(StorageError):
    """Some image files could not be deleted: they stay on the deletion list and the next run retries them."""

    code = "media_delete_failed"


@dataclass(frozen=True, slots=True)
class PurgeResult:
    cutoff: datetime
    alerts: int
    media_files: int
    """image files deleted in this run (this purge's, earlier failures retried, orphans swept)"""
    held: int
    """alerts past the cutoff kept because they are on hold"""
    media_failed: int = 0
    """image files that could not be deleted (listed for the next run)"""
    media_pending: int = 0
    """image files still on the deletion list after this run"""

    def as_dict(self) -> dict[str, object]:
        return {
            "cutoff": iso_utc(self.cutoff),
            "alerts": self.alerts,
            "media_files": self.media_files,
            "held": self.held,
            "media_failed": self.media_failed,
            "media_pending": self.media_pending,
        }


def cutoff_for(now: datetime, retention_days: int) -> datetime:
    return now - timedelta(days=retention_days)


def due_count(session: Session, cutoff: datetime) -> tuple[int, int]:
    """(alerts due for purging, alerts past the cutoff kept on hold)."""
    past = select(func.count()).select_from(AlertRecord).where(AlertRecord.decided_at < cutoff)
    due = session.scalar(past.where(AlertRecord.hold.is_(False))) or 0
    held = session.scalar(past.where(AlertRecord.hold.is_(True))) or 0
    return int(due), int(held)


def _delete_due(session: Session, cutoff: datetime) -> tuple[int, int]:
    """Delete the due alert rows and list their files for deletion; (alerts, files listed)."""
    alerts, listed = 0, 0
    while True:
        rows = session.execute(
            select(AlertRecord.id, AlertRecord.probe_media, AlertRecord.context_media)
            .where(AlertRecord.decided_at < cutoff, AlertRecord.hold.is_(False))
            .limit(BATCH)
        ).all()
        if not rows:
            return alerts, listed
        ids = [r.id for r in rows]
        retire_alerts(session, ids)  # the deployment records keep counting them
        session.execute(delete(AlertRecord).where(AlertRecord.id.in_(ids)))
        alerts += len(rows)
        listed += media_refs.release(
            session, (d for r in rows for d in (r.probe_media, r.context_media) if d), reason="retention.purge"
        )


def collect_media(store: Store, *, by: Principal) -> media_refs.CollectResult:
    """Delete listed and orphaned files nothing points at; audit what happened when anything did."""
    result = media_refs.collect(store)
    if result.eventful:
        with store.db.session() as session:
            append_audit(
                session,
                actor=by.actor,
                action="media.delete",
                target_type="media",
                target_id=None,
                details=result.as_dict(),
            )
    return result


def purge_alerts(
    store: Store, *, now: datetime, retention_days: int, by: Principal, record_empty: bool = True
) -> PurgeResult:
    """Delete every alert past the retention period that is not on hold, with its media; audit the counts.

    Raises ``MediaDeletionError`` (after both audit entries are written) when a file could not be deleted."""
    by.require(Permission.RETENTION_MANAGE)
    cutoff = cutoff_for(now, retention_days)
    with store.db.session() as session:
        alerts, listed = _delete_due(session, cutoff)
        _, held = due_count(session, cutoff)
        if alerts or record_empty:
            append_audit(
                session,
                actor=by.actor,
                action="retention.purge",
                target_type="alert",
                target_id=None,
                details={
                    "cutoff": iso_utc(cutoff),
                    "alerts": alerts,
                    "held": held,
                    "media_listed": listed,
                    "retention_days": retention_days,
                },
            )
    media = collect_media(store, by=by)
    result = PurgeResult(cutoff, alerts, media.deleted, held, len(media.failed), media.pending)
    if alerts or media.deleted:
        log.info("retention: purged %d alerts and %d media files (cutoff %s)", alerts, media.deleted, cutoff)
    if media.failed:
        first = media.failed[0].error
        raise MediaDeletionError(
            f"purged {alerts} alerts, but {len(media.failed)} image file(s) could not be deleted ({first}); "
            f"they are on the deletion list ({media.pending} file(s)) and the next `lfr retention run` retries "
            "them (see the media.delete entry in `lfr audit log`)"
        )
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


def hold_as_evidence(session: Session, record: AlertRecord, *, by: Principal, outcome: str, now: datetime) -> None:
    """Put an alert on hold because the engagement outcome ``outcome`` (one of
    ``governance.evidence_outcomes``) makes it evidence; part of recording that outcome, in its transaction.

    No supervisor is needed to *keep* evidence (the officer who records the arrest may do it); lifting the hold
    is still a supervisor's decision (``lift_hold``)."""
    reason = f"evidence: engagement outcome {outcome} (governance.evidence_outcomes)"
    record.hold, record.hold_reason, record.hold_by, record.hold_at = True, reason, by.label, now
    append_audit(
        session,
        actor=by.actor,
        action="alert.hold",
        target_type="alert",
        target_id=record.id,
        details={"placed_by": by.label, "reason": reason, "rule": "governance.evidence_outcomes", "outcome": outcome},
    )


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
            except MediaDeletionError as exc:  # audited; the files are retried on the next interval
                log.warning("retention purge: %s", exc)
            except Exception:  # a failed purge is retried on the next interval
                log.exception("retention purge failed")
            if self._stop.wait(self.interval_s):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
