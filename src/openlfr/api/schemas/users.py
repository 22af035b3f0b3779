from __future__ import annotations

from datetime import datetime

from pydantic import Field, SecretStr

from openlfr.api.schemas.base import Input, Output
from openlfr.auth.roles import Role


class UserCreate(Input):
    username: str = Field(min_length=1, max_length=64, description="lower-case letters, digits, '.', '_', '-'")
    password: SecretStr = Field(min_length=1, max_length=1024, description="at least 12 characters")
    role: Role


class UserUpdate(Input):
    role: Role | None = Field(None, description="new role; omitted: unchanged")
    disabled: bool | None = Field(None, description="true ends every session of the user at once")


class UserPublic(Output):
    id: str
    username: str
    role: Role
    disabled: bool
    created_at: datetime
    updated_at: datetime
