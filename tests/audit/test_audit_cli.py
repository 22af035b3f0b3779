"""``lfr audit verify|export|log`` on SQLite and PostgreSQL, with the database tampered with directly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from openlfr.audit import append_audit
from openlfr.cli import main
from openlfr.config.models import Settings
from openlfr.store.db import open_database
from tests.helpers.accounts import stand_in_supervisor

KEY = "k" * 40


@pytest.fixture
def db_args(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("LFR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LFR_GOVERNANCE__AUDIT_EXPORT_KEY", KEY)
    db = open_database(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        for i in range(6):
            with db.session() as session:
                append_audit(
                    session, actor="user:alice", action="test.step", target_type="thing", target_id=str(i), details={}
                )
    finally:
        db.close()
    return ["--db", database_url]


def _sql(url: str, tmp_path: Path, statement: str) -> None:
    db = open_database(Settings(data_dir=tmp_path, database_url=url))
    try:
        with db.engine.begin() as connection:
            connection.execute(text(statement))
    finally:
        db.close()


def test_verify_passes_on_an_intact_chain(db_args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", *db_args]) == 0
    assert "audit chain intact: 6 entries" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("statement", "where"),
    [
        ("UPDATE audit_entry SET details = '[]' WHERE seq = 4", "entry 4: content does not match"),
        ("DELETE FROM audit_entry WHERE seq = 3", "entry 4: entries 3 are missing"),
        ("UPDATE audit_entry SET seq = seq + 100 WHERE seq = 2", "entry 3: entries 2 are missing"),
        ("DELETE FROM audit_entry WHERE seq = 6", "entry 6: the chain head says the last entry is 6"),
    ],
    ids=["edited", "deleted", "moved", "truncated"],
)
def test_verify_fails_and_says_where(
    db_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], statement: str, where: str
) -> None:
    _sql(db_args[1], tmp_path, statement)
    assert main(["audit", "verify", *db_args]) == 3
    assert f"audit chain broken at {where}" in capsys.readouterr().err


def test_export_is_signed_logged_and_checked_by_verify_against(
    db_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "audit.jsonl"
    assert main(["audit", "export", str(out), *db_args]) == 1  # an export is audited: who made it?
    assert "not_signed_in" in capsys.readouterr().err
    stand_in_supervisor(monkeypatch)
    assert main(["audit", "export", str(out), *db_args]) == 0
    assert "HMAC-signed" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "audit.jsonl.manifest.json").read_text())
    assert manifest["entries"] == 6 and len(manifest["hmac_sha256"]) == 64
    assert main(["audit", "log", "--action", "audit.export", "--json", *db_args]) == 0
    (entry,) = json.loads(capsys.readouterr().out)["entries"]
    assert (
        entry["actor"] == "user:tester"
        and entry["details"]["entries"] == 6
        and entry["details"]["sha256"] == manifest["sha256"]
    )
    assert main(["audit", "verify", "--against", str(out), "--json", *db_args]) == 0
    assert json.loads(capsys.readouterr().out)["checked_against_export"] == 6
    # An entry rewritten with a fresh hash differs from the exported copy (a whole-chain rewrite, which the
    # chain alone cannot see, is in test_chain.py).
    _sql(db_args[1], tmp_path, "UPDATE audit_entry SET actor = 'user:mallory', hash = 'f' WHERE seq = 2")
    assert main(["audit", "verify", "--against", str(out), *db_args]) == 3
    err = capsys.readouterr().err
    assert "entry 2: content does not match" in err and "entry 2: entry differs from the exported copy" in err


def test_verify_against_an_export_with_the_wrong_key_fails(
    db_args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "audit.jsonl"
    stand_in_supervisor(monkeypatch)
    assert main(["audit", "export", str(out), *db_args]) == 0
    monkeypatch.setenv("LFR_GOVERNANCE__AUDIT_EXPORT_KEY", "z" * 40)
    assert main(["audit", "verify", "--against", str(out), *db_args]) == 1
    assert "signature" in capsys.readouterr().err
