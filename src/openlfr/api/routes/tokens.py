"""``/api/tokens``: API tokens for machine clients, minted by a signed-in admin or supervisor within their own
role (``openlfr.auth.tokens`` checks and audits)."""

from __future__ import annotations

import logging
from datetime import timedelta

from fastapi import APIRouter, status

from openlfr.api.deps import ContextDep, CurrentUser, SessionDep, require
from openlfr.api.permissions import Permission
from openlfr.api.schemas.tokens import TokenCreate, TokenCreated, TokenPublic
from openlfr.auth.tokens import create_token, is_active, list_tokens, revoke_token
from openlfr.store.auth_models import ApiToken

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/tokens", tags=["tokens"], dependencies=[require(Permission.TOKENS_MANAGE)])


def _public(record: ApiToken, ctx: ContextDep) -> dict[str, object]:
    fields = {name: getattr(record, name) for name in TokenPublic.model_fields if name != "active"}
    return {**fields, "active": is_active(record, ctx.services.clock())}


@router.get("")
def list_all(db: SessionDep, ctx: ContextDep) -> list[TokenPublic]:
    return [TokenPublic.model_validate(_public(record, ctx)) for record in list_tokens(db)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create(body: TokenCreate, db: SessionDep, ctx: ContextDep, principal: CurrentUser) -> TokenCreated:
    expires_in = timedelta(days=body.expires_in_days) if body.expires_in_days else None
    issued = create_token(db, body.name, body.role, by=principal, now=ctx.services.clock(), expires_in=expires_in)
    created = TokenCreated.model_validate({**_public(issued.record, ctx), "token": issued.token})
    db.commit()
    log.info("API token %s (%s, %s) created by %s", created.id, created.name, created.role, principal.label)
    return created


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke(token_id: str, db: SessionDep, ctx: ContextDep, principal: CurrentUser) -> None:
    record = revoke_token(db, token_id, by=principal, now=ctx.services.clock())
    name = record.name
    db.commit()
    ctx.services.credentials.changed()  # open streams of this token end at once
    log.info("API token %s (%s) revoked by %s", token_id, name, principal.label)
