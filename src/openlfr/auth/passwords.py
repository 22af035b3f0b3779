"""Password rules and argon2id hashing (argon2-cffi)."""

from __future__ import annotations

import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from openlfr.auth.errors import AccountInvalidError

MIN_LENGTH = 12
# argon2 hashes any length, but an attacker-chosen megabyte per login attempt is free CPU for them.
MAX_LENGTH = 1024

# Verified when the username does not exist, so that an unknown user costs the same time as a wrong password.
_DUMMY_PASSWORD = "openlfr-timing-equaliser"


def default_hasher() -> PasswordHasher:
    """argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile: t=3, m=64 MiB, p=4)."""
    return PasswordHasher()


_dummy_hashes: dict[tuple[int, int, int], str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hasher.hash(_DUMMY_PASSWORD)
    return _dummy_hashes[key]


def check_password_rules(password: str, username: str) -> None:
    if len(password) < MIN_LENGTH:
        raise AccountInvalidError(f"the password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise AccountInvalidError(f"the password must have at most {MAX_LENGTH} characters")
    if password.strip().lower() == username.strip().lower():
        raise AccountInvalidError("the password must not be the username")


def hash_password(hasher: PasswordHasher, password: str) -> str:
    return hasher.hash(password)


def verify_password(hasher: PasswordHasher, stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``; with no hash, spends the same time and says False."""
    if len(password) > MAX_LENGTH:
        return False
    if stored_hash is None:
        with contextlib.suppress(VerificationError):
            hasher.verify(_dummy_hash(hasher), password)
        return False
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
