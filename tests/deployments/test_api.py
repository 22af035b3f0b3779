"""Deployments, holds and the audit chain over HTTP: who may do what, and every step recorded."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from openlfr.alerts.db_store import DbAlertStore
from openlfr.pipeline.thresholds import SFACE_INT8BQ_TAIL
from tests.api.conftest import Api, build_api, make_settings
from tests.deployments.helpers import alert_event, make_snapshot


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from build_api(make_settings(tmp_path))


def _headers(api: Api, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.token(role, name=f'{role}-desk')}"}


def steps(deployment: dict[str, Any]) -> list[tuple[str, str]]:
    """What the console may offer next (the step and the permission it needs), as the server says."""
    return [(s["step"], s["permission"]) for s in deployment["next_steps"]]


def test_deployment_lifecycle_over_http(api: Api) -> None:
    client = api.client()
    op, sup, aud = _headers(api, "operator"), _headers(api, "supervisor"), _headers(api, "auditor")
    with api.db.session() as session:
        fingerprint = make_snapshot(session).fingerprint
    now = api.clock()
    body = {
        "name": "Station forecourt",
        "use_case": "crime hotspot",
        "purpose": "wanted persons",
        "legal_basis": "common law; force policy",
        "justification": "robbery series",
        "location": "Station forecourt",
        "planned_start": (now - timedelta(minutes=5)).isoformat(),
        "planned_end": (now + timedelta(hours=2)).isoformat(),
        "camera_ids": ["cam-1"],
        "snapshot": fingerprint,
        "signage_confirmed": True,
    }
    refused = client.post("/api/deployments", json={**body, "threshold": 0.4, "override_reason": "x"}, headers=op)
    assert refused.status_code == 403 and "deployments:authorise" in refused.json()["error"]["message"]
    low = client.post("/api/deployments", json={**body, "threshold": 0.4}, headers=op)
    assert low.status_code == 400 and low.json()["error"]["code"] == "deployment_invalid"
    unknown = client.post("/api/deployments", json={**body, "camera_ids": ["cam-1", "no-such-camera"]}, headers=op)
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "camera_unknown"
    assert "no-such-camera" in unknown.json()["error"]["message"]
    created = client.post("/api/deployments", json=body, headers=op)
    assert created.status_code == 201, created.text
    deployment = created.json()
    floor = round(SFACE_INT8BQ_TAIL.threshold_for_size(3), 4)
    assert (deployment["status"], deployment["threshold"], deployment["created_by"]) == (
        "draft",
        floor,
        "token:operator-desk",
    )
    assert deployment["created_by_account"] == "owner-supervisor"  # the person who minted the token
    url = f"/api/deployments/{deployment['id']}"
    assert steps(deployment) == [
        ("authorise", "deployments:authorise"),
        ("signage", "deployments:manage"),
        ("cancel", "deployments:manage"),
    ]
    assert client.post(f"{url}/start", headers=op).json()["error"]["code"] == "deployment_state"
    renamed = client.patch(url, json={"camera_ids": ["cam-404"]}, headers=op)
    assert renamed.status_code == 400 and renamed.json()["error"]["code"] == "camera_unknown"
    shown = client.get(f"{url}/composition", headers=sup).json()
    assert (shown["subjects"], shown["under_18"], shown["by_category"]) == (3, 0, {"wanted_by_courts": 3})
    digest = shown["digest"]
    body = {"text": "approved: robbery series", "composition_digest": digest}
    assert client.post(f"{url}/authorise", json=body, headers=op).status_code == 403
    # A supervisor token cannot authorise (a person must), and the token's creator planned it anyway.
    assert client.post(f"{url}/authorise", json=body, headers=sup).status_code == 403
    creator, creator_csrf = api.session_client("owner-supervisor", "supervisor")
    same = creator.post(f"{url}/authorise", json=body, headers=creator_csrf)
    assert same.status_code == 403 and same.json()["error"]["code"] == "separation_of_duties"
    person, person_csrf = api.session_client("insp", "supervisor")
    unseen = person.post(f"{url}/authorise", json={"text": "approved: robbery series"}, headers=person_csrf)
    assert unseen.status_code == 422  # the composition must have been shown
    stale_body = {"text": "approved", "composition_digest": "0" * 64}
    assert person.post(f"{url}/authorise", json=stale_body, headers=person_csrf).status_code == 409
    authorised = person.post(f"{url}/authorise", json=body, headers=person_csrf).json()
    assert authorised["status"] == "authorised" and authorised["authorisation"]["by"] == "insp"
    assert authorised["composition"]["subjects"] == 3
    assert [s for s, _ in steps(authorised)] == ["signage", "start", "cancel"]
    assert authorised["published"] and not deployment["published"]
    assert client.post(f"{url}/start", headers=op).json()["error"]["code"] == "signage_not_placed"
    placed = client.post(f"{url}/signage", json={"location": "forecourt, both entrances"}, headers=op)
    assert placed.status_code == 201, placed.text
    live = client.post(f"{url}/start", headers=op).json()
    assert live["status"] == "live" and [s for s, _ in steps(live)] == ["signage", "end"]
    assert client.patch(url, json={"name": "x"}, headers=op).status_code == 409
    ended = client.post(f"{url}/end", json={"reason": "done"}, headers=op).json()
    assert (ended["status"], ended["templates_destroyed"]) == ("ended", 3)
    assert steps(ended) == [("sign_off", "deployments:authorise")]
    signed = person.post(f"{url}/sign-off", json={"notes": "reviewed"}, headers=person_csrf)
    assert signed.status_code == 200, signed.text
    assert steps(client.get(url, headers=aud).json()) == []
    page = client.get(f"{url}/record?format=html", headers=aud)
    assert page.status_code == 200 and "Live facial recognition deployment record" in page.text
    csv = client.get(f"{url}/record?format=csv", headers=aud).text
    assert csv.splitlines()[0].startswith("deployment_id,name,status,date,location,use_case")
    entries = client.get("/api/audit/entries", params={"target_id": deployment["id"]}, headers=aud).json()
    assert [(e["actor"], e["action"]) for e in entries] == [
        ("token:operator-desk", "deployment.create"),
        ("user:insp", "deployment.authorise"),
        ("token:operator-desk", "deployment.signage_placed"),
        ("token:operator-desk", "deployment.start"),
        ("token:operator-desk", "deployment.end"),
        ("user:insp", "deployment.sign_off"),
        ("token:auditor-desk", "report.deployment"),
        ("token:auditor-desk", "report.deployment"),
    ]
    period = {"from": (now - timedelta(days=1)).date().isoformat(), "to": (now + timedelta(days=1)).date().isoformat()}
    report = client.get("/api/reports/transparency", params={**period, "format": "json"}, headers=aud)
    assert report.status_code == 200 and [r["name"] for r in report.json()["deployments"]] == ["Station forecourt"]
    backwards = client.get(
        "/api/reports/transparency", params={"from": period["to"], "to": period["from"]}, headers=aud
    )
    assert backwards.status_code == 422 and backwards.json()["error"]["code"] == "period_invalid"
    verified = client.get("/api/audit/verify", headers=aud).json()
    assert verified["ok"] and verified["entries"] >= 6
    anchor = client.get("/api/audit/anchor", headers=aud).json()
    assert (anchor["format"], anchor["seq"], anchor["hash"]) == (
        "openlfr-audit-anchor/1",
        verified["last_seq"],
        verified["last_hash"],
    )
    assert client.get("/api/audit/anchor", headers=op).status_code == 403
    assert client.get("/api/audit/entries", headers=op).status_code == 403


@pytest.mark.slow
def test_holds_and_purge_over_http(api: Api) -> None:
    client = api.client()
    sup = _headers(api, "supervisor")
    store = api.app.state.ctx.services.store
    DbAlertStore(store.db, store.media).append(alert_event("a1", 70))  # decided 2026-10-22
    held = client.post("/api/retention/holds/a1", json={"reason": "case 9"}, headers=sup)
    assert held.status_code == 200 and held.json()["hold_by"] == "token:supervisor-desk"  # never a person's name
    assert client.post("/api/retention/holds/a1", json={"reason": "again"}, headers=sup).status_code == 400
    assert [h["alert"] for h in client.get("/api/retention/holds", headers=sup).json()] == ["a1"]
    assert client.post("/api/retention/holds/a1/lift", json={"reason": "closed"}, headers=sup).json()["hold"] is False
    purge = client.post("/api/retention/run", headers=sup).json()
    assert (purge["retention_days"], purge["alerts"], purge["media_files"]) == (31, 1, 2)
    # A file that cannot be deleted (a directory in its place: unlink fails even as root) is a clear 503.
    DbAlertStore(store.db, store.media).append(alert_event("a2", 70))
    stuck = store.media.path_for(hashlib.sha256(alert_event("a2", 70).probe_jpeg).hexdigest())
    stuck.unlink()
    (stuck / "obstacle").mkdir(parents=True)
    failed = client.post("/api/retention/run", headers=sup)
    assert failed.status_code == 503 and failed.json()["error"]["code"] == "media_delete_failed"
    assert "purged 1 alerts, but 1 image file(s) could not be deleted" in failed.json()["error"]["message"]
    shutil.rmtree(stuck)
    assert client.post("/api/retention/run", headers=sup).json()["alerts"] == 0
