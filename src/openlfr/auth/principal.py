"""Who did it: the authenticated principal that every governed domain function takes.

A principal is a person signed in (``user``), a machine with an API token (``token``) or the system itself
(``system``: the deployment scheduler, the retention purge, the first-account bootstrap). The records a
governed action writes name it by ``label`` — the username for a person, ``token:<name>`` for a token,
``system:<name>`` for the system — never by a name someone typed. A username cannot contain ``:``, so a
token or the system can never pass for a person. ``account`` is the person who answers for the action: the
user, or the user who minted the token; separation-of-duties rules compare accounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from openlfr.auth.errors import PermissionDeniedError
from openlfr.auth.permissions import HUMAN_ONLY, Permission, allows
from openlfr.auth.roles import Role

PrincipalKind = Literal["user", "token", "system"]


@dataclass(frozen=True, slots=True)
class Principal:
    kind: PrincipalKind
    id: str
    """user id, token id, or the system component's name"""
    name: str
    """username, token name, or the system component's name"""
    role: Role | None
    """None for the system"""
    account: str
    """the accountable person's username (a token's creator), or ``system:<name>``"""
    account_id: str | None = None
    """that person's user id (None for the system)"""
    expires_at: datetime | None = None
    session_value: str | None = field(default=None, repr=False)
    """the session value of a console or CLI login: needed to derive the CSRF token and to log out"""

    @property
    def actor(self) -> str:
        """The audit chain's actor: ``user:<name>``, ``token:<name>`` or ``system:<name>``."""
        return f"{self.kind}:{self.name}"

    @property
    def label(self) -> str:
        """What a record's "by" field holds: the username for a person, else the actor."""
        return self.name if self.kind == "user" else self.actor

    def may(self, permission: Permission) -> bool:
        if self.kind == "system":
            return permission not in HUMAN_ONLY
        if permission in HUMAN_ONLY and self.kind != "user":
            return False
        return allows(permission, self.role)

    def require(self, permission: Permission) -> None:
        """PermissionDeniedError unless this principal holds ``permission`` (in person where that is needed)."""
        if self.may(permission):
            return
        if permission in HUMAN_ONLY and self.kind != "user" and allows(permission, self.role):
            raise PermissionDeniedError(
                f"{permission.value} needs a signed-in person: an API token ({self.label}) cannot do it"
            )
        what = "the system" if self.role is None else f"the {self.role.value} role"
        raise PermissionDeniedError(f"{what} does not have the {permission.value} permission")

    @classmethod
    def system(cls, name: str) -> Principal:
        return cls("system", name, name, None, f"system:{name}")


def same_person(a: Principal, account: str | None) -> bool:
    """Whether ``a`` answers for the same person as ``account`` (a stored accountable username)."""
    return account is not None and a.account == account
