"""One rule for deleting media shared by alerts and reference images; purges that fail on a file are audited,
retried and leave no orphans."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from openlfr.alerts.db_store import DbAlertStore
from openlfr.audit import iter_entries, verify_chain
from openlfr.auth.principal import Principal
from openlfr.cli import main
from openlfr.config.models import Settings
from openlfr.retention.access import erase_alerts
from openlfr.retention.purge import MediaDeletionError, place_hold, purge_alerts
from openlfr.store import media_refs
from openlfr.store.alert_models import AlertRecord
from openlfr.store.context import Store, open_store
from openlfr.store.media import sha256_hex
from openlfr.store.media_models import PendingMediaDeletion
from openlfr.store.models import ReferenceImage
from openlfr.watchlists.erase import erase_subject
from openlfr.watchlists.subjects import create_subject
from openlfr.watchlists.types import Category, SubjectInfo
from tests.deployments.helpers import alert_event, sgt
from tests.helpers.accounts import cli_sign_in, person
from tests.helpers.patching import Replace

NOW = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)
SYSTEM = Principal.system("test")
SHARED = b"\xff\xd8the same picture, enrolled and alerted on"


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[Store]:
    with open_store(Settings(data_dir=tmp_path, database_url=database_url)) as opened:
        yield opened


def _subject_with_image(store: Store, data: bytes) -> str:
    stored = store.media.put(data)
    with store.db.session() as session:
        info = SubjectInfo("S-1", Category.WANTED_BY_COURTS, "warrant 1", "custody_image", "pc1", date(2099, 1, 1))
        subject = create_subject(session, info, by=person(session, "pc1", "supervisor"))
        session.add(
            ReferenceImage(
                subject_id=subject.id, digest=stored.digest, size_bytes=len(data), encrypted=False, quality_report={}
            )
        )
        return subject.id


def _dpo(store: Store) -> Principal:
    with store.db.session() as session:
        return person(session, "dpo", "supervisor")


def _alert(store: Store, alert_id: str, age_days: float, probe: bytes | None = None) -> None:
    event = alert_event(alert_id, age_days, NOW)
    DbAlertStore(store.db, store.media).append(replace(event, probe_jpeg=probe or event.probe_jpeg))


def _files(store: Store) -> set[str]:
    return {p.name for p in store.media.root.rglob("*") if p.is_file()}


def _referenced_files(store: Store) -> set[str]:
    with store.db.session() as session:
        alerts = session.execute(select(AlertRecord.probe_media, AlertRecord.context_media)).all()
        images = set(session.scalars(select(ReferenceImage.digest)))
    return {d for row in alerts for d in row if d} | images


def test_erasing_a_subject_keeps_the_image_of_an_alert_on_hold(store: Store) -> None:
    _subject_with_image(store, SHARED)
    _alert(store, "held", 2, probe=SHARED)
    with store.db.session() as session:
        place_hold(session, "held", by=sgt(session), reason="case 9", now=NOW)
    result = erase_subject(store, "S-1", by=_dpo(store), reason="subject access: erasure")
    assert (result.images, result.media_files_deleted, result.media_files_kept) == (1, 0, 1)
    assert store.media.get(sha256_hex(SHARED), encrypted=False) == SHARED  # the alert's image still answers
    # Once the alert goes too, nothing points at the file and it is deleted.
    with store.db.session() as session:
        session.execute(AlertRecord.__table__.update().values(hold=False))
    assert erase_alerts(store, ["held"], by=_dpo(store), reason="case closed") == (1, 2)
    assert _files(store) == set()


def test_purging_an_alert_keeps_the_reference_image_it_shares(store: Store) -> None:
    _subject_with_image(store, SHARED)
    _alert(store, "old", 40, probe=SHARED)
    result = purge_alerts(store, now=NOW, retention_days=31, by=SYSTEM)
    assert (result.alerts, result.media_files) == (1, 1)  # the context image only
    assert store.media.get(sha256_hex(SHARED), encrypted=False) == SHARED
    with store.db.session() as session:
        (entry,) = list(iter_entries(session, action="media.delete"))
    assert (entry.details["deleted"], entry.details["kept_in_use"], entry.details["failed"]) == (1, 1, 0)
    # Erasing the subject now deletes it: no alert points at it any more.
    assert erase_subject(store, "S-1", by=_dpo(store), reason="erasure").media_files_deleted == 1
    assert _files(store) == set()


def _block(store: Store, digest: str) -> tuple[bytes, float]:
    """Make the file of ``digest`` impossible to delete with unlink(2), even as root: a non-empty directory
    in its place (unlink fails with EISDIR). Returns the bytes and time of the file that was there."""
    path = store.media.path_for(digest)
    data, mtime = path.read_bytes(), path.stat().st_mtime
    path.unlink()
    (path / "keep").mkdir(parents=True)
    return data, mtime


def _unblock(store: Store, digest: str, was: tuple[bytes, float]) -> None:
    """The obstacle goes; the file that could not be deleted is still there, as it was."""
    path = store.media.path_for(digest)
    shutil.rmtree(path)
    path.write_bytes(was[0])
    os.utime(path, (was[1], was[1]))


def test_a_purge_that_fails_on_a_file_is_audited_retried_and_leaves_no_orphans(
    store: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, replace_function: Replace
) -> None:
    for index in range(6):
        _alert(store, f"old{index}", 40 + index)
    _alert(store, "recent", 3)
    with store.db.session() as session:
        stuck = session.scalars(select(AlertRecord.probe_media).where(AlertRecord.id == "old2")).one()
    blocked = _block(store, stuck)
    url = store.db.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("LFR_DATA_DIR", str(store.media.root.parent))
    replace_function("openlfr.utc.utcnow", lambda: NOW)  # the command's clock
    cli_sign_in(url, store.media.root.parent, "sgt", "supervisor")

    assert main(["retention", "run", "--db", url]) == 1
    err = capsys.readouterr().err
    assert "[media_delete_failed]" in err and "1 image file(s) could not be deleted" in err
    assert "Traceback" not in err and "IsADirectoryError" in err
    with store.db.session() as session:
        assert list(session.scalars(select(AlertRecord.id))) == ["recent"]
        (purge,) = list(iter_entries(session, action="retention.purge"))
        (media,) = list(iter_entries(session, action="media.delete"))
        assert (purge.details["alerts"], purge.details["media_listed"]) == (6, 12)
        assert (media.details["deleted"], media.details["failed"], media.details["pending"]) == (11, 1, 1)
        (pending,) = session.scalars(select(PendingMediaDeletion)).all()
        assert (pending.digest, pending.attempts, pending.reason) == (stuck, 1, "retention.purge")
    # A second run while the file is still stuck: still listed, tried again, nothing else lost.
    with pytest.raises(MediaDeletionError):
        purge_alerts(store, now=NOW, retention_days=31, by=SYSTEM)

    _unblock(store, stuck, blocked)
    assert main(["retention", "run", "--json", "--db", url]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["alerts"], out["media_files"], out["media_failed"], out["media_pending"]) == (0, 1, 0, 0)
    assert _files(store) == _referenced_files(store) != set()  # no orphans, the recent alert intact
    with store.db.session() as session:
        assert session.scalars(select(PendingMediaDeletion)).all() == []
        assert verify_chain(session).ok


def test_files_listed_before_a_crash_are_deleted_by_the_next_run(store: Store) -> None:
    _alert(store, "old", 40)
    with store.db.session() as session:  # the purge's first step committed, then the process died
        record = session.get(AlertRecord, "old")
        assert record is not None
        media_refs.release(session, [record.probe_media, record.context_media or ""], reason="retention.purge")
        session.delete(record)
    assert len(_files(store)) == 2
    result = purge_alerts(store, now=NOW, retention_days=31, by=SYSTEM)
    assert (result.alerts, result.media_files, result.media_pending) == (0, 2, 0)
    assert _files(store) == set()


def test_orphans_are_swept_after_a_grace_period_never_a_file_being_stored(store: Store) -> None:
    _alert(store, "recent", 3)
    old_orphan = store.media.put(b"written, then the row never committed").digest
    fresh = store.media.put(b"being stored right now").digest
    temp = store.media.root / "ab" / ".tmp-interrupted"
    temp.parent.mkdir(parents=True, exist_ok=True)
    temp.write_bytes(b"half a file")
    two_hours_ago = time.time() - 7200
    for path in (store.media.path_for(old_orphan), temp):
        os.utime(path, (two_hours_ago, two_hours_ago))
    result = purge_alerts(store, now=NOW, retention_days=31, by=SYSTEM)
    assert (result.alerts, result.media_files) == (0, 2)
    assert _files(store) == _referenced_files(store) | {fresh}
    # Storing the same bytes again refreshes the file, so a sweep that comes later spares it.
    os.utime(store.media.path_for(fresh), (two_hours_ago, two_hours_ago))
    store.media.put(b"being stored right now")
    assert purge_alerts(store, now=NOW, retention_days=31, by=SYSTEM).media_files == 0
    assert fresh in _files(store)
