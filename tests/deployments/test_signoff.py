"""The review after a deployment: a supervisor signs off each ended deployment's record (notes, corrections,
the alerts nobody decided), in the audit chain; the record and the transparency report show it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from openlfr.alerts.db_store import DbAlertStore
from openlfr.audit import iter_entries, verify_chain
from openlfr.auth.errors import PermissionDeniedError
from openlfr.config.governance import GovernanceConfig
from openlfr.deployments.notice import record_placement
from openlfr.deployments.service import authorise_deployment, create_deployment, end_deployment, start_deployment
from openlfr.deployments.signoff import get_sign_off, sign_off_deployment
from openlfr.deployments.types import DeploymentError, DeploymentStateError
from openlfr.reports.deployment import build_record, to_html
from openlfr.reports.transparency import build_transparency
from openlfr.reports.transparency import to_html as transparency_html
from openlfr.store.alert_models import AlertRecord
from tests.api.conftest import Api, build_api, make_settings
from tests.deployments.helpers import T0, alert_event, make_snapshot, plan, planner, sgt
from tests.helpers.accounts import cli_sign_in, person


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from build_api(make_settings(tmp_path))


def _ended_with_alerts(api: Api, *, end: bool = True) -> str:
    """A deployment with three alerts: one confirmed, one pending, one escalated."""
    with api.db.session() as session:
        snapshot = make_snapshot(session)
        deployment = create_deployment(
            session, plan(snapshot.id), by=planner(session), config=GovernanceConfig(), now=T0 - timedelta(days=1)
        )
        authorise_deployment(session, deployment.id, by=sgt(session), text="ok", config=GovernanceConfig(), now=T0)
        record_placement(session, deployment.id, location="both entrances", by=planner(session), now=T0)
        start_deployment(session, deployment.id, by=planner(session), now=T0)
        deployment_id = deployment.id
    store = api.app.state.ctx.services.store
    alerts = DbAlertStore(store.db, store.media, deployment_id=deployment_id)
    for alert_id, status in (("a-confirmed", "confirmed"), ("a-pending", "pending"), ("a-escalated", "escalated")):
        alerts.append(alert_event(alert_id, 0, T0 + timedelta(minutes=5)))
        with api.db.session() as session:
            session.execute(update(AlertRecord).where(AlertRecord.id == alert_id).values(status=status))
    if end:
        with api.db.session() as session:
            end_deployment(session, deployment_id, by=planner(session), reason="done", now=T0 + timedelta(hours=3))
    return deployment_id


@pytest.mark.slow
def test_sign_off_records_notes_corrections_and_what_was_left_unreviewed(api: Api) -> None:
    deployment_id = _ended_with_alerts(api)
    later = T0 + timedelta(days=1)
    with api.db.session() as session:
        with pytest.raises(DeploymentError, match="notes"):
            sign_off_deployment(session, deployment_id, by=sgt(session), notes="  ", now=later)
        found = sign_off_deployment(
            session,
            deployment_id,
            by=sgt(session),
            notes="two alerts were never decided: the operator's console lost its connection at 10:40",
            corrections=("camera 2 was pointed at the exit, not the entrance", " "),
            now=later,
        )
    assert found.unreviewed_alerts == ("a-pending", "a-escalated")
    assert found.corrections == ("camera 2 was pointed at the exit, not the entrance",)
    with api.db.session() as session:
        assert get_sign_off(session, deployment_id) == found
        with pytest.raises(DeploymentStateError, match="signed off already"):
            sign_off_deployment(session, deployment_id, by=sgt(session), notes="again", now=later)
        (entry,) = list(iter_entries(session, action="deployment.sign_off"))
        assert (entry.actor, entry.target_id) == ("user:sgt", deployment_id)
        assert (entry.details["unreviewed_alerts"], entry.details["corrections"]) == (2, 1)
        assert verify_chain(session).ok
        record = build_record(session, deployment_id)
        report = build_transparency(session, T0 - timedelta(days=1), T0 + timedelta(days=2))
    assert (record.signed_off_by, record.unreviewed_at_sign_off, record.unreviewed) == ("sgt", 2, 2)
    page = to_html(record)
    assert "camera 2 was pointed at the exit" in page and "2 alerts unreviewed" in page
    assert report.totals()["signed_off"] == 1
    assert "Records signed off after review: 1 of\n1" in transparency_html(report)


def test_only_an_ended_deployment_is_signed_off(api: Api) -> None:
    deployment_id = _ended_with_alerts(api, end=False)
    with api.db.session() as session, pytest.raises(DeploymentStateError, match="only an ended"):
        sign_off_deployment(session, deployment_id, by=sgt(session), notes="n", now=T0)


@pytest.mark.slow
def test_only_a_supervisor_signs_off(api: Api) -> None:
    deployment_id = _ended_with_alerts(api)
    with api.db.session() as session, pytest.raises(PermissionDeniedError, match="deployments:authorise"):
        sign_off_deployment(session, deployment_id, by=person(session, "op", "operator"), notes="n", now=T0)


@pytest.mark.slow
def test_sign_off_over_http_is_for_supervisors_in_person(api: Api) -> None:
    deployment_id = _ended_with_alerts(api)
    client = api.client()
    headers = {
        role: {"Authorization": f"Bearer {api.token(role, name=f'{role}-desk')}"}
        for role in ("operator", "supervisor", "auditor")
    }
    url = f"/api/deployments/{deployment_id}"
    review = client.get(f"{url}/review", headers=headers["auditor"])
    assert review.status_code == 200, review.text
    assert [a["id"] for a in review.json()["unreviewed_alerts"]] == ["a-pending", "a-escalated"]
    assert review.json()["sign_off"] is None
    body = {"notes": "reviewed with the operators", "corrections": ["start time was 09:05"]}
    assert client.post(f"{url}/sign-off", json=body, headers=headers["operator"]).status_code == 403
    # A supervisor's API token cannot sign off: the review names a person.
    assert client.post(f"{url}/sign-off", json=body, headers=headers["supervisor"]).status_code == 403
    insp, csrf = api.session_client("insp", "supervisor")
    done = insp.post(f"{url}/sign-off", json=body, headers=csrf)
    assert done.status_code == 200, done.text
    assert (done.json()["by"], done.json()["unreviewed_alerts"]) == ("insp", ["a-pending", "a-escalated"])
    again = insp.post(f"{url}/sign-off", json=body, headers=csrf)
    assert again.status_code == 409 and again.json()["error"]["code"] == "deployment_state"
    shown = client.get(f"{url}/review", headers=headers["auditor"]).json()
    assert shown["sign_off"]["corrections"] == ["start time was 09:05"]
    record = client.get(f"{url}/record?format=json", headers=headers["auditor"]).json()
    assert record["signed_off_by"] == "insp"


@pytest.mark.slow
def test_review_and_sign_off_on_the_command_line(
    api: Api, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from openlfr.cli import main

    deployment_id = _ended_with_alerts(api)
    monkeypatch.setenv("LFR_DATA_DIR", str(api.settings.data_dir))
    url = api.db.engine.url.render_as_string(hide_password=False)
    db = ["--db", url]
    capsys.readouterr()
    assert main(["deployment", "review", deployment_id, "--json", *db]) == 0
    assert [a["id"] for a in json.loads(capsys.readouterr().out)["unreviewed_alerts"]] == ["a-pending", "a-escalated"]
    # Signed off by whoever is signed in: no one, or an operator, is refused; no name can be typed.
    assert main(["deployment", "sign-off", deployment_id, "--notes", "fine", *db]) != 0
    assert "lfr login" in capsys.readouterr().err
    cli_sign_in(url, api.settings.data_dir, "op", "operator")
    assert main(["deployment", "sign-off", deployment_id, "--notes", "fine", *db]) != 0
    assert "deployments:authorise" in capsys.readouterr().err
    cli_sign_in(url, api.settings.data_dir, "insp", "supervisor")
    assert main(["deployment", "sign-off", deployment_id, "--notes", "fine", "--json", *db]) == 0
    assert json.loads(capsys.readouterr().out)["by"] == "insp"
    with pytest.raises(SystemExit):
        main(["deployment", "sign-off", deployment_id, "--by", "sgt", "--notes", "again", *db])
    capsys.readouterr()
    assert main(["deployment", "sign-off", deployment_id, "--notes", "again", *db]) != 0
    assert "signed off already" in capsys.readouterr().err
