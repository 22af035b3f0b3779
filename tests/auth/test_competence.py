"""Competence records (issue 12 §6): recorded by a supervisor in person, audited in the same transaction,
never overwritten (a new record supersedes the last, history kept), and required — current on the day —
to adjudicate alerts (operator) and to authorise deployments (supervisor); on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from openlfr.audit import iter_entries, verify_chain
from openlfr.auth.competence import (
    Competence,
    CompetenceExpiredError,
    CompetenceInvalidError,
    CompetenceRequiredError,
    competence_history,
    current_record,
    record_competence,
    require_competence,
)
from openlfr.auth.errors import PermissionDeniedError, SeparationOfDutiesError
from openlfr.auth.principal import Principal
from openlfr.auth.tokens import authenticate_token
from openlfr.auth.users import get_user_by_name
from openlfr.config.governance import GovernanceConfig
from openlfr.config.models import Settings
from openlfr.store.auth_models import CompetenceRecord
from openlfr.store.db import Database, open_database
from openlfr.store.errors import ConflictError
from tests.helpers.accounts import mint_token, person

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture
def db(database_url: str, tmp_path: Path) -> Iterator[Database]:
    database = open_database(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        yield database
    finally:
        database.close()


def who(db: Database, name: str, role: str) -> Principal:
    """A person with no competence record (the records are what these tests are about)."""
    with db.session() as session:
        return person(session, name, role, competent=False)


def _add(
    db: Database,
    username: str,
    by: Principal,
    *,
    competence: Competence = Competence.OPERATOR,
    passed: date = date(2026, 1, 10),
    expires: date = date(2027, 1, 10),
    course: str = "LFR operator course",
    separation_of_duties: bool = True,
) -> str:
    with db.session() as session:
        user = get_user_by_name(session, username)
        row = record_competence(
            session,
            user,
            competence=competence,
            course=course,
            passed_on=passed,
            expires_on=expires,
            by=by,
            now=NOW,
            separation_of_duties=separation_of_duties,
        )
        return row.id


def test_is_required_by_default() -> None:
    assert GovernanceConfig().require_competence is True


def test_a_supervisor_records_it_audited_and_a_new_record_supersedes_without_overwriting(db: Database) -> None:
    trainer = who(db, "trainer", "supervisor")
    ann = who(db, "ann", "operator")
    first = _add(db, "ann", trainer, passed=date(2025, 1, 10), expires=date(2026, 1, 10))
    second = _add(db, "ann", trainer, course="LFR operator refresher", passed=date(2026, 1, 5))
    with db.session() as session:
        history = competence_history(session, ann.id)
        assert [r.id for r in history] == [second, first]  # newest first; the first is kept, unchanged
        assert (history[1].course, history[1].expires_on) == ("LFR operator course", date(2026, 1, 10))
        assert [r.revision for r in history] == [2, 1]
        assert history[0].supersedes_id == first and history[1].supersedes_id is None
        assert {r.recorded_by for r in history} == {"trainer"}
        current = current_record(session, ann.id, Competence.OPERATOR)
        assert current is not None and current.id == second
        entries = list(iter_entries(session, action="user.competence.record", target_id=ann.id))
        assert [e.actor for e in entries] == ["user:trainer", "user:trainer"]
        assert entries[1].details["record_id"] == second and entries[1].details["supersedes"] == first
        assert entries[1].details["course"] == "LFR operator refresher"
        assert entries[1].details["expires_on"] == "2027-01-10"
        assert verify_chain(session).ok


def test_the_record_and_its_audit_entry_are_one_transaction(db: Database) -> None:
    trainer = who(db, "trainer", "supervisor")
    ann = who(db, "ann", "operator")
    with pytest.raises(RuntimeError), db.session() as session:
        record_competence(
            session,
            get_user_by_name(session, "ann"),
            competence=Competence.OPERATOR,
            course="LFR operator course",
            passed_on=date(2026, 1, 10),
            expires_on=date(2027, 1, 10),
            by=trainer,
            now=NOW,
        )
        raise RuntimeError("the caller fails before committing")
    with db.session() as session:
        assert competence_history(session, ann.id) == []
        assert list(iter_entries(session, action="user.competence.record")) == []


def test_who_may_record_it(db: Database) -> None:
    who(db, "ann", "operator")
    op = who(db, "bob", "operator")
    admin = who(db, "root", "admin")
    with pytest.raises(PermissionDeniedError):
        _add(db, "ann", op)
    with pytest.raises(PermissionDeniedError):
        _add(db, "ann", admin)
    who(db, "trainer", "supervisor")
    with db.session() as session:
        token = mint_token(session, "supervisor", NOW, owner="trainer")
        machine = authenticate_token(session, token, NOW)
    assert machine is not None
    with pytest.raises(PermissionDeniedError, match="person"):
        _add(db, "ann", machine)


def test_nobody_records_their_own_unless_separation_of_duties_is_off(db: Database) -> None:
    sue = who(db, "sue", "supervisor")
    with pytest.raises(SeparationOfDutiesError, match="another supervisor"):
        _add(db, "sue", sue, competence=Competence.SUPERVISOR)
    _add(db, "sue", sue, competence=Competence.SUPERVISOR, separation_of_duties=False)


@pytest.mark.parametrize(
    ("username", "competence", "changes", "message"),
    [
        ("ann", Competence.SUPERVISOR, {}, "supervisor accounts"),
        ("audrey", Competence.OPERATOR, {}, "operator and supervisor accounts"),
        ("ann", Competence.OPERATOR, {"course": "  "}, "course"),
        ("ann", Competence.OPERATOR, {"course": "x" * 201}, "course"),
        ("ann", Competence.OPERATOR, {"passed": TODAY + timedelta(days=1)}, "future"),
        ("ann", Competence.OPERATOR, {"expires": date(2026, 1, 10)}, "after"),
    ],
)
def test_refuses_records_that_mean_nothing(
    db: Database, username: str, competence: Competence, changes: dict[str, object], message: str
) -> None:
    trainer = who(db, "trainer", "supervisor")
    who(db, "ann", "operator")
    who(db, "audrey", "auditor")
    with pytest.raises(CompetenceInvalidError, match=message) as raised:
        _add(db, username, trainer, competence=competence, **changes)  # type: ignore[arg-type]
    assert raised.value.code == "competence_invalid"
    with db.session() as session:
        assert list(iter_entries(session, action="user.competence.record")) == []


def test_required_current_on_the_day(db: Database) -> None:
    trainer = who(db, "trainer", "supervisor")
    ann = who(db, "ann", "operator")
    with db.session() as session, pytest.raises(CompetenceRequiredError, match="no operator competence") as missing:
        require_competence(session, ann, Competence.OPERATOR, NOW)
    assert missing.value.code == "competence_required"
    _add(db, "ann", trainer, passed=date(2025, 12, 1), expires=TODAY)
    with db.session() as session:
        require_competence(session, ann, Competence.OPERATOR, NOW)  # the day of expiry still counts
        with pytest.raises(CompetenceExpiredError, match=f"expired on {TODAY.isoformat()}") as expired:
            require_competence(session, ann, Competence.OPERATOR, NOW + timedelta(days=1))
        assert expired.value.code == "competence_expired"
        assert isinstance(expired.value, CompetenceRequiredError)
        # An operator record is not a supervisor's.
        with pytest.raises(CompetenceRequiredError, match="no supervisor competence"):
            require_competence(session, ann, Competence.SUPERVISOR, NOW)
    # The newest record decides: a shorter one recorded later replaces a longer one.
    _add(db, "ann", trainer, passed=date(2025, 11, 1), expires=TODAY - timedelta(days=1))
    with db.session() as session, pytest.raises(CompetenceExpiredError):
        require_competence(session, ann, Competence.OPERATOR, NOW)


def test_a_principal_without_an_account_has_no_record(db: Database) -> None:
    with db.session() as session, pytest.raises(CompetenceRequiredError):
        require_competence(session, Principal.system("scheduler"), Competence.OPERATOR, NOW)


def test_helper_accounts_are_trained_unless_told_otherwise(db: Database) -> None:
    with db.session() as session:
        op = person(session, "op", "operator")
        sgt = person(session, "sergeant", "supervisor")
        require_competence(session, op, Competence.OPERATOR, NOW)
        require_competence(session, sgt, Competence.OPERATOR, NOW)  # supervisors decide escalations too
        require_competence(session, sgt, Competence.SUPERVISOR, NOW)
        untrained = person(session, "new", "operator", competent=False)
        with pytest.raises(CompetenceRequiredError):
            require_competence(session, untrained, Competence.OPERATOR, NOW)


def test_two_records_made_at_once_cannot_both_supersede_the_same_one(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The history stays a line: a record made from a stale view of the newest one is refused (409), nothing
    is audited for it, and the one that won is kept."""
    trainer = who(db, "trainer", "supervisor")
    ann = who(db, "ann", "operator")
    first = _add(db, "ann", trainer)
    _add(db, "ann", trainer, course="recorded by someone else meanwhile")
    with db.session() as session:
        stale = session.get(CompetenceRecord, first)
    monkeypatch.setattr("openlfr.auth.competence.current_record", lambda *_: stale)
    with pytest.raises(ConflictError, match="at the same time") as raised:
        _add(db, "ann", trainer, course="LFR operator refresher")
    assert raised.value.code == "conflict"
    with db.session() as session:
        assert [r.course for r in competence_history(session, ann.id)] == [
            "recorded by someone else meanwhile",
            "LFR operator course",
        ]
        assert len(list(iter_entries(session, action="user.competence.record"))) == 2
