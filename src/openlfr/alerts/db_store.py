"""The database-backed ``AlertStore``: alert rows in the ``alert`` table, images in the encrypted media store.

``append`` writes the probe (and context) image through the media store (fsynced, encrypted at rest when a
media key is configured), then inserts the row and commits before it returns: a sink (the console's live
feed) only ever hears of an alert that the database can produce afterwards. ``seq`` is allocated as
``max(seq) + 1`` inside the insert transaction; two writers that pick the same number collide on its
unique constraint and the loser retries with the next one.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from openlfr.alerts.event import AlertEvent
from openlfr.store.alert_models import AlertRecord
from openlfr.store.db import Database
from openlfr.store.errors import StorageError
from openlfr.store.media import MediaStore

log = logging.getLogger(__name__)

_SEQ_ATTEMPTS = 20
# One writer at a time within this process (alerts are rare; the lock costs nothing). Writers in other
# processes are kept apart by the unique constraint and the retry.
_WRITE_LOCK = threading.Lock()


def _utc(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


class DbAlertStore:
    """Implements ``openlfr.alerts.store.AlertStore``. ``close`` leaves the database open: its owner closes it."""

    def __init__(self, db: Database, media: MediaStore, *, deployment_id: str | None = None) -> None:
        self.db = db
        self.media = media
        self.deployment_id = deployment_id

    def append(self, event: AlertEvent) -> dict[str, object]:
        # Media first: a row never refers to an image that is not on disk.
        probe = self.media.put(event.probe_jpeg)
        context = self.media.put(event.context_jpeg) if event.context_jpeg is not None else None
        with _WRITE_LOCK:
            for attempt in range(_SEQ_ATTEMPTS):
                try:
                    with self.db.session() as session:
                        seq = (session.scalar(select(func.max(AlertRecord.seq))) or 0) + 1
                        row = AlertRecord(
                            id=event.alert_id,
                            seq=seq,
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
                            frame_wall_time=_utc(event.frame_wall_time),
                            decided_at=_utc(event.decided_at),
                            latency_ms=event.latency_ms,
                            model=event.model,
                            reference_image=event.reference_image,
                            probe_media=probe.digest,
                            context_media=context.digest if context else None,
                            media_encrypted=probe.encrypted,
                            status="pending",
                            version=1,
                            hold=False,
                        )
                        session.add(row)
                        session.flush()
                    break
                except IntegrityError as exc:
                    if self._exists(event.alert_id):
                        raise StorageError(f"alert {event.alert_id} is already stored") from exc
                    log.debug("alert seq %s taken by another writer (attempt %d)", seq, attempt + 1)
                    time.sleep(random.uniform(0.001, 0.02) * (attempt + 1))
            else:
                raise StorageError(f"could not allocate a sequence number for alert {event.alert_id}")
        record = event.as_record()
        record.update(
            seq=seq,
            deployment_id=self.deployment_id,
            status="pending",
            version=1,
            probe_media=probe.digest,
            context_media=context.digest if context else None,
        )
        return record

    def _exists(self, alert_id: str) -> bool:
        with self.db.session() as session:
            return session.get(AlertRecord, alert_id) is not None

    def close(self) -> None:
        """Nothing to release: the database belongs to whoever opened it."""
