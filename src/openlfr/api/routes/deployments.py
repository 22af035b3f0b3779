"""``/api/deployments``, ``/api/retention`` and ``/api/audit``: governance over HTTP (docs/GOVERNANCE.md).

Every change goes through ``openlfr.deployments`` / ``openlfr.retention`` and lands in the audit chain with the
caller as actor. Authorising and overriding the minimum threshold are the supervisor's alone.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Query, Response, status

from openlfr.api.deps import ContextDep, CurrentUser, SessionDep, require
from openlfr.api.errors import ApiError
from openlfr.api.permissions import Permission
from openlfr.api.schemas.deployments import (
    AuditAnchorPublic,
    AuditEntryPublic,
    AuditVerifyPublic,
    AuthoriseRequest,
    CalibrationPublic,
    DeploymentCreate,
    DeploymentPublic,
    DeploymentUpdate,
    HoldPublic,
    OptionalReasonRequest,
    PurgePublic,
    ReasonRequest,
)
from openlfr.audit import iter_entries, verify_chain
from openlfr.audit.anchor import make_anchor
from openlfr.deployments import service
from openlfr.deployments.calibrations import calibration_dict, list_calibrations, save_calibration
from openlfr.deployments.figures import get_counts
from openlfr.deployments.signoff import get_sign_off
from openlfr.deployments.steps import next_steps
from openlfr.deployments.types import DeploymentChanges, DeploymentPlan, ThresholdReasons
from openlfr.reports.public_feed import is_published
from openlfr.retention.purge import MediaDeletionError, held_alerts, lift_hold, place_hold, purge_alerts
from openlfr.store.alert_models import AlertRecord

log = logging.getLogger(__name__)

# The largest seq the databases store (a signed 64-bit integer): larger values are refused (422), not a 500.
MAX_SEQ = 2**63 - 1

router = APIRouter(prefix="/api/deployments", tags=["deployments"])
retention_router = APIRouter(prefix="/api/retention", tags=["retention"])
audit_router = APIRouter(prefix="/api/audit", tags=["audit"])
calibrations_router = APIRouter(prefix="/api/calibrations", tags=["deployments"])

read = require(Permission.DEPLOYMENTS_READ)
manage = require(Permission.DEPLOYMENTS_MANAGE)
authorise_permission = require(Permission.DEPLOYMENTS_AUTHORISE)


def _public(db: SessionDep, deployment: Any) -> DeploymentPublic:
    steps = next_steps(deployment, signed_off=get_sign_off(db, deployment.id) is not None)
    return DeploymentPublic.model_validate(
        {
            **service.deployment_dict(deployment, get_counts(db, deployment.id)),
            "published": is_published(deployment),
            "next_steps": [{"step": s.step.value, "permission": s.permission.value} for s in steps],
        }
    )


def _committed(db: SessionDep, deployment: Any) -> DeploymentPublic:
    """The deployment as the response shows it, read before the commit expires its attributes."""
    public = _public(db, deployment)
    db.commit()
    return public


@router.get("", dependencies=[read])
def list_all(db: SessionDep, status_filter: str | None = Query(None, alias="status")) -> list[DeploymentPublic]:
    return [_public(db, d) for d in service.list_deployments(db, status_filter)]


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[manage])
def create(body: DeploymentCreate, db: SessionDep, ctx: ContextDep, principal: CurrentUser) -> DeploymentPublic:
    fields = body.model_dump(exclude={"override_reason", "equity_justification", "camera_ids"})
    plan = DeploymentPlan(**fields, camera_ids=tuple(body.camera_ids))
    deployment = service.create_deployment(
        db,
        plan,
        by=principal,
        config=ctx.settings.governance,
        now=ctx.services.clock(),
        reasons=ThresholdReasons(body.override_reason, body.equity_justification),
    )
    return _committed(db, deployment)


@router.get("/{deployment_id}", dependencies=[read])
def show(deployment_id: str, db: SessionDep) -> DeploymentPublic:
    return _public(db, service.get_deployment(db, deployment_id))


@router.patch("/{deployment_id}", dependencies=[manage])
def update(
    deployment_id: str, body: DeploymentUpdate, db: SessionDep, ctx: ContextDep, principal: CurrentUser
) -> DeploymentPublic:
    fields = body.model_dump(exclude={"override_reason", "equity_justification", "camera_ids"}, exclude_none=True)
    cameras = tuple(body.camera_ids) if body.camera_ids is not None else None
    deployment = service.update_deployment(
        db,
        deployment_id,
        DeploymentChanges(**fields, camera_ids=cameras),
        by=principal,
        config=ctx.settings.governance,
        now=ctx.services.clock(),
        reasons=ThresholdReasons(body.override_reason, body.equity_justification),
    )
    return _committed(db, deployment)


@router.post("/{deployment_id}/authorise", dependencies=[authorise_permission])
def authorise(
    deployment_id: str, body: AuthoriseRequest, db: SessionDep, ctx: ContextDep, principal: CurrentUser
) -> DeploymentPublic:
    deployment = service.authorise_deployment(
        db,
        deployment_id,
        by=principal,
        text=body.text,
        config=ctx.settings.governance,
        now=ctx.services.clock(),
        composition_digest=body.composition_digest,
    )
    public = _committed(db, deployment)
    log.info("deployment %s authorised by %s", deployment_id, principal.label)
    return public


@router.post("/{deployment_id}/start", dependencies=[manage])
def start(deployment_id: str, db: SessionDep, ctx: ContextDep, principal: CurrentUser) -> DeploymentPublic:
    deployment = service.start_deployment(db, deployment_id, by=principal, now=ctx.services.clock())
    return _committed(db, deployment)


@router.post("/{deployment_id}/end", dependencies=[manage])
def end(
    deployment_id: str, body: OptionalReasonRequest, db: SessionDep, ctx: ContextDep, principal: CurrentUser
) -> DeploymentPublic:
    deployment = service.end_deployment(db, deployment_id, by=principal, reason=body.reason, now=ctx.services.clock())
    return _committed(db, deployment)


@router.post("/{deployment_id}/cancel", dependencies=[manage])
def cancel(
    deployment_id: str, body: ReasonRequest, db: SessionDep, ctx: ContextDep, principal: CurrentUser
) -> DeploymentPublic:
    deployment = service.cancel_deployment(
        db, deployment_id, by=principal, reason=body.reason, now=ctx.services.clock()
    )
    return _committed(db, deployment)


@router.get("/{deployment_id}/record", dependencies=[read])
def record(
    deployment_id: str,
    db: SessionDep,
    ctx: ContextDep,
    principal: CurrentUser,
    fmt: str = Query("json", alias="format", pattern="^(json|csv|html)$"),
) -> Response:
    """The deployment record with the fields the Met publishes, as JSON, CSV or a printable HTML page."""
    from openlfr.reports.deployment import build_record, render_record
    from openlfr.reports.reads import record_report

    data = build_record(db, deployment_id)
    body, media_type = render_record(data, fmt)
    record_report(db, "deployment", deployment_id, {"format": fmt}, by=principal)
    db.commit()
    return Response(body, media_type=media_type)


# -- retention ---------------------------------------------------------------------------------------------

retention = require(Permission.RETENTION_MANAGE)


def _hold(record: AlertRecord) -> HoldPublic:
    return HoldPublic(
        alert=record.id,
        hold=record.hold,
        hold_by=record.hold_by,
        hold_reason=record.hold_reason,
        hold_at=record.hold_at,
    )


@retention_router.get("/holds", dependencies=[retention])
def holds(db: SessionDep) -> list[HoldPublic]:
    return [_hold(r) for r in held_alerts(db)]


@retention_router.post("/holds/{alert_id}", dependencies=[retention])
def hold(alert_id: str, body: ReasonRequest, db: SessionDep, ctx: ContextDep, principal: CurrentUser) -> HoldPublic:
    record_ = place_hold(db, alert_id, by=principal, reason=body.reason, now=ctx.services.clock())
    public = _hold(record_)
    db.commit()
    return public


@retention_router.post("/holds/{alert_id}/lift", dependencies=[retention])
def lift(alert_id: str, body: ReasonRequest, db: SessionDep, principal: CurrentUser) -> HoldPublic:
    record_ = lift_hold(db, alert_id, by=principal, reason=body.reason)
    public = _hold(record_)
    db.commit()
    return public


@retention_router.post("/run", dependencies=[retention])
def run_purge(ctx: ContextDep, principal: CurrentUser) -> PurgePublic:
    store = ctx.services.store
    if store is None:
        raise ApiError("the media store is not available on this server", code="store_unavailable", status=503)
    days = ctx.settings.governance.alert_retention_days
    try:
        result = purge_alerts(store, now=ctx.services.clock(), retention_days=days, by=principal)
    except MediaDeletionError as exc:  # audited, listed for the next run; the message names no person
        raise ApiError(str(exc), code=exc.code, status=503) from exc
    return PurgePublic(
        cutoff=result.cutoff.isoformat(),
        alerts=result.alerts,
        media_files=result.media_files,
        held=result.held,
        retention_days=days,
    )


# -- audit -------------------------------------------------------------------------------------------------

audit_read = require(Permission.AUDIT_READ)


@audit_router.get("/entries", dependencies=[audit_read])
def entries(
    db: SessionDep,
    after: int = Query(0, ge=0, le=MAX_SEQ, description="entries after this seq"),
    limit: int = Query(100, ge=1, le=1000),
    action: str | None = None,
    target_id: str | None = None,
) -> list[AuditEntryPublic]:
    out = []
    for record_ in iter_entries(db, after_seq=after, action=action, target_id=target_id, batch=limit):
        out.append(AuditEntryPublic.model_validate(record_.to_json()))
        if len(out) >= limit:
            break
    return out


@audit_router.get("/anchor", dependencies=[audit_read])
def anchor(db: SessionDep, ctx: ContextDep) -> AuditAnchorPublic:
    """The chain head now, HMAC-signed with ``governance.audit_export_key`` when set: save it somewhere the
    server's administrators cannot write, and check it later with ``lfr audit verify --anchor FILE``."""
    secret = ctx.settings.governance.audit_export_key
    key = secret.get_secret_value().encode("utf-8") if secret is not None else None
    return AuditAnchorPublic.model_validate(make_anchor(db, key=key, now=ctx.services.clock()).to_json())


@audit_router.get("/verify", dependencies=[audit_read])
def verify(db: SessionDep) -> AuditVerifyPublic:
    result = verify_chain(db)
    return AuditVerifyPublic(
        ok=result.ok,
        entries=result.entries,
        last_seq=result.last_seq,
        last_hash=result.last_hash,
        problems=[{"seq": p.seq, "problem": p.problem} for p in result.problems],
    )


# -- threshold calibrations --------------------------------------------------------------------------------


@calibrations_router.get("", dependencies=[read])
def calibrations(db: SessionDep) -> list[CalibrationPublic]:
    """Saved calibrations, oldest first; the newest of a model sets its threshold floor."""
    return [CalibrationPublic.model_validate(calibration_dict(r)) for r in list_calibrations(db)]


@calibrations_router.post("", status_code=status.HTTP_201_CREATED, dependencies=[authorise_permission])
def save(body: dict[str, Any], db: SessionDep, ctx: ContextDep, principal: CurrentUser) -> CalibrationPublic:
    """Save the output of `lfr calibrate --json` (a supervisor in person): from now on it sets the threshold
    floor of its model, for every watchlist size. 422 ``calibration_invalid`` when it is not such an output."""
    record_ = save_calibration(db, body, by=principal, now=ctx.services.clock())
    public = CalibrationPublic.model_validate(calibration_dict(record_))
    db.commit()
    return public
