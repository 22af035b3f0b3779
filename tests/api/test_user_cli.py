"""``lfr user``: the first admin comes from here, with the password from stdin or the terminal."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from openlfr.cli import main
from openlfr.config.models import Settings
from openlfr.store.db import open_database
from tests.api.conftest import PASSWORD


@pytest.fixture
def db_args(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("LFR_DATA_DIR", str(tmp_path))
    # The production argon2 cost is the point of the CLI path, but 64 MiB x 3 passes per test is not needed.
    monkeypatch.setattr(
        "openlfr.auth.passwords.default_hasher", lambda: PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    return ["--db", f"sqlite+pysqlite:///{tmp_path / 'cli.db'}"]


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_create_reads_the_password_from_stdin(
    db_args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _stdin(monkeypatch, PASSWORD + "\n")
    assert main(["user", "create", "Admin", "--role", "admin", *db_args]) == 0
    out, err = capsys.readouterr()
    assert "created user admin (admin)" in err and PASSWORD not in out + err

    db = open_database(Settings(data_dir=tmp_path, database_url=db_args[1]))
    try:
        from openlfr.auth.passwords import verify_password
        from openlfr.auth.users import find_user

        with db.session() as session:
            user = find_user(session, "admin")
            assert user is not None and user.role == "admin"
            assert verify_password(PasswordHasher(), user.password_hash, PASSWORD)
    finally:
        db.close()

    assert main(["user", "list", "--json", *db_args]) == 0
    listed = json.loads(capsys.readouterr().out)["users"]
    assert [(u["username"], u["role"], u["disabled"]) for u in listed] == [("admin", "admin", False)]


def test_create_prompts_twice_on_a_terminal(db_args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Tty(""))
    answers = iter([PASSWORD, PASSWORD + "typo"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["user", "create", "alice", "--role", "operator", *db_args]) == 1  # the two differ
    answers = iter([PASSWORD, PASSWORD])
    assert main(["user", "create", "alice", "--role", "operator", *db_args]) == 0


@pytest.mark.parametrize("stdin", ["", "\n", "short\n"])
def test_create_refuses_missing_or_weak_passwords(
    db_args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stdin: str
) -> None:
    _stdin(monkeypatch, stdin)
    assert main(["user", "create", "alice", "--role", "admin", *db_args]) == 1
    assert "account_invalid" in capsys.readouterr().err


def test_set_role_disable_and_last_admin(
    db_args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, role in (("root", "admin"), ("alice", "operator")):
        _stdin(monkeypatch, PASSWORD + "\n")
        assert main(["user", "create", name, "--role", role, *db_args]) == 0
    assert main(["user", "set-role", "alice", "supervisor", *db_args]) == 0
    assert main(["user", "disable", "alice", *db_args]) == 0
    assert main(["user", "disable", "root", *db_args]) == 1
    assert "last_admin" in capsys.readouterr().err
    assert main(["user", "list", "--json", *db_args]) == 0
    users = {u["username"]: u for u in json.loads(capsys.readouterr().out)["users"]}
    assert users["alice"]["role"] == "supervisor" and users["alice"]["disabled"] is True
    assert main(["user", "set-role", "nobody", "admin", *db_args]) == 1
