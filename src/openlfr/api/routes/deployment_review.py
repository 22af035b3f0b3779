"""What a supervisor sees around a deployment: the watchlist's composition before authorising it, and after it
ended, the alerts left unreviewed and the sign-off of the record."""

from __future__ import annotations

from fastapi import APIRouter

from openlfr.api.deps import ContextDep, CurrentUser, SessionDep, require
from openlfr.api.permissions import Permission
from openlfr.api.schemas.deployments import (
    CompositionPublic,
    DeploymentReviewPublic,
    SignOffPublic,
    SignOffRequest,
    UnreviewedAlertPublic,
)
from openlfr.deployments.service import deployment_composition, get_deployment
from openlfr.deployments.signoff import SignOff, get_sign_off, sign_off_deployment, unreviewed_alerts
from openlfr.watchlists.composition import describe

router = APIRouter(prefix="/api/deployments", tags=["deployments"])


def _sign_off(found: SignOff) -> SignOffPublic:
    return SignOffPublic(
        by=found.by,
        at=found.at,
        notes=found.notes,
        corrections=list(found.corrections),
        unreviewed_alerts=list(found.unreviewed_alerts),
    )


@router.get("/{deployment_id}/composition", dependencies=[require(Permission.DEPLOYMENTS_READ)])
def composition(deployment_id: str, db: SessionDep, ctx: ContextDep) -> CompositionPublic:
    """The watchlist as the authorising supervisor must see it before authorising (counts only)."""
    found = deployment_composition(db, get_deployment(db, deployment_id), ctx.services.clock())
    return CompositionPublic(**found.as_dict(), digest=found.digest, summary=describe(found))


@router.get("/{deployment_id}/review", dependencies=[require(Permission.DEPLOYMENTS_READ)])
def review(deployment_id: str, db: SessionDep) -> DeploymentReviewPublic:
    """What the reviewing supervisor needs: the alerts nobody decided, and the sign-off once made."""
    deployment = get_deployment(db, deployment_id)
    found = get_sign_off(db, deployment.id)
    return DeploymentReviewPublic(
        deployment_id=deployment.id,
        status=deployment.status,
        unreviewed_alerts=[
            UnreviewedAlertPublic(id=a.alert_id, status=a.status, source=a.source, decided_at=a.decided_at)
            for a in unreviewed_alerts(db, deployment.id)
        ],
        sign_off=_sign_off(found) if found is not None else None,
    )


@router.post("/{deployment_id}/sign-off", dependencies=[require(Permission.DEPLOYMENTS_AUTHORISE)])
def sign_off(
    deployment_id: str, body: SignOffRequest, db: SessionDep, ctx: ContextDep, principal: CurrentUser
) -> SignOffPublic:
    found = sign_off_deployment(
        db,
        deployment_id,
        by=principal,
        notes=body.notes,
        corrections=tuple(body.corrections),
        now=ctx.services.clock(),
    )
    public = _sign_off(found)
    db.commit()
    return public
