"""``/api/users/{username}/competence``: training records. A supervisor records them in person
(``openlfr.auth.competence`` checks, keeps the history and audits); supervisors, auditors and admins read them."""

from __future__ import annotations

import logging

from fastapi import APIRouter, status

from openlfr.api.deps import ContextDep, CurrentUser, SessionDep, require
from openlfr.api.permissions import Permission
from openlfr.api.schemas.users import CompetenceCreate, CompetenceList, CompetencePublic
from openlfr.auth.competence import ELIGIBLE, Competence, record_competence, standings
from openlfr.auth.roles import Role
from openlfr.auth.users import get_user_by_name, list_users
from openlfr.store.auth_models import User

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/users", tags=["users"])
everyone_router = APIRouter(prefix="/api/competence", tags=["users"])


def _listing(db: SessionDep, ctx: ContextDep, username: str) -> CompetenceList:
    return _of(db, ctx, get_user_by_name(db, username))


def _of(db: SessionDep, ctx: ContextDep, user: User) -> CompetenceList:
    rows = [CompetencePublic.model_validate(s) for s in standings(db, user.id, ctx.services.clock())]
    eligible = [c for c in Competence if Role(user.role) in ELIGIBLE[c]]
    return CompetenceList(username=user.username, role=Role(user.role), eligible=eligible, records=rows)


@everyone_router.get("", dependencies=[require(Permission.COMPETENCE_READ)])
def list_every_account(db: SessionDep, ctx: ContextDep) -> list[CompetenceList]:
    """Every account that may hold a competence or has a record, by username, with its records (oversight
    checks the officers' training without managing their accounts)."""
    listings = [_of(db, ctx, user) for user in list_users(db)]
    return [listing for listing in listings if listing.eligible or listing.records]


@router.get("/{username}/competence", dependencies=[require(Permission.COMPETENCE_READ)])
def list_competence(username: str, db: SessionDep, ctx: ContextDep) -> CompetenceList:
    """The account's records, newest first within each competence, superseded ones included."""
    return _listing(db, ctx, username)


@router.post(
    "/{username}/competence",
    status_code=status.HTTP_201_CREATED,
    dependencies=[require(Permission.COMPETENCE_MANAGE)],
)
def add_competence(
    username: str, body: CompetenceCreate, db: SessionDep, ctx: ContextDep, principal: CurrentUser
) -> CompetencePublic:
    """Record a passed course: it supersedes the account's newest record of that competence (which is kept)."""
    record = record_competence(
        db,
        get_user_by_name(db, username),
        competence=body.competence,
        course=body.course,
        passed_on=body.passed_on,
        expires_on=body.expires_on,
        by=principal,
        now=ctx.services.clock(),
        separation_of_duties=ctx.settings.governance.separation_of_duties,
    )
    created = next(r for r in _listing(db, ctx, username).records if r.id == record.id)
    db.commit()
    log.info("%s competence of %s recorded by %s", record.competence, username, principal.label)
    return created
