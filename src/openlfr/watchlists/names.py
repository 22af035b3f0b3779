"""The watchlist name rule, shared by the API and the command line.

A name appears in URLs (``/api/watchlists/{name}``), in audit entries, reports and shell commands, so it is
plain: 1-64 ASCII letters, digits, spaces, ``_``, ``.`` or ``-``, starting and ending with a letter, digit,
``_``, ``.`` or ``-`` (no leading or trailing space) and starting with a letter or digit (so never ``.`` or
``..``). No ``/`` (the name could not be addressed), no control, format or bidirectional characters (a
right-to-left mark makes a name display as another one), no look-alike letters from other scripts. Names
are unique regardless of case: ``Events`` and ``events`` cannot both exist.
"""

from __future__ import annotations

import re

from openlfr.errors import OpenLFRError

MAX_LENGTH = 64
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 _.-]{0,62}[A-Za-z0-9_.-])?")
RULE = (
    "a watchlist name is 1-64 ASCII letters, digits, spaces, '_', '.' or '-', starting with a letter or digit "
    "(no '/', control or invisible characters)"
)


class WatchlistNameError(OpenLFRError, ValueError):
    code = "watchlist_name_invalid"


def check_watchlist_name(name: str) -> str:
    """``name`` without surrounding whitespace if it follows the rule; WatchlistNameError otherwise."""
    candidate = name.strip(" ")
    if not candidate:
        raise WatchlistNameError("a watchlist needs a name (" + RULE + ")")
    if len(candidate) > MAX_LENGTH or _NAME.fullmatch(candidate) is None or "  " in candidate:
        raise WatchlistNameError(f"{candidate[:80]!r} is not a valid watchlist name: {RULE}")
    return candidate


def name_key(name: str) -> str:
    """What two names must not share: their case-folded form."""
    return name.casefold()
