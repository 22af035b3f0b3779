"""Deployment lifecycle, threshold policy and template destruction, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from openlfr.audit import iter_entries, verify_chain
from openlfr.config.governance import GovernanceConfig
from openlfr.config.models import Settings
from openlfr.deployments.notice import SignageNotPlacedError, record_placement
from openlfr.deployments.service import (
    authorise_deployment,
    cancel_deployment,
    create_deployment,
    deployment_dict,
    end_deployment,
    get_deployment,
    is_authorised,
    require_supervisor,
    start_deployment,
    update_deployment,
)
from openlfr.deployments.types import (
    DeploymentChanges,
    DeploymentError,
    DeploymentStateError,
    ThresholdOverride,
)
from openlfr.pipeline.thresholds import SFACE_INT8BQ
from openlfr.store.db import Database, open_database
from openlfr.store.errors import ConflictError
from openlfr.store.models import Snapshot, SnapshotTemplate
from tests.deployments.helpers import T0, add_user, make_snapshot, plan

DEFAULT = SFACE_INT8BQ.threshold  # the calibrated SFace default (one definition)

CONFIG = GovernanceConfig()


@pytest.fixture
def db(database_url: str, tmp_path: Path) -> Iterator[Database]:
    database = open_database(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        yield database
    finally:
        database.close()


def _create(db: Database, config: GovernanceConfig = CONFIG, **changes: object) -> str:
    with db.session() as session:
        snapshot = make_snapshot(session)
        override = changes.pop("override", None)
        deployment = create_deployment(
            session,
            plan(snapshot.fingerprint, **changes),
            actor="user:planner",
            created_by="planner",
            config=config,
            now=T0 - timedelta(days=1),
            override=override,  # type: ignore[arg-type]
        )
        return deployment.id


def _actions(db: Database, deployment_id: str) -> list[str]:
    with db.session() as session:
        return [r.action for r in iter_entries(session, target_id=deployment_id)]


def test_full_lifecycle_is_audited_and_ending_destroys_the_templates(db: Database) -> None:
    deployment_id = _create(db)
    with db.session() as session:
        deployment = get_deployment(session, deployment_id)
        assert (deployment.status, deployment.threshold, deployment.threshold_default) == (
            "draft",
            SFACE_INT8BQ.threshold,
            SFACE_INT8BQ.threshold,
        )
        assert deployment.watchlist_size == 3
        authorise_deployment(
            session, deployment_id, actor="user:sgt", supervisor="sgt", text="authorised: robbery series", now=T0
        )
    # A change after authorisation needs authorising again.
    with db.session() as session:
        changed = update_deployment(
            session,
            deployment_id,
            DeploymentChanges(planned_end=T0 + timedelta(hours=3)),
            actor="user:planner",
            config=CONFIG,
            now=T0,
        )
        assert changed.status == "draft" and not is_authorised(changed)
        assert deployment_dict(changed)["authorisation"]["current"] is False
        with pytest.raises(DeploymentStateError):
            start_deployment(session, deployment_id, actor="user:op", now=T0)
        authorise_deployment(session, deployment_id, actor="user:sgt", supervisor="sgt", text="re-authorised", now=T0)
        with pytest.raises(SignageNotPlacedError):
            start_deployment(session, deployment_id, actor="user:op", now=T0)
        record_placement(session, deployment_id, location="station exits", actor="user:op", now=T0)
        start_deployment(session, deployment_id, actor="user:op", now=T0)
    with db.session() as session, pytest.raises(DeploymentStateError, match="only draft or authorised"):
        update_deployment(
            session, deployment_id, DeploymentChanges(name="x"), actor="user:planner", config=CONFIG, now=T0
        )
    with db.session() as session:
        ended = end_deployment(session, deployment_id, actor="user:op", reason="operation complete", now=T0)
        snapshot_id = ended.snapshot_id
        assert (ended.status, ended.templates_destroyed) == ("ended", 3)
    with db.session() as session:
        assert session.scalar(select(func.count()).where(SnapshotTemplate.snapshot_id == snapshot_id)) == 0
        snapshot = session.get(Snapshot, snapshot_id)
        assert snapshot is not None and snapshot.template_count == 3  # the record of what was used remains
        assert verify_chain(session).ok
    assert _actions(db, deployment_id) == [
        "deployment.create",
        "deployment.authorise",
        "deployment.update",
        "deployment.authorise",
        "deployment.signage_placed",
        "deployment.start",
        "deployment.end",
    ]


def test_authorisation_needs_signage_and_text(db: Database) -> None:
    deployment_id = _create(db, signage_confirmed=False)
    with db.session() as session, pytest.raises(DeploymentError, match="signage"):
        authorise_deployment(session, deployment_id, actor="a", supervisor="sgt", text="ok", now=T0)
    with db.session() as session:
        update_deployment(
            session, deployment_id, DeploymentChanges(signage_confirmed=True), actor="a", config=CONFIG, now=T0
        )
    with db.session() as session, pytest.raises(DeploymentError, match="text"):
        authorise_deployment(session, deployment_id, actor="a", supervisor="sgt", text="  ", now=T0)


def test_threshold_below_the_minimum_needs_a_supervisor_override(db: Database) -> None:
    with pytest.raises(DeploymentError, match=re.escape(f"below the minimum {SFACE_INT8BQ.threshold:.3f}")):
        _create(db, threshold=0.40)
    deployment_id = _create(db, threshold=0.40, override=ThresholdOverride("sgt", "small crowd, short window"))
    with db.session() as session:
        data = deployment_dict(get_deployment(session, deployment_id))
        assert data["threshold"] == 0.40 and data["threshold_minimum"] == SFACE_INT8BQ.threshold
        assert data["threshold_override"]["by"] == "sgt"
        (override,) = [r for r in iter_entries(session, action="deployment.threshold_override")]
        assert override.details["reason"] == "small crowd, short window" and override.target_id == deployment_id
    # Raising it back above the minimum clears the override.
    with db.session() as session:
        update_deployment(session, deployment_id, DeploymentChanges(threshold=0.5), actor="a", config=CONFIG, now=T0)
        assert deployment_dict(get_deployment(session, deployment_id))["threshold_override"] is None


def test_configured_minimum_and_uncalibrated_models(db: Database) -> None:
    config = GovernanceConfig(minimum_thresholds={"sface-2021dec-int8bq": 0.42})
    deployment_id = _create(db, config, threshold=0.43)
    with db.session() as session:
        assert get_deployment(session, deployment_id).threshold_override_by is None
    with db.session() as session:
        other = make_snapshot(session, model="custom-arcface", weights="0" * 64)
        with pytest.raises(DeploymentError, match="no calibrated default"):
            create_deployment(session, plan(other.id), actor="a", created_by="a", config=CONFIG, now=T0)
        with pytest.raises(DeploymentError, match="below no minimum"):
            create_deployment(session, plan(other.id, threshold=0.6), actor="a", created_by="a", config=CONFIG, now=T0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"planned_end": T0}, "planned end must be after"),
        ({"camera_ids": ()}, "at least one camera"),
        ({"camera_ids": ("a", "a")}, "listed twice"),
        ({"legal_basis": " "}, "legal basis"),
        ({"latitude": 95.0}, "latitude"),
        ({"latitude": None}, "both latitude and longitude"),
    ],
)
def test_invalid_plans_are_refused(db: Database, changes: dict[str, object], message: str) -> None:
    with pytest.raises(DeploymentError, match=message):
        _create(db, **changes)


def test_a_snapshot_serves_one_deployment_and_lifecycle_rules_hold(db: Database) -> None:
    deployment_id = _create(db)
    with db.session() as session:
        fingerprint = get_deployment(session, deployment_id).snapshot_fingerprint
        with pytest.raises(ConflictError, match="belongs to deployment"):
            create_deployment(session, plan(fingerprint), actor="a", created_by="a", config=CONFIG, now=T0)
        with pytest.raises(DeploymentStateError):
            end_deployment(session, deployment_id, actor="a", reason="", now=T0)
        cancelled = cancel_deployment(session, deployment_id, actor="a", reason="intelligence changed", now=T0)
        assert (cancelled.status, cancelled.templates_destroyed) == ("cancelled", 3)
        with pytest.raises(DeploymentStateError):
            authorise_deployment(session, deployment_id, actor="a", supervisor="s", text="t", now=T0)


def test_require_supervisor_checks_the_account(db: Database) -> None:
    with db.session() as session:
        add_user(session, "sgt", "supervisor")
        add_user(session, "op", "operator")
    with db.session() as session:
        assert require_supervisor(session, "SGT") == "sgt"
        for name in ("op", "nobody"):
            with pytest.raises(DeploymentError, match="not an enabled supervisor"):
                require_supervisor(session, name)
