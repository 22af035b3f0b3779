from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from openlfr.audit import AuditError, append_audit, iter_entries, verify_chain
from openlfr.audit.chain import entry_hash
from openlfr.audit.export import check_export, compare_with_export, export_audit, manifest_path
from openlfr.config.models import Settings
from openlfr.store.db import Database, open_database
from openlfr.store.governance_models import AuditEntry


@pytest.fixture
def db(database_url: str, tmp_path: Path) -> Iterator[Database]:
    database = open_database(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        yield database
    finally:
        database.close()


def _append(db: Database, n: int) -> None:
    for i in range(n):
        with db.session() as session:
            append_audit(
                session,
                actor=f"user{i % 2}",
                action="test.step",
                target_type="thing",
                target_id=str(i),
                details={"i": i, "note": "ünïcode", "ratio": i / 3, "nested": {"ok": True, "list": [1, 2]}},
            )


def _problems(db: Database) -> list[tuple[int, str]]:
    with db.session() as session:
        result = verify_chain(session)
    return [(p.seq, p.problem) for p in result.problems]


def test_appended_entries_form_an_intact_chain(db: Database) -> None:
    with db.session() as session:
        assert verify_chain(session).ok  # empty chain
    _append(db, 5)
    with db.session() as session:
        result = verify_chain(session)
        records = list(iter_entries(session))
    assert result.ok and result.entries == 5 and result.last_seq == 5
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    assert records[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(records))
    assert records[2].details == {"i": 2, "note": "ünïcode", "ratio": 2 / 3, "nested": {"ok": True, "list": [1, 2]}}
    assert records[0].at.tzinfo is not None


def test_an_entry_rolls_back_with_the_callers_transaction(db: Database) -> None:
    _append(db, 1)
    with pytest.raises(RuntimeError), db.session() as session:
        append_audit(session, actor="a", action="x", target_type="t", target_id=None, details={})
        raise RuntimeError("the change being recorded failed")
    _append(db, 1)
    with db.session() as session:
        assert [r.seq for r in iter_entries(session)] == [1, 2]
        assert verify_chain(session).ok


def test_edited_entry_is_detected_at_its_seq(db: Database) -> None:
    _append(db, 5)
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE audit_entry SET actor = 'mallory' WHERE seq = 3"))
    assert _problems(db) == [(3, "content does not match its hash (edited)")]


def test_edited_details_with_recomputed_hash_breaks_the_next_link(db: Database) -> None:
    _append(db, 4)
    with db.session() as session:
        entry = session.get(AuditEntry, 2)
        assert entry is not None
        entry.details = '{"i":99}'
        entry.hash = entry_hash(
            seq=2,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            target_type=entry.target_type,
            target_id=entry.target_id,
            details_json=entry.details,
            prev_hash=entry.prev_hash,
        )
    problems = _problems(db)
    assert problems and problems[0][0] == 3 and "prev_hash" in problems[0][1]


def test_deleted_entry_is_detected(db: Database) -> None:
    _append(db, 5)
    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entry WHERE seq = 2"))
    problems = _problems(db)
    assert (3, "entries 2 are missing (deleted?)") in problems
    assert any(seq == 3 and "prev_hash" in why for seq, why in problems)


def test_entries_cut_off_the_end_are_detected(db: Database) -> None:
    _append(db, 5)
    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entry WHERE seq >= 4"))
    problems = _problems(db)
    assert len(problems) == 1 and problems[0][0] == 5 and "ends at 3" in problems[0][1]


def test_reordered_entries_are_detected(db: Database) -> None:
    _append(db, 4)
    # Swap the contents of entries 2 and 3, keeping each row's seq: the order of events is rewritten.
    columns = "at, actor, action, target_type, target_id, details, prev_hash, hash"
    with db.engine.begin() as connection:
        rows = {
            r[0]: r[1:] for r in connection.execute(text(f"SELECT seq, {columns} FROM audit_entry WHERE seq IN (2, 3)"))
        }
        assignments = ", ".join(f"{c.strip()} = :{c.strip()}" for c in columns.split(","))
        for seq, other in ((2, 3), (3, 2)):
            values = dict(zip([c.strip() for c in columns.split(",")], rows[other], strict=True))
            connection.execute(text(f"UPDATE audit_entry SET {assignments} WHERE seq = :seq"), {**values, "seq": seq})
    problems = _problems(db)
    assert {seq for seq, _ in problems} >= {2, 3}


def test_concurrent_appends_are_serialised(db: Database) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(8):
                with db.session() as session:
                    append_audit(
                        session,
                        actor=f"w{n}",
                        action="test.concurrent",
                        target_type="t",
                        target_id=None,
                        details={"i": i},
                    )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with db.session() as session:
        result = verify_chain(session)
        seqs = list(session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
    assert result.ok, result.problems
    assert seqs == list(range(1, 33))


@pytest.mark.parametrize(
    "details",
    [
        {"embedding": [0.1, 0.2]},
        {"probe": [0.5] * 128},
        {"raw": b"\x89PNG"},
        {"nan": float("nan")},
    ],
)
def test_details_that_could_hold_biometric_data_are_refused(db: Database, details: dict[str, object]) -> None:
    with pytest.raises(AuditError), db.session() as session:
        append_audit(session, actor="a", action="x", target_type="t", target_id=None, details=details)


def test_export_is_hashed_signed_and_catches_a_rewritten_chain(db: Database, tmp_path: Path) -> None:
    _append(db, 4)
    key = b"k" * 32
    out = tmp_path / "export" / "audit.jsonl"
    with db.session() as session:
        result = export_audit(session, out, key=key)
    assert result.entries == 4 and result.signed and manifest_path(out).is_file()
    entries = check_export(out, key=key)
    assert [e["seq"] for e in entries] == [1, 2, 3, 4]
    with pytest.raises(AuditError, match="signature"):
        check_export(out, key=b"x" * 32)
    # Rewrite the whole chain in the database (edit entry 1, recompute every hash and the head): the chain
    # alone verifies, the export does not agree with it.
    with db.session() as session:
        prev = "0" * 64
        for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
            if entry.seq == 1:
                entry.actor = "mallory"
            entry.prev_hash = prev
            entry.hash = entry_hash(
                seq=entry.seq,
                at=entry.at.replace(tzinfo=UTC) if entry.at.tzinfo is None else entry.at,
                actor=entry.actor,
                action=entry.action,
                target_type=entry.target_type,
                target_id=entry.target_id,
                details_json=entry.details,
                prev_hash=prev,
            )
            prev = entry.hash
        session.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})
    assert _problems(db) == []
    with db.session() as session:
        problems = compare_with_export(session, entries)
    assert [p.seq for p in problems] == [1, 2, 3, 4]
    # A changed export file fails its manifest.
    out.write_bytes(out.read_bytes().replace(b"user0", b"userX"))
    with pytest.raises(AuditError, match="sha256"):
        check_export(out)


def test_explicit_time_is_kept_in_utc(db: Database) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    with db.session() as session:
        append_audit(session, actor="a", action="x", target_type="t", target_id="1", details={}, at=when)
    with db.session() as session:
        (record,) = iter_entries(session)
        assert record.at == when
        assert verify_chain(session).ok
