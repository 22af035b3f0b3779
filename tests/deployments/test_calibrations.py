"""Saved threshold calibrations: over HTTP and with `lfr calibration save`, by a supervisor in person, audited;
a file edited by hand is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from openlfr.cli import main
from tests.api.conftest import Api, build_api, make_settings
from tests.deployments.helpers import calibration_report
from tests.helpers.accounts import cli_sign_in


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from build_api(make_settings(tmp_path))


def test_save_over_http_needs_a_supervisor_in_person(api: Api) -> None:
    report = calibration_report(watchlist_size=1000, passers_by=6000, false_alerts=1)
    token = api.token("supervisor")
    by_token = api.client().post("/api/calibrations", json=report, headers={"Authorization": f"Bearer {token}"})
    assert by_token.status_code == 403
    operator, op_csrf = api.session_client("op", "operator")
    assert operator.post("/api/calibrations", json=report, headers=op_csrf).status_code == 403
    sgt, csrf = api.session_client("sgt", "supervisor")
    edited = {**report, "threshold": 0.30}
    refused = sgt.post("/api/calibrations", json=edited, headers=csrf)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "calibration_invalid"
    saved = sgt.post("/api/calibrations", json=report, headers=csrf)
    assert saved.status_code == 201, saved.text
    assert saved.json()["saved_by"] == "sgt" and saved.json()["watchlist_size"] == 1000
    listed = operator.get("/api/calibrations").json()
    assert [c["id"] for c in listed] == [saved.json()["id"]]
    entries = sgt.get("/api/audit/entries", params={"action": "calibration.save"}).json()
    assert [(e["actor"], e["target_id"]) for e in entries] == [("user:sgt", saved.json()["id"])]


def test_lfr_calibration_save_and_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+pysqlite:///{tmp_path / 'lfr.db'}"
    monkeypatch.setenv("LFR_DATA_DIR", str(tmp_path))
    path = tmp_path / "cal.json"
    path.write_text(json.dumps(calibration_report(watchlist_size=10, passers_by=6000, false_alerts=1)))
    assert main(["calibration", "save", str(path), "--db", url]) == 1
    assert "not_signed_in" in capsys.readouterr().err
    cli_sign_in(url, tmp_path, "sgt", "supervisor")
    assert main(["calibration", "save", str(path), "--json", "--db", url]) == 0
    saved = json.loads(capsys.readouterr().out)
    assert saved["saved_by"] == "sgt"
    assert main(["calibration", "list", "--json", "--db", url]) == 0
    assert [c["id"] for c in json.loads(capsys.readouterr().out)["calibrations"]] == [saved["id"]]
    path.write_text("[1, 2]")
    assert main(["calibration", "save", str(path), "--db", url]) == 1
    assert "calibration_invalid" in capsys.readouterr().err
