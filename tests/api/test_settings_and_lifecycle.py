"""No shipped secret: weak or missing ones are refused outside development; the generated one is private.
And the composition root starts in order, stops in reverse, and unwinds a failed start."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from openlfr.api import Services, create_app
from openlfr.auth.errors import SessionSecretError
from openlfr.auth.secret import load_or_create_secret, resolve_secret
from openlfr.config.api import ApiConfig
from openlfr.config.models import Settings
from openlfr.lifecycle import Lifecycle, Step
from openlfr.store.db import open_database


@pytest.mark.slow
@pytest.mark.parametrize("secret", [None, "", "changeme", "x" * 40, "changeme-changeme-changeme-changeme-1234"])
def test_create_app_refuses_missing_or_weak_secret_outside_development(tmp_path: Path, secret: str | None) -> None:
    settings = Settings(
        data_dir=tmp_path, api=ApiConfig(session_secret=SecretStr(secret) if secret is not None else None)
    )
    db = open_database(settings)
    try:
        with pytest.raises(SessionSecretError):
            create_app(settings, Services(sessions=db.sessions))
        development = settings.model_copy(update={"api": ApiConfig(environment="development")})
        create_app(development, Services(sessions=db.sessions))  # development may run on a throwaway secret
    finally:
        db.close()


def test_secret_file_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    first = resolve_secret(ApiConfig(), tmp_path)
    path = tmp_path / "session_secret"
    assert path.stat().st_mode & 0o777 == 0o600
    assert resolve_secret(ApiConfig(), tmp_path).get_secret_value() == first.get_secret_value()
    assert len(first.get_secret_value()) >= 32
    other = resolve_secret(ApiConfig(), tmp_path / "elsewhere")
    assert other.get_secret_value() != first.get_secret_value()


def test_a_readable_or_weak_secret_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "session_secret"
    load_or_create_secret(path)
    path.chmod(0o644)
    with pytest.raises(SessionSecretError, match="readable by other users"):
        load_or_create_secret(path)
    path.chmod(0o600)
    path.write_text("changeme\n")
    with pytest.raises(SessionSecretError):
        load_or_create_secret(path)


def test_configured_secret_wins_over_the_file(tmp_path: Path) -> None:
    value = "k3Jx9-Qm2Lp8-Zr5Tw1-Yb7Nc4-Hd6Vf0-Gs"
    assert resolve_secret(ApiConfig(session_secret=SecretStr(value)), tmp_path).get_secret_value() == value
    assert not (tmp_path / "session_secret").exists()


def test_lifecycle_order_and_unwinding() -> None:
    events: list[str] = []

    def step(name: str, fail: bool = False) -> Step:
        def start() -> None:
            if fail:
                raise RuntimeError(name)
            events.append(f"start {name}")

        return Step(name, start, lambda: events.append(f"stop {name}"))

    life = Lifecycle([step("a"), step("b"), step("c")])
    life.start()
    life.stop()
    assert events == ["start a", "start b", "start c", "stop c", "stop b", "stop a"]

    events.clear()
    with pytest.raises(RuntimeError, match="c"):
        Lifecycle([step("a"), step("b"), step("c", fail=True)]).start()
    assert events == ["start a", "start b", "stop b", "stop a"]
    with pytest.raises(ValueError, match="unique"):
        Lifecycle([step("a"), step("a")])
