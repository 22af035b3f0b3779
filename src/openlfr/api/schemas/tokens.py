from __future__ import annotations

from datetime import datetime

from pydantic import Field

from openlfr.api.schemas.base import Input, Output
from openlfr.auth.roles import Role


class TokenCreate(Input):
    name: str = Field(
        min_length=1,
        max_length=58,
        description="what the token is for, e.g. 'prometheus' (letters, digits, '.', '_', '-'; never a username)",
    )
    role: Role = Field(
        description="at most the creator's own powers: admins mint admin or auditor tokens, "
        "supervisors supervisor or operator tokens"
    )
    expires_in_days: int | None = Field(None, ge=1, le=3650, description="omitted: until revoked")


class TokenPublic(Output):
    id: str
    name: str
    role: Role
    created_by: str = Field(description="the account that minted it (the token works only while it may)")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    active: bool


class TokenCreated(TokenPublic):
    token: str = Field(description="the secret, shown this once only: it is stored hashed")
