from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, SecretStr

from openlfr.api.permissions import Permission
from openlfr.api.schemas.base import Input, Output
from openlfr.auth.roles import Role


class LoginRequest(Input):
    username: str = Field(min_length=1, max_length=200)
    password: SecretStr = Field(min_length=1, max_length=1024)


class SessionPublic(Output):
    kind: Literal["user", "token"]
    id: str
    name: str
    role: Role
    account: str = Field(description="the person who answers for what this principal does (a token's creator)")
    expires_at: datetime | None
    csrf_token: str | None = Field(
        description="send it as the X-CSRF-Token header on POST/PATCH/PUT/DELETE (cookie sessions only)"
    )
    permissions: list[Permission] = Field(
        description="what this caller may do (the console shows only what these allow; the server checks every call)"
    )
    account_roles: list[Role] = Field(
        default_factory=list,
        description="the roles this caller may give an account (create, change role, disable); empty: none",
    )
    token_roles: list[Role] = Field(
        default_factory=list, description="the roles this caller may mint an API token for; empty: none"
    )
