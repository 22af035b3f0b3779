"""Deployments: create, change, authorise, start, end, cancel — every step checked against the principal
doing it and written to the audit chain in the same transaction.

Lifecycle: draft → authorised → live → ended, or draft/authorised → cancelled. Any change to an authorised
deployment sends it back to draft: it needs authorising again. A live deployment cannot be changed (end it).
Ending or cancelling destroys the deployment's copy of the watchlist templates (``snapshot_template`` rows);
the snapshot record with its fingerprint and counts stays, and so does the deployment record.

Who: each function takes the authenticated ``Principal`` and checks its permission here, whoever calls
(API, CLI, console, scheduler). The records name it (``by`` fields hold ``Principal.label``), never a typed
name. Separation of duties (``governance.separation_of_duties``, on by default): the person who created a
deployment — a token counts as its creator — can neither authorise it nor override its threshold.

Threshold policy: the floor is the threshold calibrated for the snapshot's size (the newest calibration a
supervisor saved for the model, else the model's shipped one; ``openlfr.deployments.calibrations``), raised —
never lowered — by ``governance.minimum_thresholds``. A new deployment gets the floor by default. A threshold
below the floor needs a supervisor's override with a reason; a threshold outside the saved calibration's
equity range needs a justification; both are kept on the record and in the audit chain.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from openlfr.audit import append_audit
from openlfr.audit.chain import iso_utc
from openlfr.auth.competence import Competence, require_competence
from openlfr.auth.errors import SeparationOfDutiesError
from openlfr.auth.permissions import Permission
from openlfr.auth.principal import Principal, same_person
from openlfr.config.governance import GovernanceConfig
from openlfr.deployments.calibrations import equity_of, latest_calibration, tail_of
from openlfr.deployments.figures import get_counts
from openlfr.deployments.notice import require_signage
from openlfr.deployments.types import (
    EDITABLE,
    DeploymentChanges,
    DeploymentError,
    DeploymentPlan,
    DeploymentStateError,
    RunCounts,
    ThresholdPolicy,
    ThresholdReasons,
)
from openlfr.pipeline.thresholds import calibrated_for
from openlfr.store.camera_models import CameraRecord
from openlfr.store.errors import ConflictError, NotFoundError
from openlfr.store.governance_models import Deployment
from openlfr.store.models import Snapshot, SnapshotTemplate
from openlfr.utc import as_utc
from openlfr.watchlists.composition import Composition, snapshot_composition

TEXT_FIELDS = ("name", "use_case", "purpose", "legal_basis", "justification", "location")
# Fields whose change is recorded by value in the audit chain (the free texts are recorded by name only).
_VALUE_FIELDS = ("planned_start", "planned_end", "camera_ids", "threshold", "signage_confirmed", "snapshot")
_NO_REASONS = ThresholdReasons()


def threshold_policy(
    session: Session,
    config: GovernanceConfig,
    model: str,
    weights_sha256: str,
    watchlist_size: int,
    preprocessing: str | None = None,
) -> ThresholdPolicy:
    """The threshold floor and default for a watchlist of ``watchlist_size`` templates of ``model`` (scores of
    ``preprocessing``: the shipped tail of the set-up the snapshot's templates were made with)."""
    saved = latest_calibration(session, model, weights_sha256)
    # The shipped tail of the snapshot's own set-up (flip or not) when there is one, else the model's first.
    shipped = calibrated_for(model, weights_sha256, preprocessing) or calibrated_for(model, weights_sha256)
    calibrated: float | None = None
    derivation = "no calibration for this model: save one (lfr calibration save) or give an override"
    if saved is not None:
        calibrated = round(tail_of(saved).threshold_for_size(watchlist_size), 4)
        derivation = (
            f"saved calibration {saved.id} ({saved.dataset}; at most {saved.false_alerts:g} false alert(s) per "
            f"{saved.passers_by} passers-by), for {watchlist_size} templates"
        )
    elif shipped is not None and shipped.tail is not None:
        calibrated = round(shipped.tail.threshold_for_size(watchlist_size), 4)
        derivation = f"{shipped.tail_derivation}; for {watchlist_size} templates"
    configured = config.minimum_thresholds.get(model)
    candidates = [v for v in (calibrated, configured) if v is not None]
    minimum = max(candidates) if candidates else None
    equity = equity_of(saved) if saved is not None else None
    return ThresholdPolicy(
        model=model,
        default=calibrated,
        minimum=minimum,
        derivation=derivation,
        calibration_id=saved.id if saved is not None else None,
        equity_low=equity.low if equity is not None else None,
        equity_high=equity.high if equity is not None else None,
        configured_ignored=configured
        if configured is not None and calibrated is not None and configured < calibrated
        else None,
    )


def _policy_for(session: Session, config: GovernanceConfig, deployment: Deployment) -> ThresholdPolicy:
    snapshot = session.get(Snapshot, deployment.snapshot_id)
    if snapshot is None:
        raise DeploymentError(f"the snapshot {deployment.snapshot_id} of this deployment no longer exists")
    return threshold_policy(
        session, config, snapshot.model, snapshot.weights_sha256, snapshot.template_count, snapshot.preprocessing
    )


def get_deployment(session: Session, deployment_id: str) -> Deployment:
    deployment = session.get(Deployment, deployment_id)
    if deployment is None:
        raise NotFoundError(f"no deployment {deployment_id!r}")
    return deployment


def list_deployments(session: Session, status: str | None = None) -> list[Deployment]:
    query = select(Deployment).order_by(Deployment.planned_start, Deployment.created_at)
    if status is not None:
        query = query.where(Deployment.status == status)
    return list(session.scalars(query))


def _resolve_snapshot(session: Session, ref: str, deployment_id: str | None) -> Snapshot:
    snapshot = session.get(Snapshot, ref)
    if snapshot is None:
        matches = list(session.scalars(select(Snapshot).where(Snapshot.fingerprint == ref)))
        if not matches:
            raise NotFoundError(f"no snapshot with id or fingerprint {ref!r} (take one: lfr watchlist snapshot)")
        if len(matches) > 1:
            raise ConflictError(f"{len(matches)} snapshots have fingerprint {ref[:16]}…: name one by id")
        snapshot = matches[0]
    used = session.scalars(
        select(Deployment.id).where(Deployment.snapshot_id == snapshot.id, Deployment.id != (deployment_id or ""))
    ).first()
    if used is not None:
        raise ConflictError(f"snapshot {snapshot.id} belongs to deployment {used}: take a new one for this deployment")
    rows = session.scalar(select(func.count()).where(SnapshotTemplate.snapshot_id == snapshot.id)) or 0
    if rows == 0:
        raise DeploymentError(f"snapshot {snapshot.id} holds no templates (destroyed, erased or empty)")
    return snapshot


def _check_size(snapshot: Snapshot, config: GovernanceConfig) -> None:
    if snapshot.subject_count > config.max_watchlist_subjects:
        raise DeploymentError(
            f"snapshot {snapshot.id} holds {snapshot.subject_count} subjects: more than the configured cap of "
            f"{config.max_watchlist_subjects} (governance.max_watchlist_subjects)"
        )


class UnknownCameraError(DeploymentError):
    code = "camera_unknown"


def _check_cameras(session: Session, camera_ids: list[str]) -> None:
    """A deployment names registered cameras only (by id; `lfr camera list`, GET /api/cameras)."""
    known = set(session.scalars(select(CameraRecord.id).where(CameraRecord.id.in_(set(camera_ids)))))
    unknown = [c for c in camera_ids if c not in known]
    if unknown:
        ids = ", ".join(repr(c) for c in unknown)
        raise UnknownCameraError(f"no registered camera with id {ids} (see `lfr camera list` or GET /api/cameras)")


def _check(deployment: Deployment) -> None:
    for name in TEXT_FIELDS:
        if not str(getattr(deployment, name) or "").strip():
            raise DeploymentError(f"a deployment needs a {name.replace('_', ' ')}")
    if as_utc(deployment.planned_end) <= as_utc(deployment.planned_start):
        raise DeploymentError("the planned end must be after the planned start")
    if not deployment.camera_ids or any(not c.strip() for c in deployment.camera_ids):
        raise DeploymentError("a deployment needs at least one camera")
    if len(set(deployment.camera_ids)) != len(deployment.camera_ids):
        raise DeploymentError("a camera is listed twice")
    if (deployment.latitude is None) != (deployment.longitude is None):
        raise DeploymentError("give both latitude and longitude, or neither")
    if deployment.latitude is not None and not -90 <= deployment.latitude <= 90:
        raise DeploymentError("latitude must be within [-90, 90]")
    if deployment.longitude is not None and not -180 <= deployment.longitude <= 180:
        raise DeploymentError("longitude must be within [-180, 180]")
    if not -1.0 <= deployment.threshold <= 1.0:
        raise DeploymentError("the threshold is a cosine score within [-1, 1]")


def _check_other_person(config: GovernanceConfig, deployment: Deployment, by: Principal, what: str) -> None:
    if config.separation_of_duties and same_person(by, deployment.created_by_account):
        raise SeparationOfDutiesError(
            f"{by.account} created this deployment and cannot {what} it: another supervisor must "
            "(governance.separation_of_duties)"
        )


def _apply_threshold(
    deployment: Deployment,
    policy: ThresholdPolicy,
    threshold: float | None,
    reasons: ThresholdReasons,
    *,
    by: Principal,
    config: GovernanceConfig,
    now: datetime,
) -> list[str]:
    """Set the threshold under the policy; the audit actions to write for what was (newly) justified."""
    if threshold is None:
        if policy.minimum is None:
            raise DeploymentError(
                f"model {policy.model} has no calibrated threshold: give one with an override, or save a "
                "calibration (lfr calibration save)"
            )
        threshold = policy.minimum
    deployment.threshold = float(threshold)
    deployment.threshold_default = policy.default
    deployment.threshold_minimum = policy.minimum
    deployment.threshold_calibration_id = policy.calibration_id
    recorded = []
    if not policy.needs_override(threshold):
        deployment.threshold_override_reason = None
        deployment.threshold_override_by = None
        deployment.threshold_override_at = None
    elif reasons.override is None or not reasons.override.strip():
        floor = "no floor" if policy.minimum is None else f"the floor {policy.minimum:.4f}"
        raise DeploymentError(
            f"threshold {threshold:.4f} is below {floor} for {policy.model} ({policy.derivation}): a supervisor "
            "other than the deployment's creator must override it with a reason (--override-reason)"
        )
    else:
        by.require(Permission.DEPLOYMENTS_AUTHORISE)
        _check_other_person(config, deployment, by, "override the threshold of")
        deployment.threshold_override_reason = reasons.override.strip()
        deployment.threshold_override_by = by.label
        deployment.threshold_override_at = now
        recorded.append("deployment.threshold_override")
    if not policy.outside_equity(threshold):
        deployment.threshold_equity_justification = None
        deployment.threshold_equity_by = None
    elif reasons.equity is None or not reasons.equity.strip():
        raise DeploymentError(
            f"threshold {threshold:.4f} lies outside the equity range [{policy.equity_low:.4f}, "
            f"{policy.equity_high:.4f}] of calibration {policy.calibration_id} (no significant group differential "
            "inside it): record why (--equity-justification)"
        )
    else:
        deployment.threshold_equity_justification = reasons.equity.strip()
        deployment.threshold_equity_by = by.label
        recorded.append("deployment.threshold_equity_justification")
    return recorded


def _audit(session: Session, by: Principal, action: str, deployment: Deployment, details: dict[str, Any]) -> None:
    append_audit(
        session,
        actor=by.actor,
        action=action,
        target_type="deployment",
        target_id=deployment.id,
        details={"revision": deployment.revision, "status": deployment.status, **details},
    )


def _audit_threshold(session: Session, by: Principal, actions: list[str], deployment: Deployment) -> None:
    for action in actions:
        if action == "deployment.threshold_override":
            details: dict[str, Any] = {
                "threshold": deployment.threshold,
                "minimum": deployment.threshold_minimum,
                "default": deployment.threshold_default,
                "calibration": deployment.threshold_calibration_id,
                "supervisor": deployment.threshold_override_by,
                "reason": deployment.threshold_override_reason,
            }
        else:
            details = {
                "threshold": deployment.threshold,
                "calibration": deployment.threshold_calibration_id,
                "by": deployment.threshold_equity_by,
                "justification": deployment.threshold_equity_justification,
            }
        _audit(session, by, action, deployment, details)


def create_deployment(
    session: Session,
    plan: DeploymentPlan,
    *,
    by: Principal,
    config: GovernanceConfig,
    now: datetime,
    reasons: ThresholdReasons = _NO_REASONS,
) -> Deployment:
    """A draft created by ``by`` (its creator and the person who answers for it)."""
    by.require(Permission.DEPLOYMENTS_MANAGE)
    snapshot = _resolve_snapshot(session, plan.snapshot, None)
    _check_size(snapshot, config)
    deployment = Deployment(
        name=plan.name.strip(),
        use_case=plan.use_case.strip(),
        purpose=plan.purpose.strip(),
        legal_basis=plan.legal_basis.strip(),
        justification=plan.justification.strip(),
        location=plan.location.strip(),
        latitude=plan.latitude,
        longitude=plan.longitude,
        planned_start=as_utc(plan.planned_start),
        planned_end=as_utc(plan.planned_end),
        camera_ids=list(plan.camera_ids),
        snapshot_id=snapshot.id,
        snapshot_fingerprint=snapshot.fingerprint,
        watchlist_size=snapshot.template_count,
        subject_count=snapshot.subject_count,
        model=snapshot.model,
        signage_confirmed=plan.signage_confirmed,
        status="draft",
        revision=1,
        created_by=by.label,
        created_by_account=by.account,
        created_at=now,
        updated_at=now,
    )
    policy = threshold_policy(
        session, config, snapshot.model, snapshot.weights_sha256, snapshot.template_count, snapshot.preprocessing
    )
    justified = _apply_threshold(deployment, policy, plan.threshold, reasons, by=by, config=config, now=now)
    _check(deployment)
    _check_cameras(session, deployment.camera_ids)
    session.add(deployment)
    session.flush()
    _audit(
        session,
        by,
        "deployment.create",
        deployment,
        {
            "name": deployment.name,
            "use_case": deployment.use_case,
            "planned_start": iso_utc(deployment.planned_start),
            "planned_end": iso_utc(deployment.planned_end),
            "camera_ids": list(deployment.camera_ids),
            "snapshot_fingerprint": deployment.snapshot_fingerprint,
            "watchlist_size": deployment.watchlist_size,
            "threshold": deployment.threshold,
            "threshold_minimum": deployment.threshold_minimum,
            "signage_confirmed": deployment.signage_confirmed,
        },
    )
    _audit_threshold(session, by, justified, deployment)
    return deployment


def update_deployment(
    session: Session,
    deployment_id: str,
    changes: DeploymentChanges,
    *,
    by: Principal,
    config: GovernanceConfig,
    now: datetime,
    reasons: ThresholdReasons = _NO_REASONS,
) -> Deployment:
    by.require(Permission.DEPLOYMENTS_MANAGE)
    deployment = get_deployment(session, deployment_id)
    if deployment.status not in EDITABLE:
        raise DeploymentStateError(
            f"deployment {deployment.id} is {deployment.status}: only draft or authorised deployments change"
        )
    given = changes.given()
    if not given and not reasons.given():
        raise DeploymentError("nothing to change")
    for name in TEXT_FIELDS:
        if name in given:
            setattr(deployment, name, str(given[name]).strip())
    for name in ("latitude", "longitude", "signage_confirmed"):
        if name in given:
            setattr(deployment, name, given[name])
    if "planned_start" in given:
        deployment.planned_start = as_utc(given["planned_start"])
    if "planned_end" in given:
        deployment.planned_end = as_utc(given["planned_end"])
    if "camera_ids" in given:
        deployment.camera_ids = list(given["camera_ids"])
        _check_cameras(session, deployment.camera_ids)
    snapshot = session.get(Snapshot, deployment.snapshot_id)
    if "snapshot" in given:
        snapshot = _resolve_snapshot(session, given["snapshot"], deployment.id)
        _check_size(snapshot, config)
        deployment.snapshot_id = snapshot.id
        deployment.snapshot_fingerprint = snapshot.fingerprint
        deployment.watchlist_size = snapshot.template_count
        deployment.subject_count = snapshot.subject_count
        deployment.model = snapshot.model
    justified: list[str] = []
    if "threshold" in given or "snapshot" in given or reasons.given():
        policy = _policy_for(session, config, deployment)
        threshold = given.get("threshold", deployment.threshold)
        justified = _apply_threshold(deployment, policy, threshold, reasons, by=by, config=config, now=now)
    _check(deployment)
    was_authorised = deployment.status == "authorised"
    deployment.revision += 1
    deployment.updated_at = now
    if was_authorised:
        deployment.status = "draft"
    details: dict[str, Any] = {"fields": sorted(given), "reauthorisation_required": was_authorised}
    for name in _VALUE_FIELDS:
        if name in given:
            value = given[name]
            details[name] = (
                iso_utc(value) if isinstance(value, datetime) else list(value) if isinstance(value, tuple) else value
            )
    _audit(session, by, "deployment.update", deployment, details)
    _audit_threshold(session, by, justified, deployment)
    return deployment


def authorise_deployment(
    session: Session,
    deployment_id: str,
    *,
    by: Principal,
    text: str,
    config: GovernanceConfig,
    now: datetime,
    composition_digest: str | None = None,
) -> Deployment:
    """A supervisor, in person and (with separation of duties) not the deployment's creator, authorises the
    current revision. The threshold is checked against the floor in force now (a calibration saved since the
    deployment was planned may have raised it). ``composition_digest`` is the digest of the watchlist
    composition the supervisor was shown (the API and CLI always show it first): refused when the watchlist no
    longer looks like that. The composition authorised against is kept on the record and in the audit chain.
    With ``governance.require_competence`` (on by default) the supervisor needs a current supervisor competence
    record."""
    by.require(Permission.DEPLOYMENTS_AUTHORISE)
    if config.require_competence:
        require_competence(session, by, Competence.SUPERVISOR, now)
    deployment = get_deployment(session, deployment_id)
    if deployment.status != "draft":
        raise DeploymentStateError(f"deployment {deployment.id} is {deployment.status}: only a draft is authorised")
    if not text.strip():
        raise DeploymentError("an authorisation needs its text: what is authorised, and why it is necessary")
    if not deployment.signage_confirmed:
        raise DeploymentError("signage must be confirmed before a deployment is authorised")
    if as_utc(deployment.planned_end) <= as_utc(now):
        raise DeploymentError("the planned end has passed: change the dates first")
    _check_other_person(config, deployment, by, "authorise")
    policy = _policy_for(session, config, deployment)
    if policy.needs_override(deployment.threshold) and not deployment.threshold_override_reason:
        raise DeploymentError(
            f"threshold {deployment.threshold:.4f} is below the floor now in force ({policy.minimum}; "
            f"{policy.derivation}): raise it, or have a supervisor other than the creator override it"
        )
    if policy.outside_equity(deployment.threshold) and not deployment.threshold_equity_justification:
        raise DeploymentError(
            f"threshold {deployment.threshold:.4f} lies outside the equity range of calibration "
            f"{policy.calibration_id}: record why (update with --equity-justification)"
        )
    composition = deployment_composition(session, deployment, now)
    if composition_digest is not None and composition_digest != composition.digest:
        raise DeploymentStateError("the watchlist changed since its composition was shown: look at it again")
    if composition.under_18_unjustified:
        raise DeploymentError(
            f"{composition.under_18_unjustified} subject(s) under 18 have no recorded justification: "
            "record one for each (lfr subject update REF --minor-justification …) or take them off the list"
        )
    deployment.authorisation_composition = composition.as_dict()
    deployment.status = "authorised"
    deployment.authorised_by = by.label
    deployment.authorised_at = now
    deployment.authorisation_text = text.strip()
    deployment.authorised_revision = deployment.revision
    deployment.updated_at = now
    _audit(
        session,
        by,
        "deployment.authorise",
        deployment,
        {
            "supervisor": by.label,
            "text": deployment.authorisation_text,
            "threshold": deployment.threshold,
            "composition_shown": composition_digest is not None,
            "composition": {
                "digest": composition.digest,
                "subjects": composition.subjects,
                "under_18": composition.under_18,
                "review_overdue": composition.review_overdue,
            },
        },
    )
    return deployment


def deployment_composition(session: Session, deployment: Deployment, now: datetime) -> Composition:
    """The composition of the deployment's watchlist snapshot on the first day of its window (or today, if
    later): children are counted as of the day the cameras run."""
    snapshot = session.get(Snapshot, deployment.snapshot_id)
    if snapshot is None:
        raise DeploymentError(f"the snapshot {deployment.snapshot_id} of this deployment no longer exists")
    on = max(as_utc(deployment.planned_start), as_utc(now)).date()
    return snapshot_composition(session, snapshot, on)


def is_authorised(deployment: Deployment) -> bool:
    """Authorised, and not changed since."""
    return deployment.authorised_at is not None and deployment.authorised_revision == deployment.revision


def in_window(deployment: Deployment, now: datetime) -> bool:
    return as_utc(deployment.planned_start) <= as_utc(now) < as_utc(deployment.planned_end)


def start_deployment(session: Session, deployment_id: str, *, by: Principal, now: datetime) -> Deployment:
    """Mark an authorised deployment live; recognition runs (in ``lfr serve``) while it is inside its window."""
    by.require(Permission.DEPLOYMENTS_MANAGE)
    deployment = get_deployment(session, deployment_id)
    if deployment.status != "authorised" or not is_authorised(deployment):
        raise DeploymentStateError(
            f"deployment {deployment.id} is {deployment.status}: only an authorised deployment goes live"
        )
    if as_utc(now) >= as_utc(deployment.planned_end):
        raise DeploymentStateError("the planned end has passed")
    require_signage(session, deployment.id)  # signs recorded as up, not just promised (deployments/notice.py)
    deployment.status = "live"
    deployment.started_at = now
    deployment.updated_at = now
    _audit(session, by, "deployment.start", deployment, {"in_window": in_window(deployment, now)})
    return deployment


def destroy_templates(session: Session, deployment: Deployment) -> int:
    """Delete the deployment's copy of the watchlist templates; the snapshot record and its fingerprint stay."""
    result = session.execute(delete(SnapshotTemplate).where(SnapshotTemplate.snapshot_id == deployment.snapshot_id))
    removed = int(getattr(result, "rowcount", 0) or 0)
    deployment.templates_destroyed = (deployment.templates_destroyed or 0) + removed
    return removed


def end_deployment(session: Session, deployment_id: str, *, by: Principal, reason: str, now: datetime) -> Deployment:
    by.require(Permission.DEPLOYMENTS_MANAGE)
    deployment = get_deployment(session, deployment_id)
    if deployment.status != "live":
        raise DeploymentStateError(f"deployment {deployment.id} is {deployment.status}: only a live one ends")
    deployment.status = "ended"
    deployment.ended_at = now
    deployment.end_reason = reason.strip() or "ended"
    deployment.updated_at = now
    removed = destroy_templates(session, deployment)
    counts = get_counts(session, deployment.id)
    _audit(
        session,
        by,
        "deployment.end",
        deployment,
        {
            "reason": deployment.end_reason,
            "templates_destroyed": removed,
            "faces_seen": counts.tracks if counts is not None else 0,
            "detections": counts.detections if counts is not None else 0,
            "frames": counts.frames if counts is not None else 0,
        },
    )
    return deployment


def cancel_deployment(session: Session, deployment_id: str, *, by: Principal, reason: str, now: datetime) -> Deployment:
    by.require(Permission.DEPLOYMENTS_MANAGE)
    deployment = get_deployment(session, deployment_id)
    if deployment.status not in EDITABLE:
        raise DeploymentStateError(
            f"deployment {deployment.id} is {deployment.status}: only a draft or authorised one is cancelled"
        )
    if not reason.strip():
        raise DeploymentError("a cancellation needs a reason")
    deployment.status = "cancelled"
    deployment.ended_at = now
    deployment.end_reason = reason.strip()
    deployment.updated_at = now
    removed = destroy_templates(session, deployment)
    _audit(
        session,
        by,
        "deployment.cancel",
        deployment,
        {"reason": deployment.end_reason, "templates_destroyed": removed},
    )
    return deployment


def deployment_dict(deployment: Deployment, counts: RunCounts | None = None) -> dict[str, Any]:
    def when(value: datetime | None) -> str | None:
        return iso_utc(value) if value is not None else None

    return {
        "id": deployment.id,
        "name": deployment.name,
        "status": deployment.status,
        "revision": deployment.revision,
        "authorised": is_authorised(deployment),
        "use_case": deployment.use_case,
        "purpose": deployment.purpose,
        "legal_basis": deployment.legal_basis,
        "justification": deployment.justification,
        "location": deployment.location,
        "latitude": deployment.latitude,
        "longitude": deployment.longitude,
        "planned_start": when(deployment.planned_start),
        "planned_end": when(deployment.planned_end),
        "camera_ids": list(deployment.camera_ids),
        "snapshot_id": deployment.snapshot_id,
        "snapshot_fingerprint": deployment.snapshot_fingerprint,
        "watchlist_size": deployment.watchlist_size,
        "subject_count": deployment.subject_count,
        "model": deployment.model,
        "threshold": deployment.threshold,
        "threshold_default": deployment.threshold_default,
        "threshold_minimum": deployment.threshold_minimum,
        "threshold_calibration": deployment.threshold_calibration_id,
        "threshold_equity_justification": (
            {"by": deployment.threshold_equity_by, "text": deployment.threshold_equity_justification}
            if deployment.threshold_equity_justification
            else None
        ),
        "threshold_override": (
            {
                "by": deployment.threshold_override_by,
                "reason": deployment.threshold_override_reason,
                "at": when(deployment.threshold_override_at),
            }
            if deployment.threshold_override_by
            else None
        ),
        "signage_confirmed": deployment.signage_confirmed,
        "created_by": deployment.created_by,
        "created_by_account": deployment.created_by_account,
        "created_at": when(deployment.created_at),
        "authorisation": (
            {
                "by": deployment.authorised_by,
                "at": when(deployment.authorised_at),
                "text": deployment.authorisation_text,
                "revision": deployment.authorised_revision,
                "current": is_authorised(deployment),
            }
            if deployment.authorised_at is not None
            else None
        ),
        "composition": deployment.authorisation_composition,
        "started_at": when(deployment.started_at),
        "ended_at": when(deployment.ended_at),
        "end_reason": deployment.end_reason,
        "templates_destroyed": deployment.templates_destroyed,
        "counts": (
            {
                "frames": counts.frames,
                "detections": counts.detections,
                "faces_seen": counts.tracks,
                "tracks_unexamined": counts.tracks_unexamined,
            }
            if counts
            else None
        ),
    }
