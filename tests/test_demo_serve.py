"""``lfr demo --serve`` (``make demo``): the demo state it builds, and the real server it starts, where the
printed operator logs in and sees (and confirms) alerts for the performer in the looping clip."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import select

from openlfr.audit import verify_chain
from openlfr.auth.competence import Competence, require_competence
from openlfr.auth.passwords import default_hasher, verify_password
from openlfr.auth.users import find_user, get_user_by_name, user_principal
from openlfr.cli import main
from openlfr.commands.demo_serve import (
    ADMIN,
    AUDITOR,
    MARKER,
    OPERATOR,
    SUPERVISOR,
    TRAINER,
    DemoError,
    credentials_text,
    demo_settings,
    prepare_demo,
    reset_data_dir,
)
from openlfr.config.models import Settings
from openlfr.deployments.service import get_deployment, in_window, is_authorised
from openlfr.service.registry import list_cameras
from openlfr.store.context import open_store
from openlfr.store.governance_models import AuditEntry
from openlfr.store.models import SnapshotTemplate, Template
from openlfr.utc import utcnow
from openlfr.watchlists.subjects import get_watchlist, members
from tests.helpers.data import shared_data
from tests.helpers.waiting import GENEROUS_S

PERFORMER = "lin_manuel_miranda"
CREDENTIALS = re.compile(r"^\s+(\w+)\s+(demo-[a-z]+)\s+password: (\S+)", re.MULTILINE)


def _settings(data_dir: Path, port: int | None = None) -> Settings:
    return demo_settings(argparse.Namespace(config=None, data_dir=data_dir, port=port))


def test_the_demo_has_its_own_data_folder_and_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LFR_DATABASE_URL", "postgresql://someone@production-db/lfr")
    monkeypatch.setenv("LFR_DATA_DIR", str(tmp_path / "real"))
    settings = _settings(tmp_path / "demo", port=8123)
    assert settings.data_dir == tmp_path / "demo" and settings.database_url is None
    assert settings.api.port == 8123 and settings.api.host == "127.0.0.1"
    default = demo_settings(argparse.Namespace(config=None, data_dir=None, port=None))
    assert default.data_dir == Path(".demo") and default.api.port == 8000


def test_only_a_demo_folder_or_an_empty_one_is_reset(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "openlfr.db").write_bytes(b"precious")
    with pytest.raises(DemoError, match="refusing to reset"):
        reset_data_dir(real)
    assert (real / "openlfr.db").read_bytes() == b"precious"
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(DemoError, match="symbolic link"):
        reset_data_dir(tmp_path / "link")

    demo = reset_data_dir(tmp_path / "demo")  # absent: made
    assert (demo / MARKER).is_file()
    (demo / "old.db").write_bytes(b"old demo")
    assert reset_data_dir(demo) == demo  # made by the demo: emptied
    assert sorted(p.name for p in demo.iterdir()) == [MARKER]


def test_demo_flags_need_serve(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--port", "8001"]) == 1
    assert "go with --serve" in capsys.readouterr().err


@pytest.mark.model
@pytest.mark.slow
def test_prepare_demo_builds_a_live_authorised_deployment(tmp_path: Path) -> None:
    data = shared_data()
    settings = _settings(tmp_path / "demo")
    logged: list[str] = []
    first = prepare_demo(settings, data, log=logged.append)
    state = prepare_demo(settings, data, log=logged.append)  # twice: the second run starts afresh
    assert state.data_dir == (tmp_path / "demo").resolve() and (state.data_dir / MARKER).is_file()
    printed = credentials_text(state, "http://127.0.0.1:8000/")
    found = {username: (role, password) for role, username, password in CREDENTIALS.findall(printed)}
    assert {username: role for username, (role, _) in found.items()} == {
        OPERATOR: "operator",
        SUPERVISOR: "supervisor",
        AUDITOR: "auditor",
        ADMIN: "admin",
    }  # one account per role, so a new user sees what each role sees
    assert len({*(password for _, password in found.values()), *(a.password for a in first.accounts)}) == 8

    hasher = default_hasher()  # what the API verifies logins with (Services.password_hasher)
    now = utcnow()
    with open_store(settings.model_copy(update={"data_dir": state.data_dir})) as store, store.db.session() as s:
        for username, (role, password) in found.items():
            user = find_user(s, username)
            assert user is not None and user.role == role and not user.disabled
            assert password not in user.password_hash
            assert verify_password(hasher, user.password_hash, password)
            assert not verify_password(hasher, user.password_hash, password + "x")
        admin = find_user(s, ADMIN)
        assert admin is not None
        old = next(a.password for a in first.accounts if a.username == ADMIN)
        assert not verify_password(hasher, admin.password_hash, old)  # the first run's password is gone
        supervisor = find_user(s, SUPERVISOR)
        assert supervisor is not None and supervisor.role == "supervisor"

        subjects = {subject.external_ref: subject for subject in members(s, get_watchlist(s, state.watchlist))}
        assert PERFORMER in subjects and PERFORMER in state.subjects
        templates = s.scalars(select(Template).where(Template.subject_id == subjects[PERFORMER].id)).all()
        assert len(templates) == 1

        (camera,) = list_cameras(s)
        assert camera.id == state.camera_id and camera.loop
        assert Path(camera.source) == (data / "video" / "hamilton_short.mp4").resolve()

        deployment = get_deployment(s, state.deployment_id)
        assert deployment.status == "live" and is_authorised(deployment)
        assert deployment.authorised_by == SUPERVISOR and deployment.signage_confirmed
        assert in_window(deployment, now) and in_window(deployment, now + timedelta(hours=7))
        assert deployment.camera_ids == [camera.id]
        # The model's calibrated default, with no override: the demo bends no threshold rule.
        assert deployment.threshold_default is not None
        assert deployment.threshold == state.threshold == deployment.threshold_default
        assert deployment.threshold_override_by is None
        snapshot_subjects = set(
            s.scalars(select(SnapshotTemplate.subject_id).where(SnapshotTemplate.snapshot_id == deployment.snapshot_id))
        )
        assert subjects[PERFORMER].id in snapshot_subjects

        assert verify_chain(s).ok
        # The import and the snapshot are audited as `lfr watchlist import|snapshot` audit them.
        audited = {entry.action: entry for entry in s.scalars(select(AuditEntry))}
        imported = json.loads(audited["watchlist.import"].details)
        assert imported["name"] == state.watchlist and imported["rejected"] == state.rejected
        assert imported["enrolled"] == imported["items"] - state.rejected > 0
        snapshotted = audited["snapshot.create"]
        assert snapshotted.target_id == deployment.snapshot_id
        snapshot_details = json.loads(snapshotted.details)
        assert snapshot_details["watchlist"] == state.watchlist and snapshot_details["subjects"] == len(state.subjects)
        # Every step is done by a real account of the role it needs: the operator plans and starts the
        # deployment, another person — the supervisor — authorises it; nothing is done under a typed name.
        assert (deployment.created_by, deployment.created_by_account) == (OPERATOR, OPERATOR)
        assert deployment.authorised_by == SUPERVISOR != deployment.created_by
        actors = {entry.action: entry.actor for entry in s.scalars(select(AuditEntry))}
        assert actors["deployment.create"] == f"user:{OPERATOR}" and actors["deployment.start"] == f"user:{OPERATOR}"
        assert actors["deployment.authorise"] == f"user:{SUPERVISOR}"
        assert actors["watchlist.import"] == actors["snapshot.create"] == f"user:{SUPERVISOR}"
        assert actors["camera.add"] == f"user:{ADMIN}"
        creators = {
            json.loads(e.details)["username"]: e.actor
            for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "user.create"))
        }
        assert creators == {
            ADMIN: "system:bootstrap",
            SUPERVISOR: "system:bootstrap",
            OPERATOR: f"user:{SUPERVISOR}",
            AUDITOR: f"user:{ADMIN}",
            TRAINER: f"user:{SUPERVISOR}",
        }
        # The officers are trained (governance.require_competence holds as in production): nobody recorded
        # their own, and the training lead who recorded the supervisor's cannot sign in afterwards.
        trained = {
            (json.loads(e.details)["username"], json.loads(e.details)["competence"]): e.actor
            for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "user.competence.record"))
        }
        assert trained == {
            (SUPERVISOR, "supervisor"): f"user:{TRAINER}",
            (SUPERVISOR, "operator"): f"user:{TRAINER}",
            (OPERATOR, "operator"): f"user:{SUPERVISOR}",
        }
        for username, competence in trained:
            user = get_user_by_name(s, username)
            require_competence(s, user_principal(user), Competence(competence), utcnow())
        assert get_user_by_name(s, TRAINER).disabled
        assert not any(actor.startswith("cli:") for actor in actors.values())
    assert any("reset on every run" in line for line in logged)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.model
@pytest.mark.slow
def test_make_demo_serves_alerts_the_printed_operator_can_confirm(tmp_path: Path) -> None:
    data = shared_data()
    port = _free_port()
    real = tmp_path / "real"  # the user's own data: the demo must leave it alone
    env = {
        **os.environ,
        "LFR_SHARED_DATA": str(data),
        "LFR_DATA_DIR": str(real),
        "LFR_DATABASE_URL": f"sqlite+pysqlite:///{real / 'openlfr.db'}",
    }
    for name in ("LFR_API__SESSION_SECRET", "LFR_API__PORT", "LFR_CONFIG"):
        env.pop(name, None)
    stderr_path = tmp_path / "stderr.log"
    lines: list[str] = []
    started = time.monotonic()
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "openlfr", "--log-level", "info", "demo", "--serve", "--data", str(data),
             "--data-dir", str(tmp_path / "demo"), "--port", str(port)],
            env=env, stdout=subprocess.PIPE, stderr=stderr, text=True,
        )  # fmt: skip
        assert process.stdout is not None
        reader = threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True)
        reader.start()
        try:
            accounts: dict[str, str] = {}
            while time.monotonic() - started < GENEROUS_S and process.poll() is None and OPERATOR not in accounts:
                accounts = {user: pw for _, user, pw in CREDENTIALS.findall("".join(lines))}
                time.sleep(0.2)
            assert OPERATOR in accounts and ADMIN in accounts, f"no credentials: {stderr_path.read_text()[-3000:]}"
            base = f"http://127.0.0.1:{port}"
            assert f"open {base}/ and sign in" in "".join(lines)

            with httpx.Client(base_url=base, timeout=10) as admin:
                wrong = admin.post("/api/auth/login", json={"username": ADMIN, "password": "wrong" * 4})
                assert wrong.status_code == 401
                right = admin.post("/api/auth/login", json={"username": ADMIN, "password": accounts[ADMIN]})
                assert right.status_code == 200 and right.json()["role"] == "admin"
            with httpx.Client(base_url=base, timeout=10) as operator:
                assert operator.get("/api/alerts").status_code == 401
                login = operator.post("/api/auth/login", json={"username": OPERATOR, "password": accounts[OPERATOR]})
                assert login.status_code == 200, login.text
                csrf = login.json()["csrf_token"]
                alert = None
                while alert is None and time.monotonic() - started < GENEROUS_S:
                    page = operator.get("/api/alerts")
                    assert page.status_code == 200, page.text
                    alert = next(
                        (a for a in page.json()["items"] if (a["subject"] or {}).get("external_ref") == PERFORMER), None
                    )
                    if alert is None:
                        assert process.poll() is None, stderr_path.read_text()[-3000:]
                        time.sleep(0.5)
                assert alert is not None, f"no alert: {stderr_path.read_text()[-3000:]}"
                assert alert["mode"] == "production" and alert["source"] == "hamilton-stage"
                assert alert["deployment_id"] is not None
                decided = operator.post(
                    f"/api/alerts/{alert['id']}/adjudication",
                    json={"decision": "confirm", "version": alert["version"]},
                    headers={"X-CSRF-Token": csrf},
                )
                assert decided.status_code == 200, decided.text
                assert decided.json()["status"] == "confirmed"
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            reader.join(5)
            process.stdout.close()
    err = stderr_path.read_text()
    assert process.returncode == 0, err[-3000:]
    assert "stopping http" in err
    for password in accounts.values():
        assert password not in err  # on stdout once, in no log
    assert "".join(lines).count(accounts[OPERATOR]) == 1
    assert not real.exists()
    assert (tmp_path / "demo" / "openlfr.db").is_file() and (tmp_path / "demo" / "session_secret").is_file()
