"""``lfr user``, ``lfr login|logout|whoami``: the first admin (and supervisor) come from here, with the password
from stdin or the terminal; every other account change is made by the signed-in user."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from openlfr.cli import main
from openlfr.config.models import Settings
from openlfr.store.db import open_database
from tests.api.conftest import PASSWORD
from tests.helpers.patching import Replace


@pytest.fixture
def db_args(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, replace_function: Replace) -> list[str]:
    monkeypatch.setenv("LFR_DATA_DIR", str(tmp_path))
    # The production argon2 cost is the point of the CLI path, but 64 MiB x 3 passes per test is not needed.
    replace_function(
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
    assert main(["user", "create", "alice", "--role", "supervisor", *db_args]) == 1  # the two differ
    answers = iter([PASSWORD, PASSWORD])
    assert main(["user", "create", "alice", "--role", "supervisor", *db_args]) == 0


@pytest.mark.parametrize("stdin", ["", "\n", "short\n"])
def test_create_refuses_missing_or_weak_passwords(
    db_args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stdin: str
) -> None:
    _stdin(monkeypatch, stdin)
    assert main(["user", "create", "alice", "--role", "admin", *db_args]) == 1
    assert "account_invalid" in capsys.readouterr().err


def _login(monkeypatch: pytest.MonkeyPatch, db_args: list[str], username: str, password: str = PASSWORD) -> int:
    _stdin(monkeypatch, f"{username}\n{password}\n")
    return main(["login", *db_args])


@pytest.mark.slow
def test_sign_in_then_manage_accounts_of_ones_own_side(
    db_args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name, role in (("root", "admin"), ("sgt", "supervisor")):  # the bootstrap: first of each side
        _stdin(monkeypatch, PASSWORD + "\n")
        assert main(["user", "create", name, "--role", role, *db_args]) == 0
    capsys.readouterr()
    # A second admin needs a signed-in admin; an operator needs a signed-in supervisor.
    _stdin(monkeypatch, PASSWORD + "\n")
    assert main(["user", "create", "alice", "--role", "operator", *db_args]) == 1
    assert "not_signed_in" in capsys.readouterr().err
    assert _login(monkeypatch, db_args, "root") == 0
    session_file = tmp_path / "cli_session"
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600
    _stdin(monkeypatch, PASSWORD + "\n")
    assert main(["user", "create", "alice", "--role", "operator", *db_args]) == 1
    assert "supervisors manage operator accounts" in capsys.readouterr().err
    assert main(["user", "set-role", "root", "auditor", *db_args]) == 1  # nobody changes their own role
    assert _login(monkeypatch, db_args, "sgt") == 0
    assert main(["whoami", "--json", *db_args]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "sgt"
    _stdin(monkeypatch, PASSWORD + "\n")
    assert main(["user", "create", "alice", "--role", "operator", *db_args]) == 0
    assert main(["user", "set-role", "alice", "supervisor", *db_args]) == 0
    assert main(["user", "disable", "alice", *db_args]) == 0
    assert main(["user", "disable", "sgt", *db_args]) == 1  # not one's own account
    assert main(["user", "set-role", "alice", "admin", *db_args]) == 1  # never across to administration
    capsys.readouterr()
    assert main(["user", "list", "--json", *db_args]) == 0
    users = {u["username"]: u for u in json.loads(capsys.readouterr().out)["users"]}
    assert users["alice"]["role"] == "supervisor" and users["alice"]["disabled"] is True
    assert main(["user", "set-role", "nobody", "operator", *db_args]) == 1
    assert main(["logout", *db_args]) == 0
    assert not session_file.exists()
    assert main(["user", "disable", "alice", *db_args]) == 1
    assert "not_signed_in" in capsys.readouterr().err
    assert main(["audit", "log", "--action", "user.update", "--json", *db_args]) == 0
    actors = {e["actor"] for e in json.loads(capsys.readouterr().out)["entries"]}
    assert actors == {"user:sgt"}


def test_cli_login_is_rate_limited_and_audited_like_the_api(
    db_args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, PASSWORD + "\n")
    assert main(["user", "create", "root", "--role", "admin", *db_args]) == 0
    for _ in range(5):
        assert _login(monkeypatch, db_args, "root", "wrong password!") == 1
    assert _login(monkeypatch, db_args, "root") == 1  # the 6th is not even checked
    assert "rate_limited" in capsys.readouterr().err
    assert _login(monkeypatch, db_args, "my-password-typed-here", "x" * 12) == 1
    assert main(["audit", "log", "--action", "auth.login_failed", "--json", *db_args]) == 0
    entries = json.loads(capsys.readouterr().out)["entries"]
    assert len(entries) == 6 and {e["details"]["channel"] for e in entries} == {"cli"}
    assert "my-password-typed-here" not in json.dumps(entries)
    assert entries[-1]["details"]["account"] == "unknown"


def test_lfr_token_signs_scripts_in_and_a_bad_token_is_an_error(
    db_args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tests.helpers.accounts import cli_token

    token = cli_token(db_args[1], tmp_path, "supervisor", owner="sgt")
    monkeypatch.setenv("LFR_TOKEN", token)
    assert main(["whoami", *db_args]) == 0
    assert "token:cli-sgt (supervisor, minted by sgt)" in capsys.readouterr().out
    assert main(["watchlist", "create", "wl", *db_args]) == 0
    _stdin(monkeypatch, PASSWORD + "\n")
    assert main(["user", "create", "op", "--role", "operator", *db_args]) == 1  # accounts: people only
    assert "signed-in person" in capsys.readouterr().err
    monkeypatch.setenv("LFR_TOKEN", "lfr_not-a-token")
    assert main(["watchlist", "create", "wl2", *db_args]) == 1
    assert "not_signed_in" in capsys.readouterr().err


def test_competence_is_recorded_listed_and_required_from_the_command_line(
    db_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``lfr user competence add|list`` (issue 12 §6): recorded by the signed-in supervisor, a new record
    supersedes the last, refusals exit non-zero with the code and a readable message."""
    from tests.helpers.accounts import cli_sign_in, insert_user

    db = open_database(Settings(data_dir=tmp_path, database_url=db_args[1]))
    try:
        with db.session() as session:
            insert_user(session, "ann", "operator", competent=False)
    finally:
        db.close()
    add = ["user", "competence", "add", "ann", "--competence", "operator", "--course", "LFR operator course"]
    dates = ["--passed", "2026-01-10", "--expires", "2099-01-10"]
    assert main([*add, *dates, *db_args]) == 1  # nobody signed in
    assert "not_signed_in" in capsys.readouterr().err
    assert main(["user", "competence", "list", "ann", *db_args]) == 0  # reading needs no sign-in, as `user list`
    assert "ann: no competence records" in capsys.readouterr().err
    cli_sign_in(db_args[1], tmp_path, "sgt", "supervisor")
    assert main([*add, "--passed", "2025-01-10", "--expires", "2025-12-31", *db_args]) == 0
    assert "revision 1" in capsys.readouterr().err
    assert main([*add[:-1], "LFR operator refresher", *dates, *db_args]) == 0
    assert "superseding revision 1" in capsys.readouterr().err
    assert main(["user", "competence", "list", "ann", "--json", *db_args]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["revision"], r["course"], r["superseded"], r["current"]) for r in listed["records"]] == [
        (2, "LFR operator refresher", False, True),
        (1, "LFR operator course", True, False),
    ]
    assert main(["user", "competence", "list", "ann", *db_args]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "current" in lines[0] and "superseded" in lines[1]
    # Refusals: a supervisor competence for an operator account, dates backwards, a bad date, an unknown user.
    assert main([*add[:5], "supervisor", *add[6:], *dates, *db_args]) == 1
    assert "lfr: error [competence_invalid]: ann is an operator account" in capsys.readouterr().err
    assert main([*add, "--passed", "2026-01-10", "--expires", "2026-01-01", *db_args]) == 1
    assert "competence_invalid" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*add, "--passed", "10/01/2026", "--expires", "2099-01-10", *db_args])
    assert main(["user", "competence", "list", "nobody", *db_args]) == 1
    assert "not_found" in capsys.readouterr().err
