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


def _cut_tail_and_rewrite_head(url: str, tmp_path: Path, keep: int) -> None:
    """What someone with write access to the database does to make the last entries vanish unnoticed."""
    _sql(url, tmp_path, f"DELETE FROM audit_entry WHERE seq > {keep}")
    _sql(
        url,
        tmp_path,
        f"UPDATE audit_head SET seq = {keep}, hash = (SELECT hash FROM audit_entry WHERE seq = {keep}) WHERE id = 1",
    )


def test_an_anchor_kept_elsewhere_catches_a_cut_tail_with_a_rewritten_head(
    db_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    anchor = tmp_path / "offsite" / "anchor.json"
    assert main(["audit", "anchor", "-o", str(anchor), *db_args]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert json.loads(anchor.read_text()) == printed
    assert (printed["seq"], len(printed["hmac_sha256"])) == (6, 64)
    assert anchor.stat().st_mode & 0o777 == 0o600
    assert main(["audit", "verify", "--anchor", str(anchor), "--json", *db_args]) == 0
    assert json.loads(capsys.readouterr().out)["checked_anchors"] == 1

    _cut_tail_and_rewrite_head(db_args[1], tmp_path, keep=1)
    assert main(["audit", "verify", *db_args]) == 0  # the chain alone cannot tell
    capsys.readouterr()
    assert main(["audit", "verify", "--anchor", str(anchor), *db_args]) == 3
    err = capsys.readouterr().err
    assert "entry 6: the anchor of" in err and "the log ends at 1 (entries cut from the end)" in err


@pytest.mark.slow
def test_an_anchor_catches_a_rewritten_entry_and_a_forged_anchor_is_refused(
    db_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    anchor = tmp_path / "anchor.json"
    assert main(["audit", "anchor", "-o", str(anchor), *db_args]) == 0
    capsys.readouterr()
    _sql(db_args[1], tmp_path, "UPDATE audit_entry SET hash = 'f' WHERE seq = 6")
    _sql(db_args[1], tmp_path, "UPDATE audit_head SET hash = 'f' WHERE id = 1")
    assert main(["audit", "verify", "--anchor", str(anchor), *db_args]) == 3
    assert "entry 6 does not have the hash anchored" in capsys.readouterr().err
    # Someone who edits the anchor to match needs the key.
    forged = json.loads(anchor.read_text())
    forged["hash"] = "f"
    anchor.write_text(json.dumps(forged))
    assert main(["audit", "verify", "--anchor", str(anchor), *db_args]) == 1
    assert "does not verify with the configured key" in capsys.readouterr().err
    del forged["hmac_sha256"]
    anchor.write_text(json.dumps(forged))
    assert main(["audit", "verify", "--anchor", str(anchor), *db_args]) == 1
    assert "is not signed, but a key is configured" in capsys.readouterr().err
    # Without a key, anchors are unsigned (and say so): their worth is where they are kept.
    monkeypatch.delenv("LFR_GOVERNANCE__AUDIT_EXPORT_KEY")
    assert main(["audit", "anchor", *db_args]) == 0
    captured = capsys.readouterr()
    assert "hmac_sha256" not in json.loads(captured.out) and "unsigned" in captured.err
