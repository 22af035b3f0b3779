"""Adjudication and outcome under optimistic locking, and the alert queries, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from tests.alerts.test_db_store import event
from tests.helpers.accounts import person

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
    get_alert,
    last_seq,
    list_alerts,
    record_outcome,
)
from openlfr.audit import iter_entries
from openlfr.auth.competence import Competence, record_competence
from openlfr.auth.errors import (
    CompetenceExpiredError,
    CompetenceRequiredError,
    PermissionDeniedError,
    SeparationOfDutiesError,
)
from openlfr.auth.principal import Principal
from openlfr.auth.roles import Role
from openlfr.auth.users import get_user_by_name
from openlfr.config.models import Settings
from openlfr.store.db import Database, open_database
from openlfr.store.errors import NotFoundError
from openlfr.store.media import MediaStore

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def officers(db: Database) -> tuple[Principal, Principal, Principal]:
    """ann and bob (operators) and sue (a supervisor), trained (tests.helpers.accounts)."""
    with db.session() as session:
        return (
            person(session, "ann", "operator"),
            person(session, "bob", "operator"),
            person(session, "sue", "supervisor"),
        )


def test_decisions_versions_and_queries(database_url: str, tmp_path: Path) -> None:
    db = open_database(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        store = DbAlertStore(db, MediaStore(tmp_path / "media"))
        ANN, BOB, _ = officers(db)
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
            rows, total = list_alerts(session, AlertFilter(statuses=("pending",)), limit=10, offset=0)
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
        ANN, _, SUE = officers(db)
        ids = [str(alerts.append(event(f"{i:032d}"))["alert_id"]) for i in range(2)]
        with db.session() as session:
            escalated = adjudicate(session, ids[0], decision=Decision.ESCALATE, version=1, by=ANN, now=NOW)
            assert (escalated.escalated_by, escalated.escalated_by_account) == ("ann", "ann")
        with pytest.raises(SeparationOfDutiesError, match="another officer"), db.session() as session:
            adjudicate(session, ids[0], decision=Decision.CONFIRM, version=2, by=ANN, now=NOW)
        machine = Principal("token", "t" * 32, "bot", Role.SUPERVISOR, "sue", SUE.account_id)
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


def test_adjudicating_needs_a_current_operator_record(database_url: str, tmp_path: Path) -> None:
    """Every alert is reviewed by a trained officer (issue 12 §6): no record, or an expired one, is refused with a
    stable code and nothing changes; ``governance.require_competence`` off lifts the requirement."""
    db = open_database(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        alerts = DbAlertStore(db, MediaStore(tmp_path / "media"))
        ids = [str(alerts.append(event(f"{i:032d}"))["alert_id"]) for i in range(2)]
        with db.session() as session:
            trainer = person(session, "trainer", "supervisor")
            novice = person(session, "novice", "operator", competent=False)
            chief = person(session, "chief", "supervisor", competent=False)
        for decision in Decision:
            reason = RejectReason.OTHER if decision is Decision.REJECT else None
            with db.session() as session, pytest.raises(CompetenceRequiredError, match="no operator competence"):
                adjudicate(session, ids[0], decision=decision, version=1, by=novice, now=NOW, reason=reason)
        with db.session() as session:
            user = get_user_by_name(session, "chief")
            record_competence(
                session, user, competence=Competence.SUPERVISOR, course="LFR authorising officer",
                passed_on=date(2026, 1, 1), expires_on=date(2027, 1, 1), by=trainer, now=NOW,
            )  # fmt: skip
        with db.session() as session, pytest.raises(CompetenceRequiredError, match="chief has no operator"):
            adjudicate(session, ids[0], decision=Decision.CONFIRM, version=1, by=chief, now=NOW)
        with db.session() as session:
            record_competence(
                session, get_user_by_name(session, "novice"), competence=Competence.OPERATOR,
                course="LFR operator course", passed_on=date(2025, 1, 1), expires_on=date(2026, 1, 1),
                by=trainer, now=NOW,
            )  # fmt: skip
        with db.session() as session, pytest.raises(CompetenceExpiredError, match="expired on 2026-01-01"):
            adjudicate(session, ids[0], decision=Decision.CONFIRM, version=1, by=novice, now=NOW)
        with db.session() as session:
            assert get_alert(session, ids[0]).status == "pending"
            assert list(iter_entries(session, action="alert.adjudicate")) == []
            decided = adjudicate(
                session, ids[0], decision=Decision.CONFIRM, version=1, by=novice, now=NOW, competence_required=False
            )
            assert decided.status == "confirmed"
        with db.session() as session:
            record_competence(
                session, get_user_by_name(session, "novice"), competence=Competence.OPERATOR,
                course="LFR operator refresher", passed_on=date(2026, 11, 1), expires_on=date(2027, 11, 1),
                by=trainer, now=NOW,
            )  # fmt: skip
        with db.session() as session:
            assert adjudicate(session, ids[1], decision=Decision.ESCALATE, version=1, by=novice, now=NOW).version == 2
    finally:
        db.close()
