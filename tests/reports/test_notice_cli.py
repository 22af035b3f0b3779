"""``lfr deployment signage-placed|signage`` and ``lfr report signage|leaflet|notice-feed``: placements recorded
as the signed-in person, printable files readable by their owner only."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from openlfr.audit import iter_entries
from openlfr.cli import main
from openlfr.config.models import Settings
from openlfr.store.db import open_database
from tests.deployments.helpers import add_user, make_snapshot, register_cameras
from tests.helpers.accounts import cli_sign_in
from tests.reports.notice_helpers import A3, A5, BASE_URL, approx, decode_qr, read_pdf, words


@pytest.mark.slow
def test_notice_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+pysqlite:///{tmp_path / 'lfr.db'}"
    monkeypatch.setenv("LFR_DATA_DIR", str(tmp_path))
    db = open_database(Settings(data_dir=tmp_path, database_url=url))
    with db.session() as session:
        snapshot = make_snapshot(session).id
        register_cameras(session, "c1")
        add_user(session, "sgt", "supervisor")
    cli_sign_in(url, tmp_path, "pc.cli", "operator")  # the operator plans it and records the signs

    def lfr(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([*args, "--db", url])
        out, err = capsys.readouterr()
        return code, out, err

    start = datetime.now(UTC) + timedelta(minutes=1)
    code, out, err = lfr(
        "deployment", "create", "--name", "Quayside", "--use-case", "public event", "--purpose", "find wanted people",
        "--legal-basis", "common law", "--justification", "j", "--location", "Quayside, Newcastle",
        "--start", start.isoformat(), "--end", (start + timedelta(hours=2)).isoformat(), "--camera", "c1",
        "--snapshot", snapshot, "--signage-confirmed", "--json",
    )  # fmt: skip
    assert code == 0, err
    deployment_id = json.loads(out)["id"]
    cli_sign_in(url, tmp_path, "sgt", "supervisor")
    assert lfr("deployment", "authorise", deployment_id, "--text", "approved")[0] == 0
    cli_sign_in(url, tmp_path, "pc.cli", "operator")
    code, _, err = lfr("deployment", "start", deployment_id)
    assert code == 1 and "no signs are recorded" in err
    code, _, err = lfr("deployment", "signage", deployment_id)
    assert code == 0 and "no signs recorded" in err
    code, out, err = lfr("deployment", "signage-placed", deployment_id, "--location", "Quayside steps", "--json")
    assert code == 0, err
    placement = json.loads(out)
    assert (placement["location"], placement["placed_by"]) == ("Quayside steps", "pc.cli")
    code, out, _ = lfr("deployment", "signage", deployment_id, "--json")
    assert [p["location"] for p in json.loads(out)["placements"]] == ["Quayside steps"]
    assert lfr("deployment", "start", deployment_id)[0] == 0

    # Without governance.notice the sign is refused, naming what is missing.
    sign = tmp_path / "out" / "sign.pdf"
    code, _, err = lfr("report", "signage", deployment_id, "-o", str(sign))
    assert code == 1 and "governance.notice.public_base_url" in err and not sign.exists()

    monkeypatch.setenv("LFR_GOVERNANCE__NOTICE__PUBLIC_BASE_URL", BASE_URL)
    monkeypatch.setenv("LFR_GOVERNANCE__NOTICE__CONTACT__ORGANISATION", "Northumbria Example Police")
    monkeypatch.setenv("LFR_GOVERNANCE__NOTICE__CONTACT__PHONE", "101")
    monkeypatch.setenv("LFR_GOVERNANCE__NOTICE__SUBJECT_ACCESS__EMAIL", "sar@police.example")
    code, _, err = lfr("report", "signage", deployment_id)
    assert code == 1 and "--output" in err  # no PDF on a terminal
    sign.parent.mkdir()
    sign.write_bytes(b"old")
    sign.chmod(0o644)  # an existing file is narrowed to the owner too
    code, _, err = lfr("report", "signage", deployment_id, "--format", "pdf", "-o", str(sign))
    assert code == 0, err
    assert stat.S_IMODE(sign.stat().st_mode) == 0o600
    (page,) = read_pdf(sign.read_bytes(), dpi=72)
    assert approx(page.size, A3)
    assert decode_qr(page.image) == f"{BASE_URL}/public/deployments/{deployment_id}"
    assert "Quayside, Newcastle" in words(page.text) and "Northumbria Example Police" in words(page.text)

    leaflet = tmp_path / "leaflet.pdf"
    assert lfr("report", "leaflet", deployment_id, "-o", str(leaflet))[0] == 0
    assert stat.S_IMODE(leaflet.stat().st_mode) == 0o600
    pages = read_pdf(leaflet.read_bytes())
    assert len(pages) == 2 and approx(pages[0].size, A5)
    code, out, _ = lfr("report", "leaflet", deployment_id, "--format", "html")
    assert code == 0 and "size: A5 portrait" in out and "Quayside, Newcastle" in out

    feed = tmp_path / "feed.json"
    assert lfr("report", "notice-feed", "--format", "json", "-o", str(feed))[0] == 0
    assert stat.S_IMODE(feed.stat().st_mode) == 0o600
    listed = json.loads(feed.read_text())["deployments"]
    assert [(d["id"], d["status"], d["signage"][0]["location"]) for d in listed] == [
        (deployment_id, "live", "Quayside steps")
    ]
    assert "pc.cli" not in feed.read_text() and "sgt" not in json.dumps(listed)
    code, out, _ = lfr("report", "notice-feed")
    assert code == 0 and "Quayside" in out and "<table>" in out

    with db.session() as session:
        actions = [(e.actor, e.action) for e in iter_entries(session, target_id=deployment_id)]
        feeds = [e.actor for e in iter_entries(session, action="report.notice_feed")]
    db.close()
    assert ("user:pc.cli", "deployment.signage_placed") in actions
    assert [a for a in actions if a[1].startswith("report.")] == [
        ("user:pc.cli", "report.signage"),
        ("user:pc.cli", "report.leaflet"),
        ("user:pc.cli", "report.leaflet"),
    ]
    assert feeds == ["user:pc.cli", "user:pc.cli"]
