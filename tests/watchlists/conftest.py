"""The watchlist commands run as a signed-in supervisor (signing in is tested in tests/api/test_user_cli.py)."""

from __future__ import annotations

import pytest

from tests.helpers.accounts import stand_in_supervisor


@pytest.fixture(autouse=True)
def signed_in(monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in_supervisor(monkeypatch)
