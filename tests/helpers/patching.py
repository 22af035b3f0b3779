"""Replacing a module's function for one test without leaking the replacement into later tests.

``monkeypatch.setattr("openlfr.utc.utcnow", fake)`` is undone after the test, but a module imported for the
first time during the test (the CLI imports its commands lazily) may copy the fake by name
(``from openlfr.utc import utcnow``) and keep it for the rest of the session: a later test in the same process
then sees a frozen clock or a stand-in user, depending on which tests ran before (under xdist, on which worker).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator

import pytest

Replace = Callable[[str, object], None]


@pytest.fixture
def replace_function(monkeypatch: pytest.MonkeyPatch) -> Iterator[Replace]:
    """``replace("package.module.name", stand_in)`` for this test; afterwards the modules first imported during
    the test get the original back wherever they copied the stand-in."""
    replaced: list[tuple[str, object, object, set[str]]] = []

    def replace(target: str, stand_in: object) -> None:
        module_name, name = target.rsplit(".", 1)
        module = importlib.import_module(module_name)
        replaced.append((name, getattr(module, name), stand_in, set(sys.modules)))
        monkeypatch.setattr(module, name, stand_in)

    yield replace
    for name, original, stand_in, before in replaced:
        for key in set(sys.modules) - before:
            module = sys.modules.get(key)
            if module is not None and getattr(module, name, None) is stand_in:
                setattr(module, name, original)
