"""The database-backed ``AlertStore``: alert rows in the ``alert`` table, images in the encrypted media store.

``append`` writes the probe (and context) image through the media store (fsynced, encrypted at rest when a
media key is configured), then inserts the row and commits before it returns: a sink (the console's live
feed) only ever hears of an alert that the database can produce afterwards. ``seq`` is allocated as
``max(seq) + 1`` inside the insert transaction; two writers that pick the same number collide on its
unique constraint and the loser retries with the next one.

Erasure: with ``check_subjects`` (the watchlist is stored in this database), the insert transaction checks
that the alert's subject still exists *after* inserting the row, so the check and the insert are one atomic
step: on SQLite the insert holds the database's write lock, which an erasure also needs; on PostgreSQL the
subject row is locked (``FOR KEY SHARE``) until the alert commits, so a concurrent erasure waits. An alert
about a subject erased before it commits is rolled back, its images are deleted, and ``SubjectGoneError``
is raised — also when the erasure ran in another process (``lfr subject erase`` while ``lfr serve`` runs).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openlfr.alerts.encounters import DEFAULT_GAP_S
from openlfr.alerts.event import AlertEvent
from openlfr.alerts.store import SubjectGoneError
from openlfr.alerts.vocabulary import AlertStatus
from openlfr.store.alert_models import AlertRecord
from openlfr.store.db import Database
from openlfr.store.errors import StorageError
from openlfr.store.media import MediaStore
from openlfr.store.models import Subject
from openlfr.utc import as_utc

log = logging.getLogger(__name__)

_SEQ_ATTEMPTS = 20
# One writer at a time within this process (alerts are rare; the lock costs nothing). Writers in other
# processes are kept apart by the unique constraint and the retry.
_WRITE_LOCK = threading.Lock()


def _from_epoch(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


class DbAlertStore:
    """Implements ``openlfr.alerts.store.AlertStore``. ``close`` leaves the database open: its owner closes it."""

    def __init__(
        self, db: Database, media: MediaStore, *, deployment_id: str | None = None, check_subjects: bool = False
    ) -> None:
        """``check_subjects``: alerts name subjects of this database (a stored watchlist), so an alert about a
        subject that no longer exists is refused (SubjectGoneError)."""
        self.db = db
        self.media = media
        self.deployment_id = deployment_id
        self.check_subjects = check_subjects

    def append(self, event: AlertEvent) -> dict[str, object]:
        if self.check_subjects and not self._subject_exists(event.subject_id):
            raise SubjectGoneError(f"subject {event.subject_id} has been erased: alert {event.alert_id} not stored")
        # Media first: a row never refers to an image that is not on disk.
        probe = self.media.put(event.probe_jpeg)
        context = self.media.put(event.context_jpeg) if event.context_jpeg is not None else None
        try:
            seq = self._insert(event, probe.digest, context.digest if context else None, probe.encrypted)
        except SubjectGoneError:
            self._delete_media(probe.digest, context.digest if context else None)
            raise
        record = event.as_record()
        record.update(
            seq=seq,
            deployment_id=self.deployment_id,
            status=AlertStatus.PENDING.value,
            version=1,
            probe_media=probe.digest,
            context_media=context.digest if context else None,
        )
        return record

    def _insert(self, event: AlertEvent, probe: str, context: str | None, encrypted: bool) -> int:
        with _WRITE_LOCK:
            for attempt in range(_SEQ_ATTEMPTS):
                try:
                    with self.db.session() as session:
                        seq = (session.scalar(select(func.max(AlertRecord.seq))) or 0) + 1
                        row = AlertRecord(
                            id=event.alert_id,
                            seq=seq,
                            encounter_key=self._encounter_key(session, event),
                            deployment_id=self.deployment_id,
                            mode=event.mode,
                            source=event.source,
                            track_id=event.track_id,
                            subject_id=event.subject_id,
                            score=event.score,
                            second_score=event.second_score,
                            threshold=event.threshold,
                            evidence=event.evidence,
                            frame_index=event.frame_index,
                            frame_time_s=event.frame_time_s,
                            frame_wall_time=_from_epoch(event.frame_wall_time),
                            decided_at=_from_epoch(event.decided_at),
                            latency_ms=event.latency_ms,
                            model=event.model,
                            reference_image=event.reference_image,
                            probe_media=probe,
                            context_media=context,
                            media_encrypted=encrypted,
                            status=AlertStatus.PENDING.value,
                            version=1,
                            hold=False,
                        )
                        session.add(row)
                        session.flush()
                        # After the insert: the transaction holds the write lock (SQLite) or, with this
                        # query, a lock on the subject row (PostgreSQL); an erasure cannot commit between
                        # this check and the commit of the alert.
                        if self.check_subjects and not self._locked_subject(session, event.subject_id):
                            raise SubjectGoneError(
                                f"subject {event.subject_id} has been erased: alert {event.alert_id} not stored"
                            )
                    return seq
                except IntegrityError as exc:
                    if self._exists(event.alert_id):
                        raise StorageError(f"alert {event.alert_id} is already stored") from exc
                    log.debug("alert seq %s taken by another writer (attempt %d)", seq, attempt + 1)
                    time.sleep(random.uniform(0.001, 0.02) * (attempt + 1))
            raise StorageError(f"could not allocate a sequence number for alert {event.alert_id}")

    def _encounter_key(self, session: Session, event: AlertEvent) -> str:
        """The key of the encounter this alert continues (the latest alert of its subject on its camera in its
        deployment, if within the gap), else its own id: it starts one. Read inside the insert's transaction,
        under the write lock, so two alerts of one encounter cannot both start it."""
        deployment = (
            AlertRecord.deployment_id.is_(None)
            if self.deployment_id is None
            else AlertRecord.deployment_id == self.deployment_id
        )
        previous = session.execute(
            select(AlertRecord.id, AlertRecord.encounter_key, AlertRecord.decided_at)
            .where(AlertRecord.subject_id == event.subject_id, AlertRecord.source == event.source, deployment)
            .order_by(AlertRecord.seq.desc())
            .limit(1)
        ).first()
        if previous is None:
            return event.alert_id
        gap = abs((_from_epoch(event.decided_at) - as_utc(previous.decided_at)).total_seconds())
        return (previous.encounter_key or previous.id) if gap <= DEFAULT_GAP_S else event.alert_id

    @staticmethod
    def _locked_subject(session: Session, subject_id: str) -> bool:
        query = select(Subject.id).where(Subject.id == subject_id).with_for_update(read=True, key_share=True)
        return session.scalar(query) is not None

    def _subject_exists(self, subject_id: str) -> bool:
        with self.db.session() as session:
            return session.get(Subject, subject_id) is not None

    def _delete_media(self, *digests: str | None) -> None:
        """Remove images written for a refused alert, unless a stored alert uses the same bytes."""
        for digest in {d for d in digests if d}:
            with self.db.session() as session:
                uses = (AlertRecord.probe_media == digest) | (AlertRecord.context_media == digest)
                used = session.scalar(select(func.count()).where(uses))
            if not used:
                self.media.delete(digest)

    def _exists(self, alert_id: str) -> bool:
        with self.db.session() as session:
            return session.get(AlertRecord, alert_id) is not None

    def contains(self, alert_id: str) -> bool:
        """Whether the alert is stored already (a worker's alert handed over twice is stored once)."""
        return self._exists(alert_id)

    def close(self) -> None:
        """Nothing to release: the database belongs to whoever opened it."""
