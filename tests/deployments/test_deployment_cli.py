"""``lfr deployment``: supervisors named by account, re-authorisation after a change, overrides, cancel."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from openlfr.cli import main
from openlfr.config.models import Settings
from openlfr.store.db import open_database
from tests.deployments.helpers import add_user, make_snapshot, register_cameras


def test_deployment_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+pysqlite:///{tmp_path / 'lfr.db'}"
    monkeypatch.setenv("LFR_DATA_DIR", str(tmp_path))
    db = open_database(Settings(data_dir=tmp_path, database_url=url))
    try:
        with db.session() as session:
            snapshot = make_snapshot(session).id
            register_cameras(session, "c1", "c2")
            add_user(session, "sgt", "supervisor")
            add_user(session, "op", "operator")
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
    # A deployment names registered cameras only.
    code, _, err = lfr("deployment", "create", *[arg if arg != "c1" else "nope" for arg in plan])
    assert code == 1 and "[camera_unknown]" in err and "'nope'" in err
    code, _, err = lfr(
        "deployment", "create", *plan, "--threshold", "0.4", "--override-by", "op", "--override-reason", "r"
    )
    assert code == 1 and "not an enabled supervisor" in err
    code, _, err = lfr("deployment", "create", *plan, "--threshold", "0.4", "--override-reason", "r")
    assert code == 1 and "--override-by" in err
    code, out, err = lfr(
        "deployment", "create", *plan, "--threshold", "0.4", "--override-by", "sgt", "--override-reason", "vulnerable",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    created = json.loads(out)
    deployment_id = created["id"]
    assert created["threshold_override"]["by"] == "sgt" and created["signage_confirmed"] is False
    code, _, err = lfr("deployment", "authorise", deployment_id, "--by", "sgt", "--text", "ok")
    assert code == 1 and "signage" in err
    assert lfr("deployment", "update", deployment_id, "--signage-confirmed")[0] == 0
    assert lfr("deployment", "authorise", deployment_id, "--by", "op", "--text", "ok")[0] == 1
    code, out, _ = lfr("deployment", "authorise", deployment_id, "--by", "sgt", "--text", "approved")
    assert code == 0 and "authorised" in out and "by sgt" in out
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
    actions = [e["action"] for e in json.loads(out)["entries"]]
    assert actions == [
        "deployment.create",
        "deployment.threshold_override",
        "deployment.update",
        "deployment.authorise",
        "deployment.update",
        "deployment.cancel",
    ]
