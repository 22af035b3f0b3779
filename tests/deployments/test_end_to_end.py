"""Issue 6 end to end, on the Hamilton clip with the real models: enrol, snapshot, plan, authorise, go live,
recognise (the scheduler drives the real camera manager and pipeline), end at the planned end, review,
report, purge — every step in the audit chain, which verifies; then tamper and see it caught."""

from __future__ import annotations

import json
import secrets
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from openlfr.alerts.sinks import AlertBus
from openlfr.cli import main
from openlfr.config.models import Settings
from openlfr.deployments.scheduler import DeploymentScheduler
from openlfr.engine import FaceEngine
from openlfr.pipeline.app import pipeline_settings
from openlfr.service.supervisor import RecognitionSupervisor
from openlfr.store.alert_models import AlertRecord
from openlfr.store.context import Store, open_store
from openlfr.store.models import SnapshotTemplate, Subject
from tests.helpers.accounts import cli_sign_in, person
from tests.helpers.cameras import register_camera
from tests.helpers.data import shared_data
from tests.helpers.waiting import wait_until

pytestmark = [pytest.mark.model, pytest.mark.slow]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_deployment_end_to_end_on_sample_video(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    video = shared_data() / "video"
    url = f"sqlite+pysqlite:///{tmp_path / 'lfr.db'}"
    monkeypatch.setenv("LFR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LFR_GOVERNANCE__AUDIT_EXPORT_KEY", "e2e-" + "k" * 40)
    db = ("--db", url)

    def lfr(*args: str) -> tuple[int, str, str]:
        return _cli(capsys, *args, *db)

    # Watchlist and snapshot through the CLI, with the real models, by a signed-in supervisor.
    cli_sign_in(url, tmp_path, "sgt", "supervisor")
    assert lfr("watchlist", "create", "hamilton")[0] == 0
    reference = video / "hamilton_refs" / "lin_manuel_miranda" / "lin-manuel-miranda.png"
    code, _, err = lfr(
        "subject", "add", "LMM-1", "--image", str(reference), "--category", "suspected_offence",
        "--reason", "test entry: public figure", "--image-source", "other",
        "--image-source-note", "public photograph", "--watchlist", "hamilton",
        "--review-by", "2099-01-01",
    )  # fmt: skip
    assert code == 0, err
    code, out, err = lfr("watchlist", "snapshot", "hamilton", "--json")
    assert code == 0, err
    snapshot = json.loads(out)
    assert snapshot["templates"] == 1

    settings = pipeline_settings(Settings(data_dir=tmp_path, database_url=url))
    engine = FaceEngine.from_settings(settings)
    with open_store(settings) as store:
        bus = AlertBus()
        cameras = RecognitionSupervisor(
            settings, store.db, store.media, bus, engine_factory=lambda: engine, realtime_files=False
        )
        with store.db.session() as session:
            root = person(session, "root", "admin")
            camera_id = register_camera(session, "stage-cam", str(video / "hamilton_short.mp4"), by=root).id

        cli_sign_in(url, tmp_path, "planner", "operator")  # an operator plans it, the supervisor authorises
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
        end = start + timedelta(hours=1)
        code, out, err = lfr(
            "deployment", "create", "--name", "Theatre foyer", "--use-case", "public event",
            "--purpose", "locate a suspect", "--legal-basis", "common law; force policy",
            "--justification", "intelligence that the suspect attends", "--location", "Richard Rodgers Theatre",
            "--start", start.isoformat(), "--end", end.isoformat(), "--camera", camera_id,
            "--snapshot", snapshot["fingerprint"], "--signage-confirmed", "--threshold", "0.47", "--json",
        )  # fmt: skip
        assert code == 0, err
        deployment = json.loads(out)
        deployment_id = deployment["id"]
        # 0.47 is above the floor calibrated for a 1-template watchlist (0.407): no override needed.
        assert (deployment["threshold"], deployment["threshold_minimum"]) == (0.47, 0.4073)
        assert lfr("deployment", "authorise", deployment_id, "--text", "approved for 1 h")[0] == 1  # the creator
        cli_sign_in(url, tmp_path, "sgt", "supervisor")
        code, _, err = lfr("deployment", "authorise", deployment_id, "--text", "approved for 1 h")
        assert code == 0, err
        assert lfr("deployment", "signage-placed", deployment_id, "--location", "theatre foyer doors")[0] == 0
        assert lfr("deployment", "start", deployment_id)[0] == 0

        # The scheduler starts recognition (inside the window) through the real recognition supervisor.
        clock = Clock(start + timedelta(minutes=2))
        scheduler = DeploymentScheduler(store.db, cameras, clock=clock)
        try:
            assert scheduler.tick().started == (deployment_id,)
            assert wait_until(lambda: cameras.run_finished(deployment_id))
            # The planned end: recognition stops, the deployment ends, its templates are destroyed.
            clock.now = end
            result = scheduler.tick()
            assert result.ended == (deployment_id,)
        finally:
            cameras.stop_all()
        assert cameras.active_deployments() == frozenset()
        _deployment_routes_answer(settings, store, deployment_id)

        with store.db.session() as session:
            alerts = list(session.scalars(select(AlertRecord).where(AlertRecord.deployment_id == deployment_id)))
            assert alerts, "the performer on the watchlist raised no alert"
            (lmm,) = session.scalars(select(Subject.id).where(Subject.external_ref == "LMM-1"))
            assert {a.subject_id for a in alerts} == {lmm} and {a.mode for a in alerts} == {"production"}
            remaining = session.scalar(
                select(func.count()).where(SnapshotTemplate.snapshot_id == deployment["snapshot_id"])
            )
            assert remaining == 0
            # An officer reviews: the first alert is true and the person engaged; decided long ago, so that
            # the purge below has something to remove.
            session.execute(
                update(AlertRecord)
                .where(AlertRecord.id == alerts[0].id)
                .values(status="confirmed", outcome="spoken_to", decided_at=start - timedelta(days=40))
            )

    code, out, err = lfr("deployment", "show", deployment_id, "--json")
    shown = json.loads(out)
    assert (shown["status"], shown["end_reason"], shown["templates_destroyed"]) == ("ended", "planned end reached", 1)
    # Faces seen = distinct faces passing (tracks: 17 in this clip), not detections summed over frames (~750).
    assert 5 <= shown["counts"]["faces_seen"] <= 60 and shown["counts"]["detections"] > 300
    assert shown["counts"]["frames"] == 275

    code, out, err = lfr("report", "deployment", deployment_id)
    record = json.loads(out)
    assert record["alerts"] == len(alerts) and record["true_confirmed"] == 1
    assert record["faces_seen"] == shown["counts"]["faces_seen"] and record["false_alert_rate"] == 0.0
    page = tmp_path / "record.html"
    assert lfr("report", "deployment", deployment_id, "--format", "html", "-o", str(page))[0] == 0

    code, out, err = lfr("retention", "run", "--json")
    assert code == 0, err
    assert json.loads(out)["alerts"] == 1
    # The purge deleted the reviewed alert's personal data; the final record still counts it.
    code, out, err = lfr("report", "deployment", deployment_id)
    assert json.loads(out) == record

    code, out, err = lfr("audit", "verify")
    assert code == 0, err
    export = tmp_path / "audit.jsonl"
    assert lfr("audit", "export", str(export))[0] == 0
    code, out, _ = lfr("audit", "log", "--json")
    actions = [e["action"] for e in json.loads(out)["entries"]]
    for step in (
        "watchlist.create",
        "subject.create",
        "snapshot.create",
        "deployment.create",
        "deployment.authorise",
        "deployment.start",
        "deployment.recognition_started",
        "deployment.recognition_stopped",
        "deployment.end",
        "report.deployment",
        "retention.purge",
        "audit.export",
    ):
        assert step in actions, step
    assert actions.index("deployment.authorise") < actions.index("deployment.recognition_started")

    # Tamper: someone edits the authorisation text in the database. The chain and the export both notice.
    with sqlite3.connect(tmp_path / "lfr.db") as connection:
        connection.execute(
            "UPDATE audit_entry SET details = replace(details, 'approved for 1 h', 'approved for 9 h') "
            "WHERE action = 'deployment.authorise'"
        )
    code, _, err = lfr("audit", "verify", "--against", str(export))
    assert code == 3
    assert "content does not match its hash" in err and "differs from the exported copy" in err


def _deployment_routes_answer(settings: Settings, store: Store, deployment_id: str) -> None:
    """GET /api/deployments and /api/deployments/{id} after a real recognition run (they answered 500 once
    a deployment with recognition had ended: the stored track count was NULL)."""
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from openlfr.api import Services, create_app
    from tests.helpers.accounts import mint_token

    api = settings.api.model_copy(update={"session_secret": SecretStr(secrets.token_urlsafe(40))})
    app = create_app(settings.model_copy(update={"api": api}), Services(sessions=store.db.sessions, store=store))
    with store.db.session() as session:
        token = mint_token(session, "auditor", datetime.now(UTC), name="records-check")
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    listed = client.get("/api/deployments")
    assert listed.status_code == 200, listed.text
    (entry,) = [d for d in listed.json() if d["id"] == deployment_id]
    detail = client.get(f"/api/deployments/{deployment_id}")
    assert detail.status_code == 200, detail.text
    assert detail.json() == entry
    counts = entry["counts"]
    assert counts["frames"] == 275 and 5 <= counts["faces_seen"] <= 60 < counts["detections"]
    record = client.get(f"/api/deployments/{deployment_id}/record?format=json")
    assert record.status_code == 200 and record.json()["faces_seen"] == counts["faces_seen"]
