"""``lfr user create|list|set-role|disable|enable|set-password|competence``: operator accounts, and their
competence (training) records.

Passwords are never arguments (they would land in shell history and ``ps``): they are asked for twice on a
terminal, or read from the first line of standard input otherwise (``printf '%s\\n' "$PW" | lfr user create``).

Every change is made by the signed-in user (`lfr login`; API tokens cannot manage accounts), under the rules of
``openlfr.auth.users``: admins manage admin and auditor accounts, supervisors supervisor and operator accounts.
There are no default accounts. The first admin — and the first supervisor — is made here without signing in,
and only while no enabled account of that role exists (bootstrap, audited as ``system:bootstrap`` with the
operating-system user).

Competence records (``lfr user competence add|list``; ``openlfr.auth.competence``) are recorded by a signed-in
supervisor, never for themselves: a new record supersedes the last and the history stays.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from openlfr.commands.common import (
    add_database_flag,
    cli_principal,
    iso_date,
    print_json,
    require_principal,
    settings_with_database,
)

ROLES = ("admin", "supervisor", "operator", "auditor")
COMPETENCES = ("operator", "supervisor")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("user", help="operator accounts: create, list, change role, disable")
    sub = parser.add_subparsers(dest="user_command", metavar="ACTION", required=True)

    create = _with_db(sub.add_parser("create", help="create an account (password from the terminal or stdin)"))
    create.add_argument("username", metavar="USERNAME")
    create.add_argument("--role", choices=ROLES, required=True, help="what the account may do (see docs/API.md)")
    create.set_defaults(handler=run_create)

    listing = _with_db(sub.add_parser("list", help="all accounts"))
    listing.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    listing.set_defaults(handler=run_list)

    role = _with_db(sub.add_parser("set-role", help="change the role of an account"))
    role.add_argument("username", metavar="USERNAME")
    role.add_argument("role", choices=ROLES, metavar="ROLE")
    role.set_defaults(handler=run_set_role)

    disable = _with_db(sub.add_parser("disable", help="disable an account and end its sessions"))
    disable.add_argument("username", metavar="USERNAME")
    disable.set_defaults(handler=run_disable, disabled=True)

    enable = _with_db(sub.add_parser("enable", help="re-enable a disabled account"))
    enable.add_argument("username", metavar="USERNAME")
    enable.set_defaults(handler=run_disable, disabled=False)

    password = _with_db(sub.add_parser("set-password", help="replace the password and end the account's sessions"))
    password.add_argument("username", metavar="USERNAME")
    password.set_defaults(handler=run_set_password)

    _register_competence(sub)


def _register_competence(sub: Any) -> None:
    parser = sub.add_parser("competence", help="training records: adjudicating and authorising need a current one")
    actions = parser.add_subparsers(dest="competence_command", metavar="ACTION", required=True)

    add = _with_db(actions.add_parser("add", help="record a passed course (supersedes the last record)"))
    add.add_argument("username", metavar="USERNAME")
    add.add_argument(
        "--competence",
        choices=COMPETENCES,
        required=True,
        help="operator: reviews alerts; supervisor: authorises deployments",
    )
    add.add_argument("--course", required=True, help="the course passed, e.g. 'LFR operator course v3'")
    add.add_argument("--passed", type=iso_date, required=True, help="the day it was passed (YYYY-MM-DD)")
    add.add_argument("--expires", type=iso_date, required=True, help="the last day it counts (YYYY-MM-DD)")
    add.set_defaults(handler=run_competence_add)

    listing = _with_db(actions.add_parser("list", help="an account's records, newest first, with the superseded"))
    listing.add_argument("username", metavar="USERNAME")
    listing.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    listing.set_defaults(handler=run_competence_list)


def _with_db(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    add_database_flag(parser)
    return parser


def _manager(args: argparse.Namespace, settings: Any, session: Any) -> Any:
    from openlfr.auth.permissions import Permission

    return require_principal(args, settings, session, Permission.USERS_MANAGE)


def read_password() -> str:
    """Twice from the terminal, or the first line of standard input when it is not a terminal."""
    from openlfr.auth.errors import AccountInvalidError

    if sys.stdin is not None and sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Repeat password: "):
            raise AccountInvalidError("the two passwords differ")
        return first
    line = sys.stdin.readline() if sys.stdin is not None else ""
    password = line.rstrip("\r\n")
    if not password:
        raise AccountInvalidError("no password on standard input (one line expected)")
    return password


def run_create(args: argparse.Namespace) -> int:
    from openlfr.auth.passwords import check_password_rules, default_hasher
    from openlfr.auth.roles import Role
    from openlfr.auth.users import bootstrap_needed, bootstrap_user, create_user, normalise_username
    from openlfr.commands.session import os_user
    from openlfr.store.context import open_store

    username = normalise_username(args.username)  # a bad name is refused before the password is asked for
    settings = settings_with_database(args)
    with open_store(settings) as store:
        with store.db.session() as session:
            principal = cli_principal(settings, session)
            bootstrap = principal is None and bootstrap_needed(session, Role(args.role))
            if not bootstrap:
                principal = _manager(args, settings, session)
        password = read_password()
        check_password_rules(password, username)
        with store.db.session() as session:
            if principal is None:
                user = bootstrap_user(session, default_hasher(), username, password, args.role, os_user=os_user())
            else:
                user = create_user(session, default_hasher(), username, password, args.role, by=principal)
            how = " (first of its role: bootstrap)" if principal is None else ""
            print(f"created user {user.username} ({user.role}){how}", file=sys.stderr)
    return 0


def run_list(args: argparse.Namespace) -> int:
    from openlfr.auth.users import list_users
    from openlfr.store.context import open_store

    with open_store(settings_with_database(args)) as store, store.db.session() as session:
        rows = [
            {"id": u.id, "username": u.username, "role": u.role, "disabled": u.disabled} for u in list_users(session)
        ]
    if args.json:
        print_json({"users": rows})
        return 0
    for row in rows:
        print(f"{row['username']:<32} {row['role']:<11} {'disabled' if row['disabled'] else 'enabled'}")
    return 0


def run_set_role(args: argparse.Namespace) -> int:
    from openlfr.auth.users import get_user_by_name, set_role
    from openlfr.store.context import open_store
    from openlfr.utc import utcnow

    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        principal = _manager(args, settings, session)
        user = set_role(session, get_user_by_name(session, args.username), args.role, by=principal, now=utcnow())
        print(f"{user.username}: role {user.role}", file=sys.stderr)
    return 0


def run_disable(args: argparse.Namespace) -> int:
    from openlfr.auth.users import get_user_by_name, set_disabled
    from openlfr.store.context import open_store
    from openlfr.utc import utcnow

    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        principal = _manager(args, settings, session)
        target = get_user_by_name(session, args.username)
        user = set_disabled(session, target, args.disabled, by=principal, now=utcnow())
        print(f"{user.username}: {'disabled' if user.disabled else 'enabled'}", file=sys.stderr)
    return 0


def run_set_password(args: argparse.Namespace) -> int:
    from openlfr.auth.passwords import default_hasher
    from openlfr.auth.users import get_user_by_name, set_password
    from openlfr.store.context import open_store
    from openlfr.utc import utcnow

    settings = settings_with_database(args)
    with open_store(settings) as store:
        with store.db.session() as session:
            principal = require_principal(args, settings, session)  # the owner, or whoever manages the account
        password = read_password()
        with store.db.session() as session:
            target = get_user_by_name(session, args.username)
            user = set_password(session, default_hasher(), target, password, by=principal, now=utcnow())
        print(f"{user.username}: password changed, sessions ended", file=sys.stderr)
    return 0


def competence_json(standing: Any) -> dict[str, Any]:
    return {
        "id": standing.id,
        "competence": standing.competence.value,
        "revision": standing.revision,
        "course": standing.course,
        "passed_on": standing.passed_on.isoformat(),
        "expires_on": standing.expires_on.isoformat(),
        "recorded_by": standing.recorded_by,
        "recorded_at": standing.recorded_at.isoformat(),
        "supersedes": standing.supersedes,
        "superseded": standing.superseded,
        "current": standing.current,
    }


def run_competence_add(args: argparse.Namespace) -> int:
    from openlfr.auth.competence import parse_competence, record_competence
    from openlfr.auth.permissions import Permission
    from openlfr.auth.users import get_user_by_name
    from openlfr.store.context import open_store
    from openlfr.utc import utcnow

    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        principal = require_principal(args, settings, session, Permission.COMPETENCE_MANAGE)
        record = record_competence(
            session,
            get_user_by_name(session, args.username),
            competence=parse_competence(args.competence),
            course=args.course,
            passed_on=args.passed,
            expires_on=args.expires,
            by=principal,
            now=utcnow(),
            separation_of_duties=settings.governance.separation_of_duties,
        )
        superseding = f", superseding revision {record.revision - 1}" if record.supersedes_id else ""
        print(
            f"{args.username}: {record.competence} competence ({record.course}) passed {record.passed_on}, "
            f"counts until {record.expires_on} (revision {record.revision}{superseding})",
            file=sys.stderr,
        )
    return 0


def run_competence_list(args: argparse.Namespace) -> int:
    from openlfr.auth.competence import standings
    from openlfr.auth.users import get_user_by_name
    from openlfr.store.context import open_store
    from openlfr.utc import utcnow

    # A read: like `lfr user list`, no sign-in (whoever holds the database holds the records anyway).
    with open_store(settings_with_database(args)) as store, store.db.session() as session:
        user = get_user_by_name(session, args.username)
        rows = [competence_json(standing) for standing in standings(session, user.id, utcnow())]
    if args.json:
        print_json({"username": user.username, "records": rows})
        return 0
    if not rows:
        print(f"{user.username}: no competence records", file=sys.stderr)
    for row in rows:
        state = "superseded" if row["superseded"] else ("current" if row["current"] else "NOT CURRENT")
        print(
            f"{row['competence']:<11} r{row['revision']:<3} {row['passed_on']} to {row['expires_on']}  "
            f"{state:<11} {row['course']}  (recorded by {row['recorded_by']})"
        )
    return 0
