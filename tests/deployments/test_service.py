"""Deployment lifecycle, threshold policy and template destruction, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from openlfr.audit import iter_entries, verify_chain
from openlfr.auth.competence import Competence, record_competence
from openlfr.auth.errors import (
    CompetenceExpiredError,
    CompetenceRequiredError,
    PermissionDeniedError,
    SeparationOfDutiesError,
)
from openlfr.auth.principal import Principal
from openlfr.auth.users import get_user_by_name
from openlfr.config.governance import GovernanceConfig
from openlfr.config.models import Settings
from openlfr.deployments.calibrations import save_calibration
from openlfr.deployments.notice import SignageNotPlacedError, record_placement
from openlfr.deployments.service import (
    authorise_deployment,
    cancel_deployment,
    create_deployment,
    deployment_dict,
    end_deployment,
    get_deployment,
    is_authorised,
    start_deployment,
    update_deployment,
)
from openlfr.deployments.types import DeploymentChanges, DeploymentError, DeploymentStateError, ThresholdReasons
from openlfr.pipeline.thresholds import SFACE_INT8BQ, SFACE_INT8BQ_NO_FLIP, SFACE_INT8BQ_TAIL
from openlfr.store.db import Database, open_database
from openlfr.store.errors import ConflictError
from openlfr.store.models import Snapshot, SnapshotTemplate
from tests.deployments.helpers import T0, calibration_report, make_snapshot, plan
from tests.helpers.accounts import mint_token, person

CONFIG = GovernanceConfig()
# make_snapshot holds 3 templates: the shipped SFace calibration's threshold for 3 comparisons.
FLOOR3 = round(SFACE_INT8BQ_TAIL.threshold_for_size(3), 4)


@pytest.fixture
def db(database_url: str, tmp_path: Path) -> Iterator[Database]:
    database = open_database(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        yield database
    finally:
        database.close()


def who(db: Database, name: str, role: str) -> Principal:
    with db.session() as session:
        return person(session, name, role)


def _create(db: Database, config: GovernanceConfig = CONFIG, by: str = "planner", **changes: object) -> str:
    planner = who(db, by, "operator" if by == "planner" else "supervisor")
    with db.session() as session:
        snapshot = make_snapshot(session)
        reasons = changes.pop("reasons", ThresholdReasons())
        deployment = create_deployment(
            session,
            plan(snapshot.fingerprint, **changes),
            by=planner,
            config=config,
            now=T0 - timedelta(days=1),
            reasons=reasons,  # type: ignore[arg-type]
        )
        return deployment.id


def _actions(db: Database, deployment_id: str) -> list[str]:
    with db.session() as session:
        return [r.action for r in iter_entries(session, target_id=deployment_id)]


def test_full_lifecycle_is_audited_and_ending_destroys_the_templates(db: Database) -> None:
    deployment_id = _create(db)
    planner, sgt, op = who(db, "planner", "operator"), who(db, "sgt", "supervisor"), who(db, "op", "operator")
    with db.session() as session:
        deployment = get_deployment(session, deployment_id)
        assert (deployment.status, deployment.threshold, deployment.threshold_default) == ("draft", FLOOR3, FLOOR3)
        assert (deployment.created_by, deployment.created_by_account, deployment.watchlist_size) == (
            "planner",
            "planner",
            3,
        )
        authorise_deployment(session, deployment_id, by=sgt, text="authorised: robbery series", config=CONFIG, now=T0)
        assert deployment.authorised_by == "sgt"
    # A change after authorisation needs authorising again.
    with db.session() as session:
        changed = update_deployment(
            session,
            deployment_id,
            DeploymentChanges(planned_end=T0 + timedelta(hours=3)),
            by=planner,
            config=CONFIG,
            now=T0,
        )
        assert changed.status == "draft" and not is_authorised(changed)
        assert deployment_dict(changed)["authorisation"]["current"] is False
        with pytest.raises(DeploymentStateError):
            start_deployment(session, deployment_id, by=op, now=T0)
        authorise_deployment(session, deployment_id, by=sgt, text="re-authorised", config=CONFIG, now=T0)
        with pytest.raises(SignageNotPlacedError):
            start_deployment(session, deployment_id, by=op, now=T0)
        record_placement(session, deployment_id, location="station exits", by=op, now=T0)
        start_deployment(session, deployment_id, by=op, now=T0)
    with db.session() as session, pytest.raises(DeploymentStateError, match="only draft or authorised"):
        update_deployment(session, deployment_id, DeploymentChanges(name="x"), by=planner, config=CONFIG, now=T0)
    with db.session() as session:
        ended = end_deployment(session, deployment_id, by=op, reason="operation complete", now=T0)
        snapshot_id = ended.snapshot_id
        assert (ended.status, ended.templates_destroyed) == ("ended", 3)
    with db.session() as session:
        assert session.scalar(select(func.count()).where(SnapshotTemplate.snapshot_id == snapshot_id)) == 0
        snapshot = session.get(Snapshot, snapshot_id)
        assert snapshot is not None and snapshot.template_count == 3  # the record of what was used remains
        assert verify_chain(session).ok
        actors = [r.actor for r in iter_entries(session, target_id=deployment_id)]
    assert _actions(db, deployment_id) == [
        "deployment.create",
        "deployment.authorise",
        "deployment.update",
        "deployment.authorise",
        "deployment.signage_placed",
        "deployment.start",
        "deployment.end",
    ]
    assert actors == ["user:planner", "user:sgt", "user:planner", "user:sgt", "user:op", "user:op", "user:op"]


def test_authorisation_needs_signage_and_text(db: Database) -> None:
    deployment_id = _create(db, signage_confirmed=False)
    sgt = who(db, "sgt", "supervisor")
    with db.session() as session, pytest.raises(DeploymentError, match="signage"):
        authorise_deployment(session, deployment_id, by=sgt, text="ok", config=CONFIG, now=T0)
    with db.session() as session:
        update_deployment(
            session, deployment_id, DeploymentChanges(signage_confirmed=True), by=sgt, config=CONFIG, now=T0
        )
    with db.session() as session, pytest.raises(DeploymentError, match="text"):
        authorise_deployment(session, deployment_id, by=sgt, text="  ", config=CONFIG, now=T0)


def test_the_creator_cannot_authorise_nor_override_and_a_token_counts_as_its_creator(db: Database) -> None:
    deployment_id = _create(db, by="sgt")  # a supervisor plans it
    sgt, sgt2 = who(db, "sgt", "supervisor"), who(db, "sgt2", "supervisor")
    with db.session() as session, pytest.raises(SeparationOfDutiesError, match="created this deployment"):
        authorise_deployment(session, deployment_id, by=sgt, text="ok", config=CONFIG, now=T0)
    with pytest.raises(SeparationOfDutiesError), db.session() as session:  # rolled back
        reasons = ThresholdReasons(override="small crowd")
        changes = DeploymentChanges(threshold=0.40)
        update_deployment(session, deployment_id, changes, by=sgt, config=CONFIG, now=T0, reasons=reasons)
    # A token sgt minted is sgt, for separation of duties — and it cannot authorise anyway (a person must).
    with db.session() as session:
        from openlfr.auth.tokens import authenticate_token

        token = mint_token(session, "supervisor", T0, name="sgt-script", owner="sgt")
        machine = authenticate_token(session, token, T0)
        assert machine is not None and machine.account == "sgt" and machine.label == "token:sgt-script"
    with db.session() as session, pytest.raises(PermissionDeniedError, match="signed-in person"):
        authorise_deployment(session, deployment_id, by=machine, text="ok", config=CONFIG, now=T0)
    with db.session() as session:
        authorise_deployment(session, deployment_id, by=sgt2, text="ok", config=CONFIG, now=T0)
    # Separation of duties off (documented setting): one supervisor may do both.
    solo = GovernanceConfig(separation_of_duties=False)
    other = _create(db, by="sgt")
    with db.session() as session:
        assert authorise_deployment(session, other, by=sgt, text="ok", config=solo, now=T0).authorised_by == "sgt"


def test_authorising_needs_a_current_supervisor_record(db: Database) -> None:
    """Issue 12 §6: an untrained (or expired) supervisor's authorisation is refused with a stable code and the
    deployment stays a draft, unaudited; ``governance.require_competence`` off lifts the requirement."""
    deployment_id = _create(db)
    trainer = who(db, "trainer", "supervisor")
    with db.session() as session:
        chief = person(session, "chief", "supervisor", competent=False)
    with db.session() as session, pytest.raises(CompetenceRequiredError, match="no supervisor competence") as missing:
        authorise_deployment(session, deployment_id, by=chief, text="ok", config=CONFIG, now=T0)
    assert missing.value.code == "competence_required"
    with db.session() as session:
        # An operator record (reviewing alerts) is not an authorising officer's.
        for competence, expires in ((Competence.OPERATOR, date(2027, 1, 1)), (Competence.SUPERVISOR, T0.date())):
            record_competence(
                session, get_user_by_name(session, "chief"), competence=competence, course="LFR course",
                passed_on=date(2026, 1, 1), expires_on=expires, by=trainer, now=T0,
            )  # fmt: skip
    later = T0 + timedelta(days=1)
    with db.session() as session:
        get_deployment(session, deployment_id).planned_end = later + timedelta(hours=4)
    with db.session() as session, pytest.raises(CompetenceExpiredError, match=f"expired on {T0.date().isoformat()}"):
        authorise_deployment(session, deployment_id, by=chief, text="ok", config=CONFIG, now=later)
    assert "deployment.authorise" not in _actions(db, deployment_id)
    with db.session() as session:
        assert get_deployment(session, deployment_id).status == "draft"
        lenient = GovernanceConfig(require_competence=False)
        authorise_deployment(session, deployment_id, by=chief, text="ok", config=lenient, now=later)
    other = _create(db)
    with db.session() as session:  # trained on the day of expiry: it still counts
        assert authorise_deployment(session, other, by=chief, text="ok", config=CONFIG, now=T0).status == "authorised"


def test_an_operator_cannot_authorise_or_override(db: Database) -> None:
    deployment_id = _create(db)
    op = who(db, "op", "operator")
    with db.session() as session, pytest.raises(PermissionDeniedError, match="deployments:authorise"):
        authorise_deployment(session, deployment_id, by=op, text="ok", config=CONFIG, now=T0)
    with pytest.raises(PermissionDeniedError), db.session() as session:
        reasons = ThresholdReasons(override="r")
        update_deployment(
            session, deployment_id, DeploymentChanges(threshold=0.3), by=op, config=CONFIG, now=T0, reasons=reasons
        )


def test_threshold_below_the_floor_needs_another_supervisors_override(db: Database) -> None:
    with pytest.raises(DeploymentError, match=rf"below the floor {FLOOR3:.4f}"):
        _create(db, threshold=0.40)
    deployment_id = _create(db)
    sgt = who(db, "sgt", "supervisor")
    with db.session() as session:
        reasons = ThresholdReasons(override="small crowd, short window")
        changes = DeploymentChanges(threshold=0.40)
        update_deployment(session, deployment_id, changes, by=sgt, config=CONFIG, now=T0, reasons=reasons)
    with db.session() as session:
        data = deployment_dict(get_deployment(session, deployment_id))
        assert data["threshold"] == 0.40 and data["threshold_minimum"] == FLOOR3
        assert data["threshold_override"]["by"] == "sgt"
        (override,) = [r for r in iter_entries(session, action="deployment.threshold_override")]
        assert override.details["reason"] == "small crowd, short window" and override.target_id == deployment_id
        assert override.actor == "user:sgt"
    # Raising it back above the floor clears the override.
    with db.session() as session:
        update_deployment(session, deployment_id, DeploymentChanges(threshold=0.5), by=sgt, config=CONFIG, now=T0)
        assert deployment_dict(get_deployment(session, deployment_id))["threshold_override"] is None


def test_configuration_raises_the_floor_but_never_lowers_it(db: Database) -> None:
    # The finding: LFR_GOVERNANCE__MINIMUM_THRESHOLDS='{"sface-2021dec-int8bq":0.05}' gave threshold 0.1 with no
    # override and no audit entry.
    lowered = GovernanceConfig(minimum_thresholds={"sface-2021dec-int8bq": 0.05})
    with pytest.raises(DeploymentError, match="below the floor"):
        _create(db, lowered, threshold=0.1)
    assert _create(db, lowered) != ""  # the default is the calibrated floor, not 0.05
    raised = GovernanceConfig(minimum_thresholds={"sface-2021dec-int8bq": 0.6})
    with pytest.raises(DeploymentError, match=r"below the floor 0\.6000"):
        _create(db, raised, threshold=0.5)
    deployment_id = _create(db, raised)
    with db.session() as session:
        assert get_deployment(session, deployment_id).threshold == 0.6


def test_the_default_grows_with_the_watchlist_size(db: Database) -> None:
    planner = who(db, "planner", "operator")
    thresholds = {}
    for size in (3, 30):
        with db.session() as session:
            snapshot = make_snapshot(session, templates=size)
            deployment = create_deployment(session, plan(snapshot.id), by=planner, config=CONFIG, now=T0)
            thresholds[size] = deployment.threshold
    assert thresholds[3] == FLOOR3 < thresholds[30] == round(SFACE_INT8BQ_TAIL.threshold_for_size(30), 4)


@pytest.mark.slow
def test_the_default_follows_the_tail_of_the_snapshots_own_set_up(db: Database) -> None:
    planner = who(db, "planner", "operator")
    thresholds = {}
    for set_up in (SFACE_INT8BQ, SFACE_INT8BQ_NO_FLIP):
        with db.session() as session:
            snapshot = make_snapshot(session, templates=1000)
            snapshot.preprocessing = set_up.preprocessing
            deployment = create_deployment(session, plan(snapshot.id), by=planner, config=CONFIG, now=T0)
            assert set_up.tail is not None
            thresholds[set_up.preprocessing] = (deployment.threshold, round(set_up.tail.threshold_for_size(1000), 4))
    assert all(got == expected for got, expected in thresholds.values())
    assert len({got for got, _ in thresholds.values()}) == 2  # the two set-ups' tails differ


def test_uncalibrated_models_need_an_override_for_any_threshold(db: Database) -> None:
    planner, sgt = who(db, "planner", "operator"), who(db, "sgt", "supervisor")
    with db.session() as session:
        other = make_snapshot(session, model="custom-arcface", weights="0" * 64)
        with pytest.raises(DeploymentError, match="no calibrated threshold"):
            create_deployment(session, plan(other.id), by=planner, config=CONFIG, now=T0)
        with pytest.raises(DeploymentError, match="below no floor"):
            create_deployment(session, plan(other.id, threshold=0.6), by=planner, config=CONFIG, now=T0)
    with db.session() as session:
        other = make_snapshot(session, model="custom-arcface", weights="0" * 64)
        created = create_deployment(
            session,
            plan(other.id, threshold=0.6),
            by=planner,
            config=GovernanceConfig(minimum_thresholds={"custom-arcface": 0.55}),
            now=T0,
        )
        assert created.threshold_minimum == 0.55
    del sgt


def test_a_saved_calibration_sets_the_floor_and_its_equity_range_needs_a_justification(db: Database) -> None:
    sgt, planner = who(db, "sgt", "supervisor"), who(db, "planner", "operator")
    report = calibration_report(watchlist_size=100, passers_by=60_000, false_alerts=1, equity=(0.40, 0.60))
    with db.session() as session:
        saved = save_calibration(session, report, by=sgt, now=T0)
        (entry,) = list(iter_entries(session, action="calibration.save"))
        assert entry.actor == "user:sgt" and entry.target_id == saved.id
    with db.session() as session, pytest.raises(PermissionDeniedError):
        save_calibration(session, report, by=planner, now=T0)
    budget = replace(SFACE_INT8BQ_TAIL, passers_by=60_000, false_alerts=1.0)
    stricter = round(budget.threshold_for_size(3), 4)
    assert stricter > FLOOR3
    deployment_id = _create(db)
    with db.session() as session:
        deployment = get_deployment(session, deployment_id)
        assert (deployment.threshold, deployment.threshold_calibration_id) == (stricter, saved.id)
        with pytest.raises(DeploymentError, match="below the floor"):
            changes = DeploymentChanges(threshold=FLOOR3)
            update_deployment(session, deployment_id, changes, by=planner, config=CONFIG, now=T0)
    with db.session() as session, pytest.raises(DeploymentError, match="equity range"):
        changes = DeploymentChanges(threshold=0.65)
        update_deployment(session, deployment_id, changes, by=planner, config=CONFIG, now=T0)
    with db.session() as session:
        reasons = ThresholdReasons(equity="large crowd: fewer false alerts matter more here")
        changes = DeploymentChanges(threshold=0.65)
        update_deployment(session, deployment_id, changes, by=planner, config=CONFIG, now=T0, reasons=reasons)
    with db.session() as session:
        data = deployment_dict(get_deployment(session, deployment_id))
        assert data["threshold_equity_justification"]["by"] == "planner"
        (entry,) = list(iter_entries(session, action="deployment.threshold_equity_justification"))
        assert entry.details["justification"].startswith("large crowd")


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
@pytest.mark.slow
def test_invalid_plans_are_refused(db: Database, changes: dict[str, object], message: str) -> None:
    with pytest.raises(DeploymentError, match=message):
        _create(db, **changes)


def test_a_snapshot_serves_one_deployment_and_lifecycle_rules_hold(db: Database) -> None:
    deployment_id = _create(db)
    planner, sgt = who(db, "planner", "operator"), who(db, "sgt", "supervisor")
    with db.session() as session:
        fingerprint = get_deployment(session, deployment_id).snapshot_fingerprint
        with pytest.raises(ConflictError, match="belongs to deployment"):
            create_deployment(session, plan(fingerprint), by=planner, config=CONFIG, now=T0)
        with pytest.raises(DeploymentStateError):
            end_deployment(session, deployment_id, by=planner, reason="", now=T0)
        cancelled = cancel_deployment(session, deployment_id, by=planner, reason="intelligence changed", now=T0)
        assert (cancelled.status, cancelled.templates_destroyed) == ("cancelled", 3)
        with pytest.raises(DeploymentStateError):
            authorise_deployment(session, deployment_id, by=sgt, text="t", config=CONFIG, now=T0)


def test_an_auditor_cannot_plan_a_deployment(db: Database) -> None:
    auditor = who(db, "aud", "auditor")
    with db.session() as session, pytest.raises(PermissionDeniedError, match="deployments:manage"):
        snapshot = make_snapshot(session)
        create_deployment(session, plan(snapshot.id), by=auditor, config=CONFIG, now=T0)
