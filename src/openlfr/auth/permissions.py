"""Who may do what: THE table, as data. Every API route declares one permission and every governed domain
function checks one (``Principal.require``); this module says which roles hold each, which permissions a
person must exercise in person (never through an API token), and which roles each role may grant.

Administration and operations are separate: admins manage the system and the admin and auditor accounts;
supervisors (the authorising officers) manage the supervisor and operator accounts. Neither side can give
itself, or a token it mints, the other side's powers.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from openlfr.auth.roles import Role


class Permission(StrEnum):
    PUBLIC = "public"
    """anyone, without logging in (health, login)"""
    AUTHENTICATED = "authenticated"
    """any logged-in account or valid token (own session, logout, API docs)"""
    USERS_MANAGE = "users:manage"
    """create accounts, change their role, disable or re-enable them: only accounts of the roles one grants"""
    TOKENS_MANAGE = "tokens:manage"
    """mint API tokens (never with more powers than one's own role) and revoke them"""
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
    CAMERAS_WALL = "cameras:wall"
    """the live camera wall: video of running cameras, every face blanked on the server except alerted matches"""
    DEPLOYMENTS_READ = "deployments:read"
    """deployment records, deployment and transparency reports, saved calibrations"""
    DEPLOYMENTS_MANAGE = "deployments:manage"
    """plan and change deployments, put an authorised one live, end or cancel one"""
    DEPLOYMENTS_AUTHORISE = "deployments:authorise"
    """authorise a deployment; override the minimum threshold; save a threshold calibration"""
    RETENTION_MANAGE = "retention:manage"
    """place and lift holds on alerts; run the retention purge now"""
    AUDIT_READ = "audit:read"
    """read, verify and export the audit chain"""
    COMPETENCE_READ = "competence:read"
    """the competence (training) records of accounts, with their history"""
    COMPETENCE_MANAGE = "competence:manage"
    """record that an operator or supervisor passed a course (a new record supersedes the last)"""


_ALL = frozenset(Role)

POLICY: Mapping[Permission, frozenset[Role]] = MappingProxyType(
    {
        Permission.PUBLIC: _ALL,
        Permission.AUTHENTICATED: _ALL,
        # Each side manages its own accounts (GRANTS says which); the domain checks the roles involved.
        Permission.USERS_MANAGE: frozenset({Role.ADMIN, Role.SUPERVISOR}),
        Permission.TOKENS_MANAGE: frozenset({Role.ADMIN, Role.SUPERVISOR}),
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
        # Live video with alerted matches' faces is for the officers who act on alerts, not for those who run the
        # system or audit it afterwards.
        Permission.CAMERAS_WALL: frozenset({Role.OPERATOR, Role.SUPERVISOR}),
        Permission.DEPLOYMENTS_READ: _ALL,
        # Planning and running a deployment is operational work; authorising it is the supervisor's alone.
        Permission.DEPLOYMENTS_MANAGE: frozenset({Role.SUPERVISOR, Role.OPERATOR}),
        Permission.DEPLOYMENTS_AUTHORISE: frozenset({Role.SUPERVISOR}),
        Permission.RETENTION_MANAGE: frozenset({Role.SUPERVISOR}),
        # Oversight reads the audit chain; supervisors answer for it; admins keep it running.
        Permission.AUDIT_READ: frozenset({Role.ADMIN, Role.AUDITOR, Role.SUPERVISOR}),
        # Supervisors answer for their officers' training (they manage the operational accounts); oversight
        # checks it.
        Permission.COMPETENCE_READ: frozenset({Role.ADMIN, Role.AUDITOR, Role.SUPERVISOR}),
        Permission.COMPETENCE_MANAGE: frozenset({Role.SUPERVISOR}),
    }
)

HUMAN_ONLY: frozenset[Permission] = frozenset(
    {
        # Identities are made by people: a token cannot mint tokens or manage accounts.
        Permission.USERS_MANAGE,
        Permission.TOKENS_MANAGE,
        # Decisions that a named officer answers for: authorising, overriding a threshold, reviewing an alert.
        Permission.DEPLOYMENTS_AUTHORISE,
        Permission.ALERTS_ADJUDICATE,
        # A training record is vouched for by a named supervisor.
        Permission.COMPETENCE_MANAGE,
    }
)
"""permissions a signed-in person must exercise; an API token of a role that holds them is refused"""

GRANTS: Mapping[Role, frozenset[Role]] = MappingProxyType(
    {
        Role.ADMIN: frozenset({Role.ADMIN, Role.AUDITOR}),
        Role.SUPERVISOR: frozenset({Role.SUPERVISOR, Role.OPERATOR}),
        Role.OPERATOR: frozenset(),
        Role.AUDITOR: frozenset(),
    }
)
"""the roles an account of each role may give to an account (create, change role, disable, re-enable)"""

MANAGING_ROLE: Mapping[Role, Role] = MappingProxyType(
    {granted: granter for granter, roles in GRANTS.items() for granted in roles}
)
"""for each role, the role that grants it (admin for admin and auditor, supervisor for supervisor and operator)"""


def allows(permission: Permission, role: Role | None) -> bool:
    """Whether ``role`` (None: anonymous) holds ``permission``."""
    if permission is Permission.PUBLIC:
        return True
    return role is not None and role in POLICY[permission]


def permissions_of(role: Role) -> frozenset[Permission]:
    return frozenset(p for p, roles in POLICY.items() if role in roles)


def within(role: Role, ceiling: Role) -> bool:
    """Whether every permission of ``role`` is also one of ``ceiling``'s (a token's role against its creator's)."""
    return permissions_of(role) <= permissions_of(ceiling)
