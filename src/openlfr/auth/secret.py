"""The session secret: configured, or generated once and kept in ``<data_dir>/session_secret`` (mode 0600).

No secret ships with OpenLFR: a shipped default would be known to every attacker.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

from pydantic import SecretStr

from openlfr.auth.errors import SessionSecretError
from openlfr.config.api import ApiConfig

log = logging.getLogger(__name__)

SECRET_FILE = "session_secret"
MIN_SECRET_CHARS = 32
# Values people paste from tutorials; refused even when long enough to pass the length rule.
KNOWN_DEFAULTS = frozenset({"changeme", "changethis", "secret", "password", "development", "insecure"})


def check_secret(value: str) -> None:
    if len(value) < MIN_SECRET_CHARS:
        raise SessionSecretError(f"the session secret must have at least {MIN_SECRET_CHARS} characters")
    lowered = value.lower()
    if any(word in lowered for word in KNOWN_DEFAULTS) or len(set(value)) < 8:
        raise SessionSecretError("the session secret looks like a placeholder: use a random value")


def load_or_create_secret(path: Path) -> SecretStr:
    """Read the secret file, creating it (0600, atomically) with a random secret when absent."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret_file(path)
    except OSError as exc:
        raise SessionSecretError(f"cannot create the session secret file {path}: {exc.strerror}") from exc
    value = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    log.info("generated a new session secret in %s", path)
    return SecretStr(value)


def _read_secret_file(path: Path) -> SecretStr:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SessionSecretError(
            f"{path} is readable by other users (mode {stat.S_IMODE(mode):o}): run `chmod 600 {path}`"
        )
    value = path.read_text(encoding="ascii").strip()
    check_secret(value)
    return SecretStr(value)


def resolve_secret(config: ApiConfig, data_dir: Path) -> SecretStr:
    """The secret to run with: the configured one (checked), else the one kept under ``data_dir``."""
    if config.session_secret is not None and config.session_secret.get_secret_value():
        if config.environment != "development":
            check_secret(config.session_secret.get_secret_value())
        return config.session_secret
    data_dir.mkdir(parents=True, exist_ok=True)
    return load_or_create_secret(data_dir / SECRET_FILE)
