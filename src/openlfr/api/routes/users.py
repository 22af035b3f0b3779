"""``/api/users``: accounts. Admins manage admin and auditor accounts, supervisors supervisor and operator
accounts (``openlfr.auth.users`` checks and audits each change)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, status

from openlfr.api.deps import ContextDep, CurrentUser, SessionDep, require
from openlfr.api.permissions import Permission
from openlfr.api.schemas.users import UserCreate, UserPublic, UserUpdate
from openlfr.auth.users import create_user, get_user, list_users, set_disabled, set_role

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/users", tags=["users"], dependencies=[require(Permission.USERS_MANAGE)])


@router.get("")
def list_all(db: SessionDep) -> list[UserPublic]:
    return [UserPublic.model_validate(user) for user in list_users(db)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create(body: UserCreate, db: SessionDep, ctx: ContextDep, principal: CurrentUser) -> UserPublic:
    hasher = ctx.services.password_hasher
    user = create_user(db, hasher, body.username, body.password.get_secret_value(), body.role, by=principal)
    public = UserPublic.model_validate(user)
    db.commit()
    log.info("user %s (%s) created by %s", user.username, user.role, principal.label)
    return public


@router.patch("/{user_id}")
def update(user_id: str, body: UserUpdate, db: SessionDep, ctx: ContextDep, principal: CurrentUser) -> UserPublic:
    user = get_user(db, user_id)
    now = ctx.services.clock()
    if body.role is not None:
        set_role(db, user, body.role, by=principal, now=now)
    if body.disabled is not None:
        set_disabled(db, user, body.disabled, by=principal, now=now)
    public = UserPublic.model_validate(user)
    db.commit()
    ctx.services.credentials.changed()  # open streams of this user re-check their login at once
    log.info(
        "user %s updated by %s: role=%s disabled=%s", public.username, principal.label, public.role, public.disabled
    )
    return public
