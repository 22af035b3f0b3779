"""The public notice over HTTP: anyone may read the feed, each published record and its sign and leaflet;
drafts stay hidden and no officer's name appears. Placements are recorded through the API by the caller."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from openlfr.alerts.db_store import DbAlertStore
from openlfr.api.routes.notice import PUBLIC_CSP
from openlfr.audit import iter_entries
from openlfr.auth.roles import Role
from openlfr.config.governance import GovernanceConfig
from openlfr.deployments.figures import add_counts
from openlfr.deployments.notice import record_placement
from openlfr.deployments.service import (
    authorise_deployment,
    cancel_deployment,
    create_deployment,
    end_deployment,
    start_deployment,
    update_deployment,
)
from openlfr.deployments.types import DeploymentChanges, RunCounts
from openlfr.store.alert_models import AlertRecord
from tests.api.conftest import Api, build_api, make_settings
from tests.deployments.helpers import alert_event, make_snapshot, plan
from tests.helpers.accounts import person
from tests.helpers.console import enrol_subject, frame_folder, live_deployment, snapshot
from tests.reports.notice_helpers import A3, A5, BASE_URL, NOTICE, approx, decode_qr, html_qr, read_pdf, words

# Every name of a person or account the deployments below carry; none may reach the public.
NAMES = ("planner.jones", "insp.secret", "pc.placer", "sgt.override", "Mr Suspect")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = make_settings(tmp_path)
    settings = settings.model_copy(update={"governance": GovernanceConfig(notice=NOTICE)})
    yield from build_api(settings)


def _deployment(api: Api, name: str, *, authorise: bool = True) -> str:
    now = api.clock()
    with api.db.session() as session:
        snapshot = make_snapshot(session)
        deployment = create_deployment(
            session,
            plan(
                snapshot.id,
                name=name,
                location=f"{name} square",
                justification="intelligence that Mr Suspect attends",
                planned_start=now + timedelta(hours=1),
                planned_end=now + timedelta(hours=5),
            ),
            by=person(session, "planner.jones", "operator"),
            config=GovernanceConfig(),
            now=now,
        )
        if authorise:
            authorise_deployment(
                session,
                deployment.id,
                by=person(session, "insp.secret", "supervisor"),
                text="ok",
                config=GovernanceConfig(),
                now=now,
            )
        return deployment.id


def _scene(api: Api) -> dict[str, str]:
    """A draft, a planned one, a re-edited (unauthorised) one, a cancelled one, and an ended one with alerts."""
    ids = {
        "draft": _deployment(api, "Draft", authorise=False),
        "planned": _deployment(api, "Planned"),
        "edited": _deployment(api, "Edited"),
        "cancelled": _deployment(api, "Cancelled"),
        "ended": _deployment(api, "Ended"),
    }
    now = api.clock()
    with api.db.session() as session:
        update_deployment(
            session,
            ids["edited"],
            DeploymentChanges(name="Edited again"),
            by=person(session, "planner.jones", "operator"),
            config=GovernanceConfig(),
            now=now,
        )
        cancel_deployment(
            session,
            ids["cancelled"],
            by=person(session, "planner.jones", "operator"),
            reason="Mr Suspect arrested elsewhere",
            now=now,
        )
        record_placement(
            session, ids["ended"], location="both exits", by=person(session, "pc.placer", "operator"), now=now
        )
        start_deployment(
            session, ids["ended"], by=person(session, "pc.placer", "operator"), now=now + timedelta(hours=1)
        )
    alerts = DbAlertStore(api.db, api.app.state.ctx.services.store.media, deployment_id=ids["ended"])
    for i, status in enumerate(("confirmed", "rejected")):
        alerts.append(alert_event(f"alert-{i}", 0, now + timedelta(hours=2)))
        with api.db.session() as session:
            session.execute(update(AlertRecord).where(AlertRecord.id == f"alert-{i}").values(status=status))
    with api.db.session() as session:
        add_counts(session, ids["ended"], RunCounts(9000, 1000, 120), now + timedelta(hours=2))
        end_deployment(
            session,
            ids["ended"],
            by=person(session, "pc.placer", "operator"),
            reason="done",
            now=now + timedelta(hours=3),
        )
    return ids


def test_the_feed_lists_published_deployments_to_anyone_without_personal_data(api: Api) -> None:
    ids = _scene(api)
    client = api.client()  # no login
    response = client.get("/public/notice", params={"format": "json"})
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == PUBLIC_CSP
    feed = response.json()
    listed = {d["id"]: d for d in feed["deployments"]}
    assert set(listed) == {ids["planned"], ids["cancelled"], ids["ended"]}
    assert {listed[ids[k]]["status"] for k in ("planned", "cancelled", "ended")} == {"planned", "cancelled", "ended"}
    ended = listed[ids["ended"]]
    assert ended["signage"] == [{"location": "both exits", "placed_at": ended["signage"][0]["placed_at"]}]
    figures = ended["figures"]
    assert (figures["alerts"], figures["true_unconfirmed"], figures["false_unconfirmed"]) == (2, 1, 1)
    assert figures["final"] is True and figures["faces_seen"] is not None  # the deployment record's figures
    assert listed[ids["planned"]]["figures"] is None
    assert ended["links"]["public_url"] == f"{BASE_URL}/public/deployments/{ids['ended']}"
    assert feed["organisation"] == "Example Police"
    page = client.get("/public/notice").text
    for text in (response.text, page):
        for name in NAMES:
            assert name not in text, name
        assert "Draft square" not in text and "Edited again" not in text
    for key in ("created_by", "authorised_by", "justification", "placed_by", "camera_ids", "snapshot_fingerprint"):
        assert key not in response.text
    assert "Planned square" in page and "Ended square" in page


def test_a_published_record_and_its_sign_and_leaflet_are_public_and_a_draft_is_not_found(api: Api) -> None:
    ids = _scene(api)
    client = api.client()
    url = f"/public/deployments/{ids['ended']}"
    record = client.get(url)
    assert record.status_code == 200 and "Ended square" in record.text and "both exits" in record.text
    assert record.headers["content-security-policy"] == PUBLIC_CSP
    assert client.get(url, params={"format": "json"}).json()["id"] == ids["ended"]
    sign = client.get(f"{url}/signage")
    assert sign.headers["content-type"] == "application/pdf"
    (page,) = read_pdf(sign.content, dpi=72)
    assert approx(page.size, A3)
    assert decode_qr(page.image) == f"{BASE_URL}{url}"
    assert "Ended square" in words(page.text)
    leaflet = read_pdf(client.get(f"{url}/leaflet").content, dpi=200)
    assert len(leaflet) == 2 and approx(leaflet[0].size, A5)
    assert decode_qr(leaflet[0].image) == f"{BASE_URL}{url}"
    html = client.get(f"{url}/leaflet", params={"format": "html"})
    assert html.headers["content-type"].startswith("text/html") and html_qr(html.text) == f"{BASE_URL}{url}"
    for hidden in (ids["draft"], ids["edited"], "no-such-deployment"):
        for path in ("", "/signage", "/leaflet"):
            answer = client.get(f"/public/deployments/{hidden}{path}")
            assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found", (hidden, path)
    assert client.get(f"{url}/signage", params={"format": "docx"}).status_code == 422


def test_without_notice_settings_the_sign_answers_503_with_a_stable_code(tmp_path: Path) -> None:
    for api in build_api(make_settings(tmp_path)):
        deployment_id = _deployment(api, "Plain")
        answer = api.client().get(f"/public/deployments/{deployment_id}/signage")
        assert answer.status_code == 503 and answer.json()["error"]["code"] == "notice_not_configured"
        assert "public_base_url" in answer.json()["error"]["message"]
        listed = api.client().get("/public/notice", params={"format": "json"}).json()["deployments"]
        assert "signage_pdf" not in listed[0]["links"]  # no broken download links


@pytest.mark.slow
def test_placements_over_the_api_name_the_caller_and_start_needs_one(api: Api) -> None:
    deployment_id = _deployment(api, "Api")
    operator = {"Authorization": f"Bearer {api.token(Role.OPERATOR, name='desk-7')}"}
    auditor = {"Authorization": f"Bearer {api.token(Role.AUDITOR, name='audit-1')}"}
    client = api.client()
    url = f"/api/deployments/{deployment_id}"
    assert client.post(f"{url}/start", headers=operator).json()["error"]["code"] == "signage_not_placed"
    refused = client.post(f"{url}/signage", json={"location": "exit"}, headers=auditor)
    assert refused.status_code == 403
    bad = client.post(f"{url}/signage", json={"location": "exit", "placed_by": "someone else"}, headers=operator)
    assert bad.status_code == 422  # the recorder is the caller, never a typed name
    future = client.post(
        f"{url}/signage",
        json={"location": "exit", "placed_at": (api.clock() + timedelta(hours=1)).isoformat()},
        headers=operator,
    )
    assert future.status_code == 400 and future.json()["error"]["code"] == "deployment_invalid"
    placed = client.post(f"{url}/signage", json={"location": "north and south exits"}, headers=operator)
    assert placed.status_code == 201, placed.text
    assert placed.json()["placed_by"] == "token:desk-7" and placed.json()["location"] == "north and south exits"
    listed = client.get(f"{url}/signage", headers=auditor).json()
    assert [(p["location"], p["placed_by"]) for p in listed] == [("north and south exits", "token:desk-7")]
    assert client.post(f"{url}/start", headers=operator).json()["status"] == "live"
    with api.db.session() as session:
        actions = [(e.actor, e.action) for e in iter_entries(session, target_id=deployment_id)]
    assert ("token:desk-7", "deployment.signage_placed") in actions
    assert actions.index(("token:desk-7", "deployment.signage_placed")) < actions.index(
        ("token:desk-7", "deployment.start")
    )
    assert (
        json.loads(client.get("/public/notice", params={"format": "json"}).text)["deployments"][0]["status"] == "live"
    )


def test_the_sign_and_the_leaflet_say_where_a_zoned_camera_looks(api: Api, tmp_path: Path) -> None:
    """A camera's zone is on the deployment's sign (web page and PDF, both linked from the console), in words."""
    api.user("root", "admin")
    admin = api.client()
    admin.headers["X-CSRF-Token"] = api.login(admin, "root")
    folder = frame_folder(tmp_path / "frames", 2, 4)
    camera = admin.post("/api/cameras", json={"name": "gate-1", "source": str(folder), "location": "north"}).json()
    square = [[0.1, 0.1], [0.6, 0.1], [0.6, 0.6], [0.1, 0.6]]
    assert admin.put(f"/api/cameras/{camera['id']}/zone", json={"points": square}).status_code == 200
    services = api.app.state.ctx.services
    enrol_subject(services.store, services.enroller.engine, 1, "alice")
    mandate = live_deployment(services.store, snapshot(services.store, services.enroller.engine), [camera["id"]])
    area = "gate-1 (north): recognition limited to a 4-sided area covering 25% of the camera's view"
    sign = api.client().get(f"/public/deployments/{mandate.deployment_id}/signage?format=html")
    assert sign.status_code == 200 and area in words(sign.text.replace("&#x27;", "'")), sign.text
    printed = api.client().get(f"/public/deployments/{mandate.deployment_id}/signage?format=pdf")
    assert printed.status_code == 200 and area in words(" ".join(p.text for p in read_pdf(printed.content)))
