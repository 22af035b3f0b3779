"""Routes and permissions. Every route declares one permission (``require(Permission.X)``); which roles hold
it, and which permissions need a person rather than an API token, is the table in ``openlfr.auth.permissions``
(re-exported here). ``create_app`` refuses a route without a declared permission, and the tests check every
route against every role, anonymous included, as a signed-in person and as a token.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts

from openlfr.auth.permissions import GRANTS, HUMAN_ONLY, POLICY, Permission, allows, within
from openlfr.auth.roles import Role

__all__ = [
    "HUMAN_ONLY",
    "POLICY",
    "AccessRule",
    "MatrixRow",
    "Permission",
    "RouteEntry",
    "account_roles_of",
    "allows",
    "app_routes",
    "matrix_markdown",
    "permission_matrix",
    "route_permission",
    "token_roles_of",
]


def account_roles_of(role: Role) -> list[Role]:
    """The roles ``role`` may give an account, in the enum's order (empty without ``users:manage``)."""
    return [r for r in Role if r in GRANTS[role]] if allows(Permission.USERS_MANAGE, role) else []


def token_roles_of(role: Role) -> list[Role]:
    """The roles ``role`` may mint an API token for: within its own powers (empty without ``tokens:manage``)."""
    return [r for r in Role if within(r, role)] if allows(Permission.TOKENS_MANAGE, role) else []


def held_by(role: Role) -> list[Permission]:
    """Every permission ``role`` holds, in the table's order (the console shows what these allow)."""
    return [permission for permission in Permission if allows(permission, role)]


class AccessRule:
    """Base of the dependency callables that ``Require`` builds; carries the route's permission."""

    permission: Permission


def _rules(dependant: Dependant) -> Iterator[AccessRule]:
    for sub in dependant.dependencies:
        if isinstance(sub.call, AccessRule):
            yield sub.call
        yield from _rules(sub)


@dataclass(frozen=True, slots=True)
class RouteEntry:
    """One route as the app serves it (router prefixes and router-level dependencies applied)."""

    path: str
    methods: frozenset[str]
    permission: Permission


def route_permission(path: str, methods: Iterable[str], dependant: Dependant | None) -> Permission:
    """The one permission a route declares; ValueError when it declares none or several."""
    rules = list(_rules(dependant)) if dependant is not None else []
    if len(rules) != 1:
        label = ",".join(sorted(methods))
        raise ValueError(f"route {label} {path} declares {len(rules)} permissions; it needs exactly one")
    return rules[0].permission


def app_routes(app: FastAPI) -> list[RouteEntry]:
    """Every route of ``app`` with its permission; ValueError for a route that does not declare exactly one
    (a mounted app or a plain Starlette route included, since those cannot declare any)."""
    # FastAPI keeps included routers as lazy wrappers in app.routes; iter_route_contexts flattens them.
    entries = []
    for context in iter_route_contexts(app.routes):
        path = context.path or repr(context.original_route)
        methods = frozenset(context.methods or ())
        dependant = getattr(context, "dependant", None)
        entries.append(RouteEntry(path, methods, route_permission(path, methods, dependant)))
    return entries


@dataclass(frozen=True, slots=True)
class MatrixRow:
    method: str
    path: str
    permission: Permission
    roles: frozenset[Role]
    """roles allowed; PUBLIC rows also admit anonymous callers"""
    tokens: bool
    """whether an API token of an allowed role may call it (False: a signed-in person only)"""


def permission_matrix(app: FastAPI) -> list[MatrixRow]:
    """Every (method, path) of ``app`` with its permission and the roles it admits, sorted by path."""
    rows = [
        MatrixRow(method, entry.path, entry.permission, POLICY[entry.permission], entry.permission not in HUMAN_ONLY)
        for entry in app_routes(app)
        for method in sorted(entry.methods)
    ]
    return sorted(rows, key=lambda row: (row.path, row.method))


def matrix_markdown(app: FastAPI) -> str:
    """The permission matrix as a Markdown table (docs/API.md embeds it; a test keeps them equal)."""
    roles = list(Role)
    header = "| Method | Path | Permission | anonymous | " + " | ".join(r.value for r in roles) + " | API token |"
    rule = "|" + "---|" * (5 + len(roles))
    lines = [header, rule]
    for row in permission_matrix(app):
        anonymous = "yes" if allows(row.permission, None) else "-"
        cells = ["yes" if role in row.roles else "-" for role in roles]
        lines.append(
            f"| {row.method} | `{row.path}` | {row.permission.value} | {anonymous} | "
            + " | ".join(cells)
            + f" | {'yes' if row.tokens else 'person only'} |"
        )
    return "\n".join(lines) + "\n"
