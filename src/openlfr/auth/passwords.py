"""Password rules and argon2id hashing (argon2-cffi).

The rules refuse what an attacker tries first: fewer than 12 characters, a password from the list of the
20,000 most common ones (``data/common-passwords.txt.gz``, shipped in the package, see ``data/NOTICE``) —
also with digits or symbols added at either end (``password1234``) —, whitespace only, fewer than 5
different characters, and the username inside the password.
"""

from __future__ import annotations

import contextlib
import gzip
import re
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from openlfr.auth.errors import AccountInvalidError

MIN_LENGTH = 12
# argon2 hashes any length, but an attacker-chosen megabyte per login attempt is free CPU for them.
MAX_LENGTH = 1024
MIN_DISTINCT = 5

# Verified when the username does not exist, so that an unknown user costs the same time as a wrong password.
_DUMMY_PASSWORD = "openlfr-timing-equaliser"
# Digits, punctuation and spaces people add around a common word to pass length rules.
_DECORATION = re.compile(r"^[\d\W_]+|[\d\W_]+$")


def default_hasher() -> PasswordHasher:
    """argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile: t=3, m=64 MiB, p=4)."""
    return PasswordHasher()


_dummy_hashes: dict[tuple[int, int, int], str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hasher.hash(_DUMMY_PASSWORD)
    return _dummy_hashes[key]


@cache
def common_passwords() -> frozenset[str]:
    """The shipped deny-list (read once, on the first password check)."""
    data = resources.files("openlfr.auth").joinpath("data", "common-passwords.txt.gz").read_bytes()
    return frozenset(line.strip() for line in gzip.decompress(data).decode("utf-8").splitlines() if line.strip())


def _is_common(password: str) -> bool:
    lowered = password.strip().lower()
    bare = _DECORATION.sub("", lowered)
    common = common_passwords()
    return lowered in common or (len(bare) >= 4 and bare in common)


def check_password_rules(password: str, username: str) -> None:
    """AccountInvalidError naming the first rule ``password`` breaks."""
    if len(password) < MIN_LENGTH:
        raise AccountInvalidError(f"the password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise AccountInvalidError(f"the password must have at most {MAX_LENGTH} characters")
    if not password.strip():
        raise AccountInvalidError("the password must not be only spaces")
    if len(set(password)) < MIN_DISTINCT:
        raise AccountInvalidError(f"the password must have at least {MIN_DISTINCT} different characters")
    name = username.strip().lower()
    if len(name) >= 3 and name in password.lower():
        raise AccountInvalidError("the password must not contain the username")
    if password.strip().lower() == name:
        raise AccountInvalidError("the password must not be the username")
    if _is_common(password):
        raise AccountInvalidError("the password is on the list of common passwords: choose a less guessable one")


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
