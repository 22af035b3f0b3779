"""Outcomes that can record a mistake: adjudication and engagement are separate, either is amended with a
reason, every change is kept as history (who, when, what, why) and audited, and the published figures follow
the final state. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.alerts.test_db_store import event
from tests.helpers.accounts import person

from openlfr.alerts.db_store import DbAlertStore
from openlfr.alerts.review import (
    AlertStateError,
    Decision,
    EngagementOutcome,
    RejectReason,
    adjudicate,
    alert_history,
    record_outcome,
)
from openlfr.audit import iter_entries, verify_chain
from openlfr.auth.errors import SeparationOfDutiesError
from openlfr.config.models import Settings
from openlfr.deployments.figures import alert_figures
from openlfr.store.alert_models import AlertChange, AlertRecord
from openlfr.store.db import Database, open_database
from openlfr.store.media import MediaStore

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)
DEPLOYMENT = "d" * 32


@pytest.fixture
def db(database_url: str, tmp_path: Path) -> Iterator[Database]:
    opened = open_database(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        alerts = DbAlertStore(opened, MediaStore(tmp_path / "media"), deployment_id=DEPLOYMENT)
        for i in range(3):
            alerts.append(event(f"{i:032d}"))
        yield opened
    finally:
        opened.close()


A0, A1, A2 = (f"{i:032d}" for i in range(3))


def test_confirmed_then_not_the_person_when_spoken_to_counts_as_a_false_alert(db: Database) -> None:
    with db.session() as session:
        ann, bob = person(session, "ann", "operator"), person(session, "bob", "operator")
        adjudicate(session, A0, decision=Decision.CONFIRM, version=1, by=ann, now=NOW)
        found = record_outcome(session, A0, outcome=EngagementOutcome.NOT_THE_PERSON, version=2, by=bob, now=LATER)
        assert (found.status, found.outcome, found.outcome_by) == ("confirmed", "not_the_person", "bob")
    with db.session() as session:
        figures = alert_figures(session, DEPLOYMENT)
    # An officer engaged (confirmed) and it was not the person: false, confirmed; the third alert was never reviewed.
    assert (figures.alerts, figures.false_confirmed, figures.true_confirmed, figures.true_unconfirmed) == (3, 1, 0, 0)
    assert (figures.engagements, figures.arrests, figures.unreviewed) == (1, 0, 2)


def test_an_engagement_on_a_rejected_alert_is_recorded(db: Database) -> None:
    with db.session() as session:
        ann = person(session, "ann", "operator")
        adjudicate(
            session, A0, decision=Decision.REJECT, reason=RejectReason.DIFFERENT_PERSON, version=1, by=ann, now=NOW
        )
        engaged = record_outcome(session, A0, outcome=EngagementOutcome.SPOKEN_TO, version=2, by=ann, now=LATER)
        assert (engaged.status, engaged.outcome) == ("rejected", "spoken_to")
        # Before anyone decided it, there is nothing to engage on: the officer reviews first.
        with pytest.raises(AlertStateError, match="decide"):
            record_outcome(session, A1, outcome=EngagementOutcome.SPOKEN_TO, version=1, by=ann, now=LATER)
    with db.session() as session:
        figures = alert_figures(session, DEPLOYMENT)
    assert (figures.false_confirmed, figures.false_unconfirmed, figures.engagements) == (1, 0, 1)


def test_an_outcome_is_amended_with_a_reason_and_the_first_one_is_kept(db: Database) -> None:
    with db.session() as session:
        ann, bob = person(session, "ann", "operator"), person(session, "bob", "operator")
        adjudicate(session, A0, decision=Decision.CONFIRM, version=1, by=ann, now=NOW, note="same scar")
        record_outcome(session, A0, outcome=EngagementOutcome.SPOKEN_TO, version=2, by=ann, now=NOW)
        with pytest.raises(AlertStateError, match="amend"):
            record_outcome(session, A0, outcome=EngagementOutcome.ARRESTED, version=3, by=bob, now=LATER)
        for blank in ("", "   "):
            with pytest.raises(AlertStateError, match="reason"):
                record_outcome(
                    session, A0, outcome=EngagementOutcome.ARRESTED, version=3, by=bob, now=LATER,
                    amendment_reason=blank,
                )  # fmt: skip
        with pytest.raises(AlertStateError, match="already"):
            record_outcome(
                session, A0, outcome=EngagementOutcome.SPOKEN_TO, version=3, by=bob, now=LATER,
                amendment_reason="same again",
            )  # fmt: skip
        amended = record_outcome(
            session, A0, outcome=EngagementOutcome.ARRESTED, version=3, by=bob, now=LATER,
            amendment_reason="arrested on the warrant after the check",
        )  # fmt: skip
        assert (amended.outcome, amended.outcome_by, amended.version) == ("arrested", "bob", 4)
    with db.session() as session:
        history = alert_history(session, A0)
        assert [(h.kind, h.value, h.previous, h.changed_by, h.amended) for h in history] == [
            ("adjudication", "confirmed", "pending", "ann", False),
            ("engagement", "spoken_to", None, "ann", False),
            ("engagement", "arrested", "spoken_to", "bob", True),
        ]
        assert [h.note for h in history] == ["same scar", "", "arrested on the warrant after the check"]
        assert [h.at for h in history] == [NOW, NOW, LATER]
        assert [h.changed_by_account for h in history] == ["ann", "ann", "bob"]
        assert [h.version for h in history] == [2, 3, 4]
        outcomes = [(e.actor, e.details) for e in iter_entries(session, action="alert.outcome", target_id=A0)]
        assert outcomes == [
            ("user:ann", {"outcome": "spoken_to", "version": 3}),
            (
                "user:bob",
                {
                    "outcome": "arrested",
                    "version": 4,
                    "previous": "spoken_to",
                    "amendment_reason": "arrested on the warrant after the check",
                },
            ),
        ]
        assert verify_chain(session).ok


def test_a_decision_is_amended_with_a_reason_and_the_figures_follow(db: Database) -> None:
    with db.session() as session:
        ann, bob = person(session, "ann", "operator"), person(session, "bob", "operator")
        adjudicate(session, A0, decision=Decision.CONFIRM, version=1, by=ann, now=NOW)
        adjudicate(session, A1, decision=Decision.REJECT, reason=RejectReason.POOR_IMAGE, version=1, by=ann, now=NOW)
        with pytest.raises(AlertStateError, match="amend"):
            adjudicate(session, A0, decision=Decision.REJECT, reason=RejectReason.OTHER, version=2, by=bob, now=LATER)
        with pytest.raises(AlertStateError, match="escalate"):
            adjudicate(session, A0, decision=Decision.ESCALATE, version=2, by=bob, now=LATER, amendment_reason="unsure")
        with pytest.raises(AlertStateError, match="nothing to amend"):
            adjudicate(session, A2, decision=Decision.CONFIRM, version=1, by=bob, now=LATER, amendment_reason="x")
        wrong = adjudicate(
            session, A0, decision=Decision.REJECT, reason=RejectReason.DIFFERENT_PERSON, version=2, by=bob,
            now=LATER, amendment_reason="custody record shows a different date of birth",
        )  # fmt: skip
        assert (wrong.status, wrong.reject_reason, wrong.adjudicated_by, wrong.version) == (
            "rejected",
            "different_person",
            "bob",
            3,
        )
        # A rejection's reason code is amended too; the same decision again is refused.
        with pytest.raises(AlertStateError, match="already"):
            adjudicate(
                session, A0, decision=Decision.REJECT, reason=RejectReason.DIFFERENT_PERSON, version=3, by=bob,
                now=LATER, amendment_reason="again",
            )  # fmt: skip
        recoded = adjudicate(
            session, A0, decision=Decision.REJECT, reason=RejectReason.NOT_ON_SCENE, version=3, by=bob, now=LATER,
            amendment_reason="he was never at that entrance",
        )  # fmt: skip
        assert (recoded.status, recoded.reject_reason, recoded.version) == ("rejected", "not_on_scene", 4)
        right = adjudicate(
            session, A1, decision=Decision.CONFIRM, version=2, by=bob, now=LATER,
            amendment_reason="a clearer frame from the second camera",
        )  # fmt: skip
        assert (right.status, right.reject_reason) == ("confirmed", None)
    with db.session() as session:
        figures = alert_figures(session, DEPLOYMENT)
        assert (figures.true_unconfirmed, figures.false_unconfirmed, figures.unreviewed) == (1, 1, 1)
        first = alert_history(session, A0)
        assert [(h.value, h.previous, h.reject_reason, h.amended) for h in first] == [
            ("confirmed", "pending", None, False),
            ("rejected", "confirmed", "different_person", True),
            ("rejected", "rejected", "not_on_scene", True),
        ]
        entries = [e.details for e in iter_entries(session, action="alert.adjudicate", target_id=A0)]
        assert entries[1] == {
            "decision": "reject",
            "version": 3,
            "reason": "different_person",
            "previous": "confirmed",
            "amendment_reason": "custody record shows a different date of birth",
        }


def test_separation_of_duties_holds_for_amendments(db: Database) -> None:
    with db.session() as session:
        ann, sue = person(session, "ann", "operator"), person(session, "sue", "supervisor")
        adjudicate(session, A0, decision=Decision.ESCALATE, version=1, by=ann, now=NOW)
        with pytest.raises(SeparationOfDutiesError):
            adjudicate(session, A0, decision=Decision.CONFIRM, version=2, by=ann, now=NOW)
        adjudicate(session, A0, decision=Decision.CONFIRM, version=2, by=sue, now=NOW)
        # The officer who escalated cannot undo the other officer's decision by amending it.
        with pytest.raises(SeparationOfDutiesError):
            adjudicate(
                session, A0, decision=Decision.REJECT, reason=RejectReason.OTHER, version=3, by=ann, now=LATER,
                amendment_reason="I still think not",
            )  # fmt: skip
        amended = adjudicate(
            session, A0, decision=Decision.REJECT, reason=RejectReason.OTHER, version=3, by=sue, now=LATER,
            amendment_reason="second look",
        )  # fmt: skip
        assert amended.status == "rejected"
        assert [h.value for h in alert_history(session, A0)] == ["escalated", "confirmed", "rejected"]


def test_history_is_deleted_with_its_alert(db: Database) -> None:
    """The history is alert data: it goes when the alert row goes (purge, erasure), never before."""
    with db.session() as session:
        ann = person(session, "ann", "operator")
        adjudicate(session, A0, decision=Decision.CONFIRM, version=1, by=ann, now=NOW)
        assert len(list(session.scalars(select(AlertChange)))) == 1
    with db.session() as session:
        session.delete(session.get(AlertRecord, A0))
    with db.session() as session:
        assert list(session.scalars(select(AlertChange))) == []


def test_the_configuration_names_the_outcomes_the_domain_records() -> None:
    from typing import get_args

    from openlfr.config.governance import EngagementOutcomeName

    assert set(get_args(EngagementOutcomeName)) == {o.value for o in EngagementOutcome}
