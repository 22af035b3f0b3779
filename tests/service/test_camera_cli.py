"""``lfr camera add|list|remove``: the registry deployments name, with the API's rules and the audit chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openlfr.audit import iter_entries
from openlfr.config.loader import load_settings
from openlfr.engine import FaceEngine
from openlfr.store.context import open_store
from tests.helpers.accounts import cli_sign_in
from tests.helpers.console import end_live, enrol_subject, live_deployment, snapshot
from tests.watchlists.helpers import fake_config, run_cli


def test_camera_registry_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = fake_config(tmp_path)
    settings = load_settings(Path(config))
    # Registering cameras is an administrator's governed action: the command runs as a signed-in admin.
    cli_sign_in(f"sqlite+pysqlite:///{settings.data_dir / 'openlfr.db'}", settings.data_dir, "root", "admin")
    base = ("--config", config, "camera")
    added = run_cli(capsys, *base, "add", "gate-1", "rtsp://admin:hunter2@10.1.2.3/stream", "--json")
    assert added.code == 0, added.err
    camera = added.json()
    assert camera["target"] == "rtsp://***@10.1.2.3/stream" and "hunter2" not in added.out
    listed = run_cli(capsys, *base, "list", "--json").json()["cameras"]
    assert [c["name"] for c in listed] == ["gate-1"] and "hunter2" not in json.dumps(listed)
    monkeypatch.setenv("LFR_SOURCES__ALLOWED_HOSTS", '["10.1.0.0/16"]')
    refused = run_cli(capsys, *base, "add", "gate-2", "rtsp://192.168.9.9/stream")
    assert refused.code == 1 and "[camera_host_not_allowed]" in refused.err
    assert run_cli(capsys, *base, "add", "gate-3", "rtsp://10.1.9.9/stream").code == 0
    bad = run_cli(capsys, *base, "add", "../x", "rtsp://10.1.9.9/stream")
    assert bad.code == 1 and "[camera_invalid]" in bad.err
    # A camera a deployment that is not over names stays registered.
    settings = load_settings(config)
    engine = FaceEngine.from_settings(settings)
    with open_store(settings) as store:
        enrol_subject(store, engine, 1, "alice")
        mandate = live_deployment(store, snapshot(store, engine), [camera["id"]])
    kept = run_cli(capsys, *base, "remove", camera["id"])
    assert kept.code == 1 and "named by deployment" in kept.err
    with open_store(settings) as store:
        end_live(store, mandate.deployment_id)
    assert run_cli(capsys, *base, "remove", camera["id"]).code == 0
    with open_store(settings) as store, store.db.session() as session:
        actions = [e.action for e in iter_entries(session) if e.action.startswith("camera.")]
    assert actions == ["camera.add", "camera.add", "camera.remove"]


def test_camera_zone_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = fake_config(tmp_path)
    settings = load_settings(Path(config))
    url = f"sqlite+pysqlite:///{settings.data_dir / 'openlfr.db'}"
    cli_sign_in(url, settings.data_dir, "root", "admin")
    base = ("--config", config, "camera")
    camera = run_cli(capsys, *base, "add", "gate-1", "rtsp://10.1.2.3/stream", "--json").json()

    # Shown by id or name; a new camera looks at its whole view.
    shown = run_cli(capsys, *base, "zone", "gate-1", "--json")
    assert shown.code == 0, shown.err
    assert shown.json() == {
        "id": camera["id"],
        "name": "gate-1",
        "zone": None,
        "described": "the whole view",
        "points": None,
    }
    square = "0.25,0.25; 0.75,0.25; 0.75,0.75; 0.25,0.75"
    placed = run_cli(capsys, *base, "zone", camera["id"], "--set", square)
    assert placed.code == 0, placed.err
    assert "zone set: a 4-sided area covering 25% of the camera's view" in placed.out
    assert "points: 0.25,0.25; 0.75,0.25; 0.75,0.75; 0.25,0.75" in placed.out
    assert run_cli(capsys, *base, "zone", "gate-1", "--json").json()["zone"] == [
        [0.25, 0.25],
        [0.75, 0.25],
        [0.75, 0.75],
        [0.25, 0.75],
    ]

    # The zone's rules are the API's (openlfr.zone): each refusal says why, with its code, and changes nothing.
    refusals = {
        "0.1,0.1; 0.9,0.1": "at least three points",
        "0.1,0.1; 1.2,0.1; 0.5,0.9": "between 0 and 1",
        "0.1,0.1; 0.9,0.9; 0.9,0.1; 0.1,0.9": "cross each other",
        "0.1,0.1; 0.9,0.1; zero,0.5": "is not 'x,y'",
        "0.1,0.1; 0.9,0.1; 0.5": "is not 'x,y'",
    }
    for points, why in refusals.items():
        refused = run_cli(capsys, *base, "zone", "gate-1", "--set", points)
        assert refused.code == 1 and "[zone_invalid]" in refused.err and why in refused.err, (points, refused.err)
    assert run_cli(capsys, *base, "zone", "gate-1", "--json").json()["points"] == square
    unknown = run_cli(capsys, *base, "zone", "gate-9", "--clear")
    assert unknown.code == 1 and "gate-9" in unknown.err

    # Frozen while a deployment authorised for it is live (set_camera_zone's rule, as for the API).
    engine = FaceEngine.from_settings(settings)
    with open_store(settings) as store:
        enrol_subject(store, engine, 1, "alice")
        mandate = live_deployment(store, snapshot(store, engine), [camera["id"]])
    frozen = run_cli(capsys, *base, "zone", "gate-1", "--clear")
    assert frozen.code == 1 and "live deployment" in frozen.err
    with open_store(settings) as store:
        end_live(store, mandate.deployment_id)
    cleared = run_cli(capsys, *base, "zone", "gate-1", "--clear")
    assert cleared.code == 0 and "zone cleared: the whole view" in cleared.out

    # Only a signed-in person with cameras:manage changes it; each change is audited in their name.
    cli_sign_in(url, settings.data_dir, "olly", "operator")
    denied = run_cli(capsys, *base, "zone", "gate-1", "--set", square)
    assert denied.code == 1 and "cameras:manage" in denied.err
    assert run_cli(capsys, *base, "zone", "gate-1").code == 0  # showing it is reading, like `camera list`
    with open_store(settings) as store, store.db.session() as session:
        zone_entries = [
            (e.action, e.actor, e.details["zone"]) for e in iter_entries(session) if e.action == "camera.zone"
        ]
    assert zone_entries == [
        ("camera.zone", "user:root", [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]]),
        ("camera.zone", "user:root", None),
    ]
