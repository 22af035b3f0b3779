from __future__ import annotations

from datetime import date, datetime

from pydantic import Field, SecretStr

from openlfr.api.schemas.base import Input, Output
from openlfr.auth.competence import Competence
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


class CompetenceCreate(Input):
    competence: Competence = Field(description="operator: reviews alerts; supervisor: authorises deployments")
    course: str = Field(min_length=1, max_length=200, description="the course passed")
    passed_on: date = Field(description="the day it was passed (not in the future)")
    expires_on: date = Field(description="the last day it counts (after passed_on)")


class CompetencePublic(Output):
    id: str
    competence: Competence
    revision: int = Field(description="1, 2, …: each record supersedes the one before (kept, never changed)")
    course: str
    passed_on: date
    expires_on: date
    recorded_by: str
    recorded_at: datetime
    supersedes: str | None
    superseded: bool
    current: bool = Field(description="the newest record of its competence, and it counts today")


class CompetenceList(Output):
    username: str
    role: Role
    eligible: list[Competence] = Field(description="the competences an account of this role may hold")
    records: list[CompetencePublic]
