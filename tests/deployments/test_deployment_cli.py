"""``lfr deployment``: made by whoever is signed in (no typed names), re-authorisation after a change, overrides
by another supervisor than the creator, cancel."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from openlfr.cli import main
from openlfr.config.models import Settings
from openlfr.store.db import open_database
from tests.deployments.helpers import make_snapshot, register_cameras
from tests.helpers.accounts import cli_sign_in


def test_deployment_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+pysqlite:///{tmp_path / 'lfr.db'}"
    monkeypatch.setenv("LFR_DATA_DIR", str(tmp_path))
    db = open_database(Settings(data_dir=tmp_path, database_url=url))
    try:
        with db.session() as session:
            snapshot = make_snapshot(session).id
            register_cameras(session, "c1", "c2")
    finally:
        db.close()

    def lfr(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([*args, "--db", url])
        out, err = capsys.readouterr()
        return code, out, err

    start = datetime.now(UTC) + timedelta(days=1)
    plan = [
        "--name", "Bridge", "--use-case", "missing person", "--purpose", "find a missing, vulnerable adult",
        "--legal-basis", "common law", "--justification", "last seen here", "--location", "Bridge St",
        "--start", start.isoformat(), "--end", (start + timedelta(hours=2)).isoformat(), "--camera", "c1",
        "--snapshot", snapshot,
    ]  # fmt: skip
    code, _, err = lfr("deployment", "create", *plan)
    assert code == 1 and "not_signed_in" in err  # governed: somebody must be signed in
    for typed_name in (("create", *plan, "--override-by", "sgt"), ("authorise", "x", "--by", "sgt", "--text", "t")):
        with pytest.raises(SystemExit):  # there is no option to name somebody else
            lfr("deployment", *typed_name)
    cli_sign_in(url, tmp_path, "op", "operator")
    # A deployment names registered cameras only.
    code, _, err = lfr("deployment", "create", *[arg if arg != "c1" else "nope" for arg in plan])
    assert code == 1 and "[camera_unknown]" in err and "'nope'" in err
    code, _, err = lfr("deployment", "create", *plan, "--threshold", "0.4", "--override-reason", "r")
    assert code == 1 and "deployments:authorise" in err  # an operator cannot override
    code, out, err = lfr("deployment", "create", *plan, "--json")
    assert code == 0, err
    created = json.loads(out)
    deployment_id = created["id"]
    assert (created["created_by"], created["signage_confirmed"]) == ("op", False)
    cli_sign_in(url, tmp_path, "sgt", "supervisor")
    code, out, err = lfr(
        "deployment", "update", deployment_id, "--threshold", "0.4", "--override-reason", "vulnerable", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["threshold_override"]["by"] == "sgt"
    code, _, err = lfr("deployment", "authorise", deployment_id, "--text", "ok")
    assert code == 1 and "signage" in err
    assert lfr("deployment", "update", deployment_id, "--signage-confirmed")[0] == 0
    # An untrained supervisor is refused with the code and who must record what (issue 12 §6).
    cli_sign_in(url, tmp_path, "rookie", "supervisor", competent=False)
    code, _, err = lfr("deployment", "authorise", deployment_id, "--text", "approved")
    assert code == 1 and "lfr: error [competence_required]: rookie has no supervisor competence record" in err
    assert "lfr user competence add rookie --competence supervisor" in err
    cli_sign_in(url, tmp_path, "sgt", "supervisor")
    code, out, _ = lfr("deployment", "authorise", deployment_id, "--text", "approved")
    assert code == 0 and "authorised" in out and "by sgt" in out
    cli_sign_in(url, tmp_path, "op", "operator")
    code, _, err = lfr("deployment", "update", deployment_id, "--camera", "ghost")
    assert code == 1 and "[camera_unknown]" in err
    code, out, _ = lfr("deployment", "update", deployment_id, "--camera", "c2", "--json")
    updated = json.loads(out)
    assert (updated["status"], updated["camera_ids"], updated["authorisation"]["current"]) == ("draft", ["c2"], False)
    code, out, _ = lfr("deployment", "show", deployment_id)
    assert "NOT CURRENT" in out
    code, out, _ = lfr("deployment", "list", "--status", "draft", "--json")
    assert [d["id"] for d in json.loads(out)["deployments"]] == [deployment_id]
    code, out, err = lfr("deployment", "cancel", deployment_id, "--reason", "found safe", "--json")
    assert code == 0, err
    assert (json.loads(out)["status"], json.loads(out)["templates_destroyed"]) == ("cancelled", 3)
    code, out, _ = lfr("audit", "log", "--target", deployment_id, "--json")
    steps = [(e["actor"], e["action"]) for e in json.loads(out)["entries"]]
    assert steps == [
        ("user:op", "deployment.create"),
        ("user:sgt", "deployment.update"),
        ("user:sgt", "deployment.threshold_override"),
        ("user:sgt", "deployment.update"),
        ("user:sgt", "deployment.authorise"),
        ("user:op", "deployment.update"),
        ("user:op", "deployment.cancel"),
    ]
