"""Retention: alerts past the period are purged with their images unless held; counts go to the audit chain."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from openlfr.alerts.db_store import DbAlertStore
from openlfr.alerts.event import AlertEvent
from openlfr.alerts.review import Decision, EngagementOutcome, adjudicate, alert_history, record_outcome
from openlfr.audit import iter_entries, verify_chain
from openlfr.auth.principal import Principal
from openlfr.cli import main
from openlfr.config.governance import GovernanceConfig
from openlfr.config.models import Settings
from openlfr.retention.purge import (
    HoldError,
    RetentionScheduler,
    held_alerts,
    lift_hold,
    place_hold,
    purge_alerts,
)
from openlfr.store.alert_models import AlertChange, AlertRecord
from openlfr.store.context import Store, open_store
from tests.deployments.helpers import alert_event, sgt
from tests.helpers.accounts import cli_sign_in, person
from tests.helpers.patching import Replace

SUPERVISOR = Principal.system("test")

NOW = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)


def _event(alert_id: str, age_days: float) -> AlertEvent:
    return alert_event(alert_id, age_days, NOW)


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[Store]:
    with open_store(Settings(data_dir=tmp_path, database_url=database_url)) as opened:
        alerts = DbAlertStore(opened.db, opened.media, deployment_id="d" * 32)
        for alert_id, age in (("old1", 40), ("old2", 32), ("held", 60), ("recent", 3)):
            alerts.append(_event(alert_id, age))
        yield opened


def _media_files(store: Store) -> int:
    return sum(1 for p in store.media.root.rglob("*") if p.is_file())


def test_purge_removes_old_alerts_and_their_images_but_keeps_held_and_recent(store: Store) -> None:
    with store.db.session() as session:
        place_hold(session, "held", by=sgt(session), reason="case 42/2026", now=NOW)
    assert _media_files(store) == 8
    result = purge_alerts(store, now=NOW, retention_days=31, by=SUPERVISOR)
    assert (result.alerts, result.media_files, result.held) == (2, 4, 1)
    with store.db.session() as session:
        assert sorted(session.scalars(select(AlertRecord.id))) == ["held", "recent"]
        (entry,) = list(iter_entries(session, action="retention.purge"))
        assert entry.details == {
            "cutoff": "2026-11-30T12:00:00.000000+00:00",
            "alerts": 2,
            "media_listed": 4,
            "held": 1,
            "retention_days": 31,
        }
        (files,) = list(iter_entries(session, action="media.delete"))
        assert (files.details["deleted"], files.details["failed"], files.details["pending"]) == (4, 0, 0)
    assert _media_files(store) == 4
    # Lifting the hold lets the next run purge it.
    with store.db.session() as session:
        lift_hold(session, "held", by=sgt(session), reason="case closed")
    assert purge_alerts(store, now=NOW, retention_days=31, by=SUPERVISOR).alerts == 1
    with store.db.session() as session:
        assert list(session.scalars(select(AlertRecord.id))) == ["recent"]
        assert [r.action for r in iter_entries(session, target_id="held")] == ["alert.hold", "alert.hold_lifted"]
        assert verify_chain(session).ok


def test_hold_rules(store: Store) -> None:
    with store.db.session() as session:
        with pytest.raises(HoldError, match="reason"):
            place_hold(session, "old1", by=sgt(session), reason=" ", now=NOW)
        place_hold(session, "old1", by=sgt(session), reason="court", now=NOW)
        with pytest.raises(HoldError, match="already"):
            place_hold(session, "old1", by=sgt(session), reason="again", now=NOW)
        with pytest.raises(HoldError, match="not on hold"):
            lift_hold(session, "old2", by=sgt(session), reason="")


def test_scheduled_runs_record_only_when_they_remove_something(store: Store) -> None:
    scheduler = RetentionScheduler(store, retention_days=31, interval_s=3600, clock=lambda: NOW)
    assert scheduler.run_once().alerts == 3
    assert scheduler.run_once().alerts == 0
    with store.db.session() as session:
        entries = list(iter_entries(session, action="retention.purge"))
    assert [(e.actor, e.details["alerts"]) for e in entries] == [("system:retention", 3)]


def test_cli_run_status_and_holds(
    store: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, replace_function: Replace
) -> None:
    url = store.db.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("LFR_DATA_DIR", str(store.media.root.parent))
    db = ["--db", url]
    replace_function("openlfr.utc.utcnow", lambda: NOW)
    assert main(["retention", "hold", "old1", "--reason", "x", *db]) == 1
    assert "not_signed_in" in capsys.readouterr().err
    cli_sign_in(url, store.media.root.parent, "op", "operator")
    assert main(["retention", "hold", "old1", "--reason", "x", *db]) == 1
    assert "retention:manage" in capsys.readouterr().err
    cli_sign_in(url, store.media.root.parent, "sgt", "supervisor")
    assert main(["retention", "hold", "old1", "--reason", "case 7", "--json", *db]) == 0
    assert json.loads(capsys.readouterr().out)["hold_by"] == "sgt"
    assert main(["retention", "holds", "--json", *db]) == 0
    assert [h["alert"] for h in json.loads(capsys.readouterr().out)["holds"]] == ["old1"]
    assert main(["retention", "run", "--json", *db]) == 0
    purged = json.loads(capsys.readouterr().out)
    assert (purged["retention_days"], purged["alerts"], purged["media_files"], purged["held"]) == (31, 2, 4, 1)
    assert main(["retention", "release", "old1", *db]) == 0
    assert "hold lifted" in capsys.readouterr().out
    assert main(["retention", "status", "--json", *db]) == 0
    assert json.loads(capsys.readouterr().out)["due"] == 1


def _engaged(store: Store, alert_id: str, outcome: EngagementOutcome, **kwargs: object) -> None:
    """An officer confirms the alert on the day and records what happened when they engaged."""
    with store.db.session() as session:
        officer = person(session, "ann", "operator")
        decided = adjudicate(session, alert_id, decision=Decision.CONFIRM, version=1, by=officer, now=NOW)
        record_outcome(
            session,
            alert_id,
            outcome=outcome,
            version=decided.version,
            by=officer,
            now=NOW,
            **kwargs,  # type: ignore[arg-type]
        )


def test_an_arrest_puts_the_alert_on_hold_and_the_purge_at_40_days_keeps_it(store: Store) -> None:
    _engaged(store, "old1", EngagementOutcome.ARRESTED)  # 40 days old
    _engaged(store, "old2", EngagementOutcome.SPOKEN_TO)  # 32 days old
    with store.db.session() as session:
        held = session.get(AlertRecord, "old1")
        assert held is not None and held.hold and held.hold_by == "ann"
        assert held.hold_reason is not None and "arrested" in held.hold_reason
        (entry,) = list(iter_entries(session, action="alert.hold", target_id="old1"))
        assert entry.actor == "user:ann" and entry.details["rule"] == "governance.evidence_outcomes"
    result = purge_alerts(store, now=NOW, retention_days=31, by=SUPERVISOR)
    assert (result.alerts, result.held) == (2, 1)  # old2 (32 days) and "held" (60 days, never held) go
    with store.db.session() as session:
        assert sorted(session.scalars(select(AlertRecord.id))) == ["old1", "recent"]
        # The purged alert's history went with it (alert data); the held one keeps all of its.
        assert sorted(set(session.scalars(select(AlertChange.alert_id)))) == ["old1"]
        assert len(alert_history(session, "old1")) == 2


def test_outcomes_named_in_the_configuration_make_an_alert_evidence(store: Store) -> None:
    config = GovernanceConfig(evidence_outcomes=["arrested", "no_action"])
    _engaged(store, "old1", EngagementOutcome.NO_ACTION, evidence_outcomes=config.evidence_outcomes)
    _engaged(store, "old2", EngagementOutcome.NOT_THE_PERSON, evidence_outcomes=config.evidence_outcomes)
    assert GovernanceConfig().evidence_outcomes == ["arrested"]
    with store.db.session() as session:
        assert [r.id for r in held_alerts(session)] == ["old1"]
    with pytest.raises(ValidationError):
        GovernanceConfig(evidence_outcomes=["shot"])  # type: ignore[list-item]
