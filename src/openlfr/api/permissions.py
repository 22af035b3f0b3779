"""Who may do what: THE table. Every route declares one permission (``Require(Permission.X)``); this module
says which roles hold it. ``create_app`` refuses a route without a declared permission, and the tests check
every route against every role, anonymous included.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts

from openlfr.auth.roles import Role


class Permission(StrEnum):
    PUBLIC = "public"
    """anyone, without logging in (health, login)"""
    AUTHENTICATED = "authenticated"
    """any logged-in account or valid token (own session, logout, API docs)"""
    USERS_MANAGE = "users:manage"
    TOKENS_MANAGE = "tokens:manage"
    METRICS_READ = "metrics:read"
    WATCHLISTS_READ = "watchlists:read"
    WATCHLISTS_MANAGE = "watchlists:manage"
    """create watchlists, enrol and edit subjects, upload reference images, erase subjects, take snapshots"""
    ALERTS_READ = "alerts:read"
    """list and view alerts, their images and the live stream"""
    ALERTS_ADJUDICATE = "alerts:adjudicate"
    """confirm, reject or escalate an alert; record the outcome of an engagement"""
    CAMERAS_READ = "cameras:read"
    """camera list, health and the face-blurred live preview"""
    CAMERAS_MANAGE = "cameras:manage"
    DEPLOYMENTS_READ = "deployments:read"
    """deployment records, deployment and transparency reports"""
    DEPLOYMENTS_MANAGE = "deployments:manage"
    """plan and change deployments, put an authorised one live, end or cancel one"""
    DEPLOYMENTS_AUTHORISE = "deployments:authorise"
    """authorise a deployment; override the minimum threshold"""
    RETENTION_MANAGE = "retention:manage"
    """place and lift holds on alerts; run the retention purge now"""
    AUDIT_READ = "audit:read"
    """read, verify and export the audit chain"""


_ALL = frozenset(Role)

POLICY: Mapping[Permission, frozenset[Role]] = MappingProxyType(
    {
        Permission.PUBLIC: _ALL,
        Permission.AUTHENTICATED: _ALL,
        Permission.USERS_MANAGE: frozenset({Role.ADMIN}),
        Permission.TOKENS_MANAGE: frozenset({Role.ADMIN}),
        Permission.METRICS_READ: frozenset({Role.ADMIN, Role.AUDITOR}),
        # Operators need the subject behind an alert; supervisors approve watchlists; auditors review them.
        Permission.WATCHLISTS_READ: _ALL,
        # The authorising officer owns the watchlist; administrators run the system, not its contents.
        Permission.WATCHLISTS_MANAGE: frozenset({Role.SUPERVISOR}),
        Permission.ALERTS_READ: _ALL,
        # Every alert is reviewed by a trained officer: operators, and supervisors (escalations).
        Permission.ALERTS_ADJUDICATE: frozenset({Role.OPERATOR, Role.SUPERVISOR}),
        Permission.CAMERAS_READ: _ALL,
        Permission.CAMERAS_MANAGE: frozenset({Role.ADMIN}),
        Permission.DEPLOYMENTS_READ: _ALL,
        # Planning and running a deployment is operational work; authorising it is the supervisor's alone.
        Permission.DEPLOYMENTS_MANAGE: frozenset({Role.SUPERVISOR, Role.OPERATOR}),
        Permission.DEPLOYMENTS_AUTHORISE: frozenset({Role.SUPERVISOR}),
        Permission.RETENTION_MANAGE: frozenset({Role.SUPERVISOR}),
        # Oversight reads the audit chain; supervisors answer for it; admins keep it running.
        Permission.AUDIT_READ: frozenset({Role.ADMIN, Role.AUDITOR, Role.SUPERVISOR}),
    }
)


def allows(permission: Permission, role: Role | None) -> bool:
    """Whether ``role`` (None: anonymous) holds ``permission``."""
    if permission is Permission.PUBLIC:
        return True
    return role is not None and role in POLICY[permission]


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


def permission_matrix(app: FastAPI) -> list[MatrixRow]:
    """Every (method, path) of ``app`` with its permission and the roles it admits, sorted by path."""
    rows = [
        MatrixRow(method, entry.path, entry.permission, POLICY[entry.permission])
        for entry in app_routes(app)
        for method in sorted(entry.methods)
    ]
    return sorted(rows, key=lambda row: (row.path, row.method))


def matrix_markdown(app: FastAPI) -> str:
    """The permission matrix as a Markdown table (docs/API.md embeds it; a test keeps them equal)."""
    roles = list(Role)
    header = "| Method | Path | Permission | anonymous | " + " | ".join(r.value for r in roles) + " |"
    rule = "|" + "---|" * (4 + len(roles))
    lines = [header, rule]
    for row in permission_matrix(app):
        anonymous = "yes" if allows(row.permission, None) else "-"
        cells = ["yes" if role in row.roles else "-" for role in roles]
        lines.append(
            f"| {row.method} | `{row.path}` | {row.permission.value} | {anonymous} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines) + "\n"
