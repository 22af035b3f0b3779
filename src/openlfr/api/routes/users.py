"""``/api/users``: accounts (admin only)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, status

from openlfr.api.audit import audit
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
    user = create_user(db, ctx.services.password_hasher, body.username, body.password.get_secret_value(), body.role)
    audit(db, principal, "user.create", "user", user.id, {"username": user.username, "role": user.role})
    db.commit()
    log.info("user %s (%s) created by %s", user.username, user.role, principal.name)
    return UserPublic.model_validate(user)


@router.patch("/{user_id}")
def update(user_id: str, body: UserUpdate, db: SessionDep, ctx: ContextDep, principal: CurrentUser) -> UserPublic:
    user = get_user(db, user_id)
    now = ctx.services.clock()
    if body.role is not None:
        set_role(db, user, body.role, now)
    if body.disabled is not None:
        set_disabled(db, user, body.disabled, now)
    changes = body.model_dump(include={"role", "disabled"}, exclude_none=True, mode="json")
    audit(db, principal, "user.update", "user", user.id, {"username": user.username, **changes})
    db.commit()
    log.info("user %s updated by %s: role=%s disabled=%s", user.username, principal.name, user.role, user.disabled)
    return UserPublic.model_validate(user)
