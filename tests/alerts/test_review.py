"""Adjudication and outcome under optimistic locking, and the alert queries, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.alerts.test_db_store import event

from openlfr.alerts.db_store import DbAlertStore
from openlfr.alerts.review import (
    AlertFilter,
    AlertStateError,
    Decision,
    EngagementOutcome,
    RejectReason,
    StaleVersionError,
    adjudicate,
    alerts_after,
    last_seq,
    list_alerts,
    record_outcome,
)
from openlfr.audit import iter_entries
from openlfr.auth.errors import PermissionDeniedError, SeparationOfDutiesError
from openlfr.auth.principal import Principal
from openlfr.auth.roles import Role
from openlfr.config.models import Settings
from openlfr.store.db import open_database
from openlfr.store.errors import NotFoundError
from openlfr.store.media import MediaStore

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


ANN = Principal("user", "a" * 32, "ann", Role.OPERATOR, "ann", "a" * 32)
BOB = Principal("user", "b" * 32, "bob", Role.OPERATOR, "bob", "b" * 32)
SUE = Principal("user", "c" * 32, "sue", Role.SUPERVISOR, "sue", "c" * 32)


def test_decisions_versions_and_queries(database_url: str, tmp_path: Path) -> None:
    db = open_database(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        store = DbAlertStore(db, MediaStore(tmp_path / "media"))
        ids = [str(store.append(event(f"{i:032d}"))["alert_id"]) for i in range(3)]
        with db.session() as session:
            confirmed = adjudicate(session, ids[0], decision=Decision.CONFIRM, version=1, by=ANN, now=NOW)
            assert (confirmed.status, confirmed.version, confirmed.adjudicated_by) == ("confirmed", 2, "ann")
        with db.session() as session, pytest.raises(StaleVersionError) as stale:
            adjudicate(session, ids[0], decision=Decision.REJECT, version=1, by=BOB, now=NOW, reason=RejectReason.OTHER)
        assert stale.value.current.status == "confirmed" and stale.value.current.version == 2
        with db.session() as session:
            done = record_outcome(session, ids[0], outcome=EngagementOutcome.NOT_LOCATED, version=2, by=BOB, now=NOW)
            assert (done.outcome, done.version, done.outcome_by) == ("not_located", 3, "bob")
            with pytest.raises(AlertStateError):
                record_outcome(session, ids[1], outcome=EngagementOutcome.ARRESTED, version=1, by=BOB, now=NOW)
            with pytest.raises(NotFoundError):
                adjudicate(session, "0" * 31 + "x", decision=Decision.CONFIRM, version=1, by=ANN, now=NOW)
            rejected = adjudicate(
                session, ids[1], decision=Decision.REJECT, version=1, by=ANN, now=NOW, reason=RejectReason.POOR_IMAGE
            )
            assert rejected.reject_reason == "poor_image"
        with db.session() as session:
            rows, total = list_alerts(session, AlertFilter(status="pending"), limit=10, offset=0)
            assert total == 1 and [r.id for r in rows] == [ids[2]]
            since = datetime.fromtimestamp(1_790_000_000.0, UTC)
            assert list_alerts(session, AlertFilter(since=since), limit=10, offset=0)[1] == 3
            later = datetime.fromtimestamp(1_790_000_001.0, UTC)
            assert list_alerts(session, AlertFilter(since=later, source="cam1"), limit=10, offset=0)[1] == 0
            assert [r.seq for r in alerts_after(session, 1)] == [2, 3] and last_seq(session) == 3
    finally:
        db.close()


def test_an_escalated_alert_is_decided_by_another_officer_in_person(database_url: str, tmp_path: Path) -> None:
    db = open_database(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        alerts = DbAlertStore(db, MediaStore(tmp_path / "media"))
        ids = [str(alerts.append(event(f"{i:032d}"))["alert_id"]) for i in range(2)]
        with db.session() as session:
            escalated = adjudicate(session, ids[0], decision=Decision.ESCALATE, version=1, by=ANN, now=NOW)
            assert (escalated.escalated_by, escalated.escalated_by_account) == ("ann", "ann")
        with pytest.raises(SeparationOfDutiesError, match="another officer"), db.session() as session:
            adjudicate(session, ids[0], decision=Decision.CONFIRM, version=2, by=ANN, now=NOW)
        machine = Principal("token", "t" * 32, "bot", Role.SUPERVISOR, "sue", "c" * 32)
        with pytest.raises(PermissionDeniedError, match="signed-in person"), db.session() as session:
            adjudicate(session, ids[0], decision=Decision.CONFIRM, version=2, by=machine, now=NOW)
        with db.session() as session:
            decided = adjudicate(session, ids[0], decision=Decision.CONFIRM, version=2, by=SUE, now=NOW)
            assert (decided.adjudicated_by, decided.escalated_by) == ("sue", "ann")
            entries = [(e.actor, e.details["decision"]) for e in iter_entries(session, action="alert.adjudicate")]
            assert entries == [("user:ann", "escalate"), ("user:sue", "confirm")]
        # With separation of duties off, the officer who escalated may decide.
        with db.session() as session:
            adjudicate(session, ids[1], decision=Decision.ESCALATE, version=1, by=ANN, now=NOW)
            adjudicate(
                session, ids[1], decision=Decision.REJECT, version=2, by=ANN, now=NOW,
                reason=RejectReason.OTHER, separation_of_duties=False,
            )  # fmt: skip
    finally:
        db.close()
