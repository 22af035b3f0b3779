"""Signage placements: recognition may not start until signs are recorded as put up (who, where, when), on
SQLite and PostgreSQL; the scheduler refuses a live deployment without one too."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from openlfr.audit import iter_entries, verify_chain
from openlfr.audit.chain import iso_utc
from openlfr.auth.errors import PermissionDeniedError
from openlfr.config.governance import GovernanceConfig
from openlfr.config.models import Settings
from openlfr.deployments.notice import (
    SignageNotPlacedError,
    list_placements,
    record_placement,
    signed_deployments,
)
from openlfr.deployments.scheduler import DeploymentScheduler
from openlfr.deployments.service import (
    authorise_deployment,
    cancel_deployment,
    create_deployment,
    end_deployment,
    get_deployment,
    start_deployment,
)
from openlfr.deployments.types import DeploymentError, DeploymentStateError
from openlfr.store.db import Database, open_database
from openlfr.store.errors import NotFoundError
from openlfr.store.governance_models import Deployment
from tests.deployments.helpers import T0, FakeController, make_snapshot, plan, planner, sgt
from tests.helpers.accounts import person


@pytest.fixture
def db(database_url: str, tmp_path: Path) -> Iterator[Database]:
    database = open_database(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        yield database
    finally:
        database.close()


def _authorised(db: Database, **changes: object) -> str:
    with db.session() as session:
        snapshot = make_snapshot(session)
        deployment = create_deployment(
            session,
            plan(snapshot.id, **changes),
            by=planner(session),
            config=GovernanceConfig(),
            now=T0 - timedelta(days=1),
        )
        authorise_deployment(
            session, deployment.id, by=sgt(session), text="ok", config=GovernanceConfig(), now=T0 - timedelta(hours=2)
        )
        return deployment.id


def test_start_is_refused_until_a_placement_is_recorded_and_the_placement_is_audited(db: Database) -> None:
    deployment_id = _authorised(db)
    with db.session() as session, pytest.raises(SignageNotPlacedError, match="no signs are recorded"):
        start_deployment(session, deployment_id, by=person(session, "op", "operator"), now=T0 - timedelta(minutes=30))
    with db.session() as session:
        assert get_deployment(session, deployment_id).status == "authorised"  # nothing changed
        placement = record_placement(
            session,
            deployment_id,
            location="  High Street,\n both ends of the pedestrian zone ",
            by=person(session, "pc.ahmed", "operator"),
            now=T0 - timedelta(minutes=40),
            placed_at=T0 - timedelta(minutes=50),
        )
    assert placement.location == "High Street, both ends of the pedestrian zone"
    assert placement.placed_by == "pc.ahmed"  # the signed-in person who recorded it
    assert (placement.placed_at, placement.recorded_at) == (T0 - timedelta(minutes=50), T0 - timedelta(minutes=40))
    with db.session() as session:
        start_deployment(session, deployment_id, by=person(session, "op", "operator"), now=T0 - timedelta(minutes=30))
        # More signs while it runs are recorded too.
        record_placement(
            session, deployment_id, location="station exit B", by=person(session, "pc.lee", "operator"), now=T0
        )
    with db.session() as session:
        assert [p.location for p in list_placements(session, deployment_id)] == [
            "High Street, both ends of the pedestrian zone",
            "station exit B",
        ]
        entries = [e for e in iter_entries(session, target_id=deployment_id) if e.action == "deployment.signage_placed"]
        assert [(e.actor, e.details["location"]) for e in entries] == [
            ("user:pc.ahmed", "High Street, both ends of the pedestrian zone"),
            ("user:pc.lee", "station exit B"),
        ]
        assert entries[0].details["placed_at"] == iso_utc(T0 - timedelta(minutes=50))
        assert entries[0].details["placement"] == placement.id
        assert verify_chain(session).ok


def test_an_auditor_cannot_record_signs(db: Database) -> None:
    deployment_id = _authorised(db)
    with db.session() as session, pytest.raises(PermissionDeniedError, match="deployments:manage"):
        record_placement(session, deployment_id, location="forecourt", by=person(session, "aud", "auditor"), now=T0)
    with db.session() as session:
        assert list_placements(session, deployment_id) == []


def test_signage_confirmed_still_gates_authorisation(db: Database) -> None:
    with db.session() as session:
        snapshot = make_snapshot(session)
        deployment = create_deployment(
            session,
            plan(snapshot.id, signage_confirmed=False),
            by=planner(session),
            config=GovernanceConfig(),
            now=T0 - timedelta(days=1),
        )
        record_placement(session, deployment.id, location="forecourt", by=planner(session), now=T0 - timedelta(days=1))
        with pytest.raises(DeploymentError, match="signage must be confirmed"):
            authorise_deployment(session, deployment.id, by=sgt(session), text="ok", config=GovernanceConfig(), now=T0)


@pytest.mark.parametrize(
    ("location", "placed_at", "message"),
    [
        ("   ", None, "say where the signs were put up"),
        ("x" * 501, None, "longer than 500"),
        ("forecourt", T0 + timedelta(minutes=1), "in the future"),
    ],
)
def test_a_placement_needs_a_place_and_a_time_that_has_passed(
    db: Database, location: str, placed_at: object, message: str
) -> None:
    deployment_id = _authorised(db)
    with db.session() as session, pytest.raises(DeploymentError, match=message):
        record_placement(session, deployment_id, location=location, by=planner(session), now=T0, placed_at=placed_at)  # type: ignore[arg-type]
    with db.session() as session:
        assert list_placements(session, deployment_id) == []
        assert "deployment.signage_placed" not in [e.action for e in iter_entries(session, target_id=deployment_id)]


def test_no_placement_for_an_ended_cancelled_or_unknown_deployment(db: Database) -> None:
    cancelled = _authorised(db)
    ended = _authorised(db)
    with db.session() as session:
        cancel_deployment(session, cancelled, by=planner(session), reason="called off", now=T0 - timedelta(hours=1))
        record_placement(session, ended, location="forecourt", by=planner(session), now=T0 - timedelta(hours=1))
        start_deployment(session, ended, by=planner(session), now=T0 - timedelta(hours=1))
        end_deployment(session, ended, by=planner(session), reason="done", now=T0)
    for deployment_id in (cancelled, ended):
        with db.session() as session, pytest.raises(DeploymentStateError, match="signs are recorded for a draft"):
            record_placement(session, deployment_id, location="forecourt", by=planner(session), now=T0)
    with db.session() as session, pytest.raises(NotFoundError):
        record_placement(session, "nope", location="forecourt", by=planner(session), now=T0)
    with db.session() as session, pytest.raises(DeploymentError, match="after the planned end"):
        late = _authorised(db)
        record_placement(session, late, location="x", by=planner(session), now=T0 + timedelta(hours=5))


def test_the_scheduler_starts_no_recognition_for_a_live_deployment_without_signs(db: Database) -> None:
    deployment_id = _authorised(db)
    with db.session() as session:
        # A deployment made live before placements existed (or by a direct database edit).
        session.execute(update(Deployment).where(Deployment.id == deployment_id).values(status="live", started_at=T0))
    controller = FakeController()
    now = [T0 + timedelta(minutes=5)]
    scheduler = DeploymentScheduler(db, controller, clock=lambda: now[0])
    first = scheduler.tick()
    assert first.failed == (deployment_id,) and first.started == ()
    assert scheduler.tick().failed == (deployment_id,)  # refused again, recorded once
    assert controller.calls == [] and controller.running == {}
    with db.session() as session:
        failures = [e for e in iter_entries(session, target_id=deployment_id) if e.action == "deployment.start_failed"]
        assert [(e.actor, e.details["error"]) for e in failures] == [("system:scheduler", "signage_not_placed")]
        assert signed_deployments(session, [deployment_id]) == frozenset()
        record_placement(session, deployment_id, location="forecourt", by=person(session, "op", "operator"), now=now[0])
    assert scheduler.tick().started == (deployment_id,)
    assert controller.calls == [f"start {deployment_id}"]
