"""One way to make a time UTC, one ``utcnow``: the copies that SQLite's naive datetimes once called for are
gone (stored times come back aware through ``UTCDateTime``; tests/store/test_database.py)."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

import openlfr
from openlfr.utc import as_utc, utcnow

SRC = Path(openlfr.__file__).parent


def test_as_utc_reads_a_naive_time_as_utc_and_converts_an_aware_one() -> None:
    assert as_utc(datetime(2026, 12, 1, 9, 0)) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    paris = as_utc(datetime(2026, 12, 1, 10, 0, tzinfo=timezone(timedelta(hours=1))))
    assert (paris.hour, paris.utcoffset()) == (9, timedelta(0))
    assert utcnow().utcoffset() == timedelta(0)


@pytest.mark.slow
def test_the_helpers_are_defined_once() -> None:
    defined: dict[str, list[str]] = {"utcnow": [], "as_utc": []}
    replaced: list[str] = []
    for path in SRC.rglob("*.py"):
        module = path.relative_to(SRC).as_posix()
        if module.startswith("store/migrations/"):
            continue  # a migration is frozen code: it must not change when the application's helpers do
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in defined:
                defined[node.name].append(module)
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "replace"
                and any(k.arg == "tzinfo" for k in node.keywords)
            ):
                replaced.append(module)
    assert defined == {"utcnow": ["utc.py"], "as_utc": ["utc.py"]}
    assert replaced == ["utc.py"]
