"""``lfr login``, ``lfr logout``, ``lfr whoami``: who runs the governed commands.

``lfr login`` checks the password exactly as the API does (``openlfr.auth.login``: the same rate limits and
audit entries, the client being ``local:<os user>``) and keeps a short-lived session (``api.cli_session_minutes``,
ending sooner when unused for ``api.session_idle_minutes``) in ``<data_dir>/cli_session``, mode 0600, inside
the data folder like everything the system writes. Scripts set ``LFR_TOKEN`` to an API token instead.
Username and password come from the terminal, or — when standard input is not a terminal — from its first
two lines (the username line is skipped when ``--username`` is given).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from openlfr.commands.common import (
    TOKEN_ENV,
    add_database_flag,
    cli_principal,
    cli_session_path,
    cli_session_policy,
    database_identity,
    print_json,
    read_cli_session,
    settings_with_database,
    write_cli_session,
)


def register(subparsers: Any) -> None:
    login = subparsers.add_parser("login", help="sign in as a user for governed commands (kept in the data folder)")
    login.add_argument("--username", default=None, help="the account (default: asked for)")
    add_database_flag(login)
    login.set_defaults(handler=run_login)

    logout = subparsers.add_parser("logout", help="end the `lfr login` session")
    add_database_flag(logout)
    logout.set_defaults(handler=run_logout)

    whoami = subparsers.add_parser("whoami", help="who the governed commands would run as")
    whoami.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_database_flag(whoami)
    whoami.set_defaults(handler=run_whoami)


def os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def _credentials(args: argparse.Namespace) -> tuple[str, str]:
    from openlfr.auth.errors import InvalidLoginError

    interactive = sys.stdin is not None and sys.stdin.isatty()
    if interactive:
        username = args.username or input("Username: ")
        return username, getpass.getpass("Password: ")

    def line() -> str:
        return sys.stdin.readline().rstrip("\r\n") if sys.stdin is not None else ""

    username = args.username or line()
    password = line()
    if not username or not password:
        raise InvalidLoginError("no username and password on standard input (one line each expected)")
    return username, password


def run_login(args: argparse.Namespace) -> int:
    from openlfr.auth import passwords
    from openlfr.auth.login import LoginLimits, LoginRequest, login
    from openlfr.auth.sessions import start_session
    from openlfr.store.context import open_store
    from openlfr.utc import utcnow

    settings = settings_with_database(args)
    username, password = _credentials(args)
    api = settings.api
    limits = LoginLimits(
        per_pair=api.login_max_failures_per_user,
        per_client=api.login_max_failures_per_ip,
        window_s=api.login_window_s,
        backoff_after=api.login_account_backoff_after,
        backoff_max_s=api.login_account_backoff_max_s,
    )
    with open_store(settings) as store:
        request = LoginRequest(username, password, f"local:{os_user()}", "cli")
        user = login(store.db.sessions, passwords.default_hasher(), limits, request, utcnow)
        with store.db.session() as session:
            issued = start_session(session, user, cli_session_policy(settings), utcnow(), kind="cli")
            expires = issued.record.expires_at
            write_cli_session(settings, issued.value, database_identity(session))
    print(f"signed in as {user.username} ({user.role}) until {expires:%Y-%m-%d %H:%M} UTC", file=sys.stderr)
    return 0


def run_logout(args: argparse.Namespace) -> int:
    from openlfr.auth.sessions import sign_out
    from openlfr.store.context import open_store

    settings = settings_with_database(args)
    saved = read_cli_session(settings)
    if saved is not None:
        with open_store(settings) as store, store.db.session() as session:
            principal = cli_principal_without_token(settings, session)
            sign_out(session, saved["session"], by=principal, channel="cli")
        cli_session_path(settings).unlink(missing_ok=True)
    print("signed out", file=sys.stderr)
    return 0


def cli_principal_without_token(settings: Any, session: Any) -> Any:
    import os

    token = os.environ.pop(TOKEN_ENV, None)
    try:
        return cli_principal(settings, session)
    finally:
        if token is not None:
            os.environ[TOKEN_ENV] = token


def run_whoami(args: argparse.Namespace) -> int:
    from openlfr.auth.errors import NotSignedInError
    from openlfr.store.context import open_store

    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        principal = cli_principal(settings, session)
    if principal is None:
        raise NotSignedInError(f"not signed in: `lfr login`, or set {TOKEN_ENV} to an API token")
    role = principal.role.value if principal.role is not None else None
    data = {
        "kind": principal.kind,
        "name": principal.name,
        "role": role,
        "account": principal.account,
        "expires_at": principal.expires_at.isoformat() if principal.expires_at else None,
    }
    if args.json:
        print_json(data)
    else:
        expiry = f" until {principal.expires_at:%Y-%m-%d %H:%M} UTC" if principal.expires_at else ""
        on_behalf = f", minted by {principal.account}" if principal.kind == "token" else ""
        print(f"{principal.label} ({role}{on_behalf}){expiry}")
    return 0
