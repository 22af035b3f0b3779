"""The one rule for deleting media: a file goes only when no row points at it any more.

Reference images and alert images share one content-addressed store, so the same bytes (an alert's probe
crop later enrolled as a reference image, say) are one file with several owners: an alert (held or not),
a reference image. Whoever removes a row that pointed at a file — the retention purge, an alert erasure, a
subject erasure — does not delete the file itself: it adds the file to the durable deletion list
(``media_deletion``) in the same transaction, and ``collect`` deletes, after the commit, every listed file
that nothing references. A file that cannot be deleted stays listed with its error and is retried on the next
run; ``sweep_orphans`` deletes files that no row and no list entry account for (left by a crash between
writing a file and inserting its row), once they are older than a grace period so an image being stored
right now is never taken.

What the rule cannot close by itself is a writer that stores the same bytes again while the file is being
deleted: ``MediaStore.put`` refreshes an existing file's time, and a file written after its deletion was
decided is kept (and swept later if nothing comes to point at it).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from openlfr.store.alert_models import AlertRecord
from openlfr.store.context import Store
from openlfr.store.media_models import PendingMediaDeletion
from openlfr.store.models import ReferenceImage
from openlfr.utc import as_utc, utcnow

log = logging.getLogger(__name__)

ORPHAN_GRACE: Final = timedelta(hours=1)
_CHUNK: Final = 500
_HEX: Final = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class FailedDeletion:
    digest: str
    error: str


@dataclass(frozen=True, slots=True)
class CollectResult:
    deleted: int
    """files removed from disk"""
    kept_in_use: int
    """listed files kept because an alert or a reference image still points at them"""
    orphans: int
    """files no row referenced, swept (counted in ``deleted`` too)"""
    failed: tuple[FailedDeletion, ...]
    """files that could not be deleted; still listed, retried next time"""
    pending: int
    """files on the deletion list after this run"""

    @property
    def eventful(self) -> bool:
        return bool(self.deleted or self.kept_in_use or self.failed)

    def as_dict(self) -> dict[str, object]:
        return {
            "deleted": self.deleted,
            "kept_in_use": self.kept_in_use,
            "orphans": self.orphans,
            "failed": len(self.failed),
            "errors": sorted({f.error for f in self.failed})[:5],
            "pending": self.pending,
        }


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    items = sorted(set(values))
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def referenced(session: Session, digests: Iterable[str]) -> set[str]:
    """The digests among ``digests`` that an alert (probe or context, on hold or not) or a reference image
    still points at."""
    found: set[str] = set()
    for chunk in _chunks(digests):
        for column in (AlertRecord.probe_media, AlertRecord.context_media, ReferenceImage.digest):
            found.update(d for d in session.scalars(select(column).where(column.in_(chunk))) if d)
    return found


def release(session: Session, digests: Iterable[str], *, reason: str) -> int:
    """Put ``digests`` on the deletion list, in the caller's transaction (the one removing their rows)."""
    wanted = {d for d in digests if d}
    if not wanted:
        return 0
    listed: set[str] = set()
    for chunk in _chunks(wanted):
        listed.update(
            session.scalars(select(PendingMediaDeletion.digest).where(PendingMediaDeletion.digest.in_(chunk)))
        )
    now = utcnow()
    for digest in sorted(wanted - listed):
        session.add(PendingMediaDeletion(digest=digest, queued_at=now, reason=reason, attempts=0))
    if listed:
        session.execute(
            update(PendingMediaDeletion).where(PendingMediaDeletion.digest.in_(listed)).values(queued_at=now)
        )
    session.flush()
    return len(wanted)


def pending_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(PendingMediaDeletion)) or 0)


def _mtime(store: Store, digest: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(store.media.path_for(digest).stat().st_mtime, UTC)
    except OSError:
        return None


def collect(store: Store, *, sweep: bool = True, wall_clock: Callable[[], datetime] = utcnow) -> CollectResult:
    """Delete every listed file nothing references; with ``sweep``, also files no row accounts for."""
    with store.db.session() as session:
        listed = {row.digest: as_utc(row.queued_at) for row in session.scalars(select(PendingMediaDeletion))}
        in_use = referenced(session, listed)
        if in_use:
            session.execute(delete(PendingMediaDeletion).where(PendingMediaDeletion.digest.in_(in_use)))
    deleted, failed, done = 0, [], set(in_use)
    for digest in sorted(set(listed) - in_use):
        written = _mtime(store, digest)
        if written is not None and written > listed[digest]:
            done.add(digest)  # stored again after the deletion was decided: someone's new image (see above)
            continue
        try:
            deleted += store.media.delete(digest)
        except OSError as exc:
            failed.append(FailedDeletion(digest, f"{type(exc).__name__}: {exc.strerror or exc}"))
            continue
        done.add(digest)
    with store.db.session() as session:
        if done:
            for chunk in _chunks(done):
                session.execute(delete(PendingMediaDeletion).where(PendingMediaDeletion.digest.in_(chunk)))
        for failure in failed:
            session.execute(
                update(PendingMediaDeletion)
                .where(PendingMediaDeletion.digest == failure.digest)
                .values(attempts=PendingMediaDeletion.attempts + 1, last_error=failure.error)
            )
    orphans, orphan_failures = (0, []) if not sweep else sweep_orphans(store, older_than=wall_clock() - ORPHAN_GRACE)
    failed.extend(orphan_failures)
    with store.db.session() as session:
        pending = pending_count(session)
    if failed:
        log.warning("media: %d file(s) could not be deleted and stay listed for the next run", len(failed))
    return CollectResult(deleted + orphans, len(in_use), orphans, tuple(failed), pending)


def _stored_files(store: Store) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """(name, entry) of every regular file two levels under the media root (``<aa>/<digest>``, temp files)."""
    try:
        shards = [e for e in os.scandir(store.media.root) if e.is_dir(follow_symlinks=False) and len(e.name) == 2]
    except FileNotFoundError:
        return
    for shard in shards:
        with os.scandir(shard.path) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False):
                    yield entry.name, entry


def sweep_orphans(store: Store, *, older_than: datetime) -> tuple[int, list[FailedDeletion]]:
    """Delete files that no alert, reference image or deletion-list entry accounts for, and interrupted
    writes' temporary files, when last written before ``older_than``."""
    limit = older_than.timestamp()
    candidates: dict[str, str] = {}
    for name, entry in _stored_files(store):
        if entry.stat(follow_symlinks=False).st_mtime >= limit:
            continue
        if (len(name) == 64 and set(name) <= _HEX) or name.startswith(".tmp-"):
            candidates[name] = entry.path
    if not candidates:
        return 0, []
    digests = [name for name in candidates if not name.startswith(".tmp-")]
    with store.db.session() as session:
        keep = referenced(session, digests)
        for chunk in _chunks(digests):
            keep.update(
                session.scalars(select(PendingMediaDeletion.digest).where(PendingMediaDeletion.digest.in_(chunk)))
            )
    removed, failed = 0, []
    for name, path in sorted(candidates.items()):
        if name in keep:
            continue
        try:
            Path(path).unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            failed.append(FailedDeletion(name, f"{type(exc).__name__}: {exc.strerror or exc}"))
            continue
        removed += 1
    if removed:
        log.info("media: swept %d orphaned file(s)", removed)
    return removed, failed


def delete_if_unreferenced(store: Store, digests: Iterable[str]) -> int:
    """Best effort, for undoing a write whose row never committed: delete the files nothing points at.
    If the database cannot be asked, the files stay and the orphan sweep removes them later."""
    wanted = set(digests)
    try:
        with store.db.session() as session:
            keep = referenced(session, wanted)
            for chunk in _chunks(wanted):
                keep.update(
                    session.scalars(select(PendingMediaDeletion.digest).where(PendingMediaDeletion.digest.in_(chunk)))
                )
    except Exception:  # the database itself failed; the sweep will come back for these files
        log.warning("media: could not check references; %d file(s) left for the orphan sweep", len(wanted))
        return 0
    removed = 0
    for digest in sorted(wanted - keep):
        try:
            removed += store.media.delete(digest)
        except OSError:
            log.warning("media: could not delete an unreferenced file; the orphan sweep will retry it")
    return removed
