"""Erasure of a subject: every reference image (media file and row), every template, every copy in a
snapshot, the subject record and its watchlist memberships. What remains is an ``erasure_record``
saying that it happened (subject id, when, by whom, why, counts) and nothing of the biometric data.

Order matters: the rows go first, in one transaction that also puts the image files on the durable
deletion list; the files are deleted right after it through the one media rule (``openlfr.store.media_refs``),
which keeps a file an alert still points at (the same bytes can be an alert's image too, and an alert on
hold must keep it). If the transaction fails, nothing changed and erasing again finishes the job; if a file
cannot be deleted, it stays listed and the next retention run retries it.
Running pipelines: once the rows are gone, every erasure listener of this process is told (the camera
manager of ``lfr serve`` removes the subject from the in-memory gallery of every running pipeline and makes
their alert dispatchers drop any alert about it) *before* ``erase_subject`` returns. A pipeline in another
process is covered at the storage point: its alert store refuses an alert whose subject no longer exists
(``openlfr.alerts.db_store``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import delete, func, select, update

from openlfr.audit import append_audit
from openlfr.auth.permissions import Permission
from openlfr.auth.principal import Principal
from openlfr.store import media_refs
from openlfr.store.context import Store
from openlfr.store.media_models import PendingMediaDeletion
from openlfr.store.models import (
    ErasureRecord,
    ReferenceImage,
    Snapshot,
    SnapshotTemplate,
    Subject,
    Template,
    WatchlistMember,
)
from openlfr.watchlists.subjects import get_subject
from openlfr.watchlists.types import ErasureResult

log = logging.getLogger(__name__)

ErasureListener = Callable[[str], None]
_listeners: list[ErasureListener] = []
_listeners_lock = threading.Lock()


def on_erasure(listener: ErasureListener) -> Callable[[], None]:
    """Call ``listener(subject_id)`` after each erasure in this process, before ``erase_subject`` returns;
    returns the function that removes it again."""
    with _listeners_lock:
        _listeners.append(listener)

    def remove() -> None:
        with _listeners_lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return remove


def _notify(subject_id: str) -> None:
    with _listeners_lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(subject_id)
        except Exception:  # one broken listener must not keep the others from hearing of it
            log.exception("an erasure listener failed for subject %s", subject_id)


def erase_subject(store: Store, ref_or_id: str, *, by: Principal, reason: str) -> ErasureResult:
    """Erase the subject; the erasure record names ``by`` and ``subject.erase`` is audited with it, in one
    transaction."""
    by.require(Permission.WATCHLISTS_MANAGE)
    if not reason.strip():
        raise ValueError("an erasure needs a reason")
    with store.db.session() as session:
        subject_id = get_subject(session, ref_or_id).id
        digests = list(session.scalars(select(ReferenceImage.digest).where(ReferenceImage.subject_id == subject_id)))
    with store.db.session() as session:
        subject = session.get(Subject, subject_id)
        assert subject is not None
        snapshot_ids = list(
            session.scalars(
                select(SnapshotTemplate.snapshot_id).where(SnapshotTemplate.subject_id == subject_id).distinct()
            )
        )
        templates = session.scalar(select(func.count()).where(Template.subject_id == subject_id)) or 0
        session.execute(delete(SnapshotTemplate).where(SnapshotTemplate.subject_id == subject_id))
        if snapshot_ids:
            session.execute(
                update(Snapshot).where(Snapshot.id.in_(snapshot_ids)).values(erasures=Snapshot.erasures + 1)
            )
        session.execute(delete(Template).where(Template.subject_id == subject_id))
        session.execute(delete(ReferenceImage).where(ReferenceImage.subject_id == subject_id))
        session.execute(delete(WatchlistMember).where(WatchlistMember.subject_id == subject_id))
        session.delete(subject)
        media_refs.release(session, digests, reason="subject.erase")
        record = ErasureRecord(
            subject_id=subject_id,
            erased_by=by.label,
            reason=reason.strip(),
            images=len(digests),
            templates=int(templates),
            snapshots_redacted=len(snapshot_ids),
        )
        session.add(record)
        session.flush()
        record_id = record.id
        append_audit(
            session,
            actor=by.actor,
            action="subject.erase",
            target_type="subject",
            target_id=subject_id,
            details={
                "erasure_record": record_id,
                "images": len(digests),
                "templates": int(templates),
                "snapshots_redacted": len(snapshot_ids),
            },
        )
    media_refs.collect(store, sweep=False)
    deleted, kept, pending = _file_outcomes(store, digests)
    _notify(subject_id)  # running pipelines forget the subject before this call returns
    _scrub(store)
    return ErasureResult(record_id, subject_id, len(digests), int(templates), len(snapshot_ids), deleted, kept, pending)


def _file_outcomes(store: Store, digests: list[str]) -> tuple[int, int, int]:
    """(deleted, kept because an alert still points at them, still on the deletion list) of ``digests``."""
    with store.db.session() as session:
        listed = set(
            session.scalars(select(PendingMediaDeletion.digest).where(PendingMediaDeletion.digest.in_(digests)))
        )
    present = {d for d in digests if store.media.path_for(d).exists()}
    return len(set(digests) - present - listed), len(present - listed), len(listed)


def _scrub(store: Store) -> None:
    """Push deleted rows out of the database files where the engine allows it.

    SQLite runs with ``secure_delete`` (freed pages are zeroed); checkpointing and truncating the WAL
    then removes the last copies of the old pages. PostgreSQL's VACUUM reclaims the dead row versions
    (their bytes can persist in free space until it is reused: see docs/WATCHLISTS.md)."""
    engine = store.db.engine
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if store.db.is_sqlite:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            connection.exec_driver_sql("VACUUM reference_image, template, snapshot_template, subject")
