"""Helpers shared by sub-commands: settings, the engine, JSON output, progress bars, and who runs a governed
command (``require_principal``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tqdm import tqdm

from openlfr.config.loader import load_settings
from openlfr.config.models import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from openlfr.auth.permissions import Permission
    from openlfr.auth.principal import Principal
    from openlfr.auth.sessions import SessionPolicy
    from openlfr.eval.dataset import DatasetEmbeddings, LabelledImage

T = TypeVar("T")


def settings_from(args: argparse.Namespace) -> Settings:
    return load_settings(getattr(args, "config", None))


def print_json(payload: Any) -> None:
    json.dump(payload, sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")
    sys.stdout.flush()


def progress(items: Iterable[T], *, total: int | None, desc: str, enabled: bool | None = None) -> Iterator[T]:
    """A progress bar on stderr (stdout stays clean for JSON); hidden when stderr is not a terminal
    unless ``enabled`` forces it."""
    disable = None if enabled is None else not enabled
    yield from tqdm(items, total=total, desc=desc, unit="img", file=sys.stderr, disable=disable, leave=False)


def add_progress_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: only when stderr is a terminal)",
    )


def add_database_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="database URL, e.g. postgresql://user@host/db (default: $LFR_DATABASE_URL, else the embedded "
        "SQLite file <data_dir>/openlfr.db); the schema is created or migrated on first use",
    )


def settings_with_database(args: argparse.Namespace) -> Settings:
    """Settings with ``--db`` (when given) taking precedence over the config file and LFR_DATABASE_URL."""
    settings = settings_from(args)
    url = getattr(args, "db", None)
    return settings.model_copy(update={"database_url": url}) if url else settings


def iso_date(text: str) -> date:
    """argparse type for a YYYY-MM-DD date, with a readable error."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def embed_labelled_folder(args: argparse.Namespace) -> tuple[list[LabelledImage], DatasetEmbeddings]:
    """One embedding per image of ``args.dataset`` (DATASET/<identity>/<image>) with the configured engine: its
    largest face, or with ``--face centred`` the face nearest the centre."""
    from openlfr.engine import FaceEngine
    from openlfr.eval.dataset import embed_dataset, scan_dataset

    settings = settings_from(args)  # a bad config is reported before any work starts
    items = scan_dataset(args.dataset)
    engine = FaceEngine.from_settings(settings)
    data = embed_dataset(
        engine,
        items,
        progress=lambda it: progress(it, total=len(items), desc="embedding", enabled=args.progress),
        face=getattr(args, "face", "largest"),
    )
    return items, data


def add_face_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--face",
        choices=("largest", "centred"),
        default="largest",
        help="which face of an image is its subject: the largest (default) or the one nearest the centre "
        "(datasets cropped around their subject, such as LFW)",
    )


# -- who runs the command ------------------------------------------------------------------------------------

TOKEN_ENV = "LFR_TOKEN"
CLI_SESSION_FILE = "cli_session"


def database_identity(session: Session) -> str:
    """Which database a CLI session belongs to (the URL without its password)."""
    bind = session.get_bind()
    return bind.engine.url.render_as_string(hide_password=True)


def cli_session_policy(settings: Settings) -> SessionPolicy:
    from datetime import timedelta

    from openlfr.auth.sessions import SessionPolicy

    api = settings.api
    return SessionPolicy(
        idle=timedelta(minutes=api.session_idle_minutes), max_age=timedelta(minutes=api.cli_session_minutes)
    )


def cli_session_path(settings: Settings) -> Path:
    return settings.data_dir / CLI_SESSION_FILE


def read_cli_session(settings: Settings) -> dict[str, str] | None:
    """The saved `lfr login` ({"session", "database"}), or None when there is none (or it is unreadable)."""
    path = cli_session_path(settings)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("session"), str):
        return None
    return {"session": data["session"], "database": str(data.get("database", ""))}


def write_cli_session(settings: Settings, value: str, database: str) -> Path:
    """Keep the session value in ``<data_dir>/cli_session``, mode 0600 from its creation (atomic replace)."""
    import os

    path = cli_session_path(settings)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        json.dump({"session": value, "database": database}, handle)
    temporary.replace(path)
    return path


def cli_principal(settings: Settings, session: Session) -> Principal | None:
    """The principal of ``LFR_TOKEN`` or of the saved `lfr login`, or None; NotSignedInError for a token
    that does not authenticate (an invalid token is an error, never a fall-back to the saved login)."""
    import os

    from openlfr.auth.errors import NotSignedInError
    from openlfr.auth.sessions import resume_session
    from openlfr.auth.tokens import authenticate_token
    from openlfr.auth.users import user_principal
    from openlfr.utc import utcnow

    now = utcnow()
    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        principal = authenticate_token(session, token, now)
        if principal is None:
            raise NotSignedInError(
                f"{TOKEN_ENV} is not a usable API token (unknown, expired or revoked, or its creator is disabled or "
                "no longer holds its role)"
            )
        session.flush()  # last_used_at
        return principal
    saved = read_cli_session(settings)
    if saved is None or saved["database"] != database_identity(session):
        return None
    found = resume_session(session, saved["session"], cli_session_policy(settings), now, kind="cli")
    session.flush()  # last_seen_at, or the deletion of an ended session
    if found is None:
        return None
    record, user = found
    from openlfr.utc import as_utc

    return user_principal(user, expires_at=as_utc(record.expires_at), session_value=saved["session"])


def require_principal(
    args: argparse.Namespace, settings: Settings, session: Session, permission: Permission | None = None
) -> Principal:
    """Who runs this governed command: the user signed in with `lfr login`, or the API token in ``LFR_TOKEN``.
    NotSignedInError without either; PermissionDeniedError when ``permission`` is given and not held. Every
    governed command calls this before it changes anything, and passes the principal to the domain."""
    from openlfr.auth.errors import NotSignedInError

    principal = cli_principal(settings, session)
    if principal is None:
        command = " ".join(str(part) for part in (getattr(args, "command", None), _action(args)) if part)
        raise NotSignedInError(
            f"`lfr {command}` changes governed records and must name who does it: sign in first with `lfr login` "
            f"(or set {TOKEN_ENV} to an API token)"
        )
    if permission is not None:
        principal.require(permission)
    return principal


def _action(args: argparse.Namespace) -> str | None:
    command = getattr(args, "command", None)
    value = getattr(args, f"{command}_command", None) if command else None
    return str(value) if value else None
