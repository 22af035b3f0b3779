"""``/api/users/{username}/competence`` and the requirement over HTTP (issue 12 §6): a supervisor records
training in person, the history is kept, and an untrained or expired officer's adjudication or authorisation is
refused with 403 and a stable code."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from openlfr.audit import iter_entries
from openlfr.store.context import Store
from tests.api.conftest import Api, build_api, make_settings
from tests.deployments.helpers import make_snapshot
from tests.helpers.console import enrol_subject, store_alert

RECORD = {
    "competence": "operator",
    "course": "LFR operator course",
    "passed_on": "2026-01-10",
    "expires_on": "2027-01-10",
}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from build_api(make_settings(tmp_path))


def test_records_are_added_by_a_supervisor_in_person_and_kept(api: Api) -> None:
    api.user("ann", "operator", competent=False)
    sgt, sgt_csrf = api.session_client("sgt", "supervisor")
    url = "/api/users/ann/competence"
    empty = sgt.get(url)
    assert empty.status_code == 200
    assert empty.json() == {"username": "ann", "role": "operator", "eligible": ["operator"], "records": []}
    # the competences an account may hold follow its role (the console offers only these)
    assert sgt.get("/api/users/sgt/competence").json()["eligible"] == ["operator", "supervisor"]
    first = sgt.post(url, json={**RECORD, "expires_on": "2026-06-30"}, headers=sgt_csrf)
    assert first.status_code == 201, first.text
    assert (first.json()["revision"], first.json()["current"], first.json()["recorded_by"]) == (1, False, "sgt")
    second = sgt.post(url, json={**RECORD, "course": "LFR operator refresher"}, headers=sgt_csrf)
    assert second.status_code == 201 and second.json()["supersedes"] == first.json()["id"]
    assert second.json()["current"] is True
    auditor, _ = api.session_client("audrey", "auditor")
    records = auditor.get(url).json()["records"]
    assert [(r["revision"], r["superseded"], r["current"], r["expires_on"]) for r in records] == [
        (2, False, True, "2027-01-10"),
        (1, True, False, "2026-06-30"),
    ]
    with api.db.session() as session:
        assert [e.actor for e in iter_entries(session, action="user.competence.record")] == ["user:sgt"] * 2


def test_who_may_read_and_record_and_what_is_refused(api: Api) -> None:
    api.user("ann", "operator", competent=False)
    url = "/api/users/ann/competence"
    op, op_csrf = api.session_client("bob", "operator")
    assert op.get(url).status_code == 403
    assert op.post(url, json=RECORD, headers=op_csrf).json()["error"]["code"] == "forbidden"
    admin, admin_csrf = api.session_client("root", "admin")
    assert admin.get(url).status_code == 200
    assert admin.post(url, json=RECORD, headers=admin_csrf).status_code == 403
    token = api.client()
    token.headers["Authorization"] = f"Bearer {api.token('supervisor')}"
    refused = token.post(url, json=RECORD)
    assert refused.status_code == 403 and "person" in refused.json()["error"]["message"]
    sgt, csrf = api.session_client("sgt", "supervisor")
    own = sgt.post("/api/users/sgt/competence", json={**RECORD, "competence": "supervisor"}, headers=csrf)
    assert own.status_code == 403 and own.json()["error"]["code"] == "separation_of_duties"
    backwards = sgt.post(url, json={**RECORD, "expires_on": "2025-01-01"}, headers=csrf)
    assert backwards.status_code == 422 and backwards.json()["error"]["code"] == "competence_invalid"
    wrong_role = sgt.post(url, json={**RECORD, "competence": "supervisor"}, headers=csrf)
    assert wrong_role.status_code == 422 and "supervisor accounts" in wrong_role.json()["error"]["message"]
    assert sgt.post(url, json={**RECORD, "competence": "pilot"}, headers=csrf).status_code == 422
    assert sgt.post("/api/users/nobody/competence", json=RECORD, headers=csrf).status_code == 404
    assert sgt.get(url).json()["records"] == []


def test_an_untrained_officer_cannot_adjudicate_until_a_record_is_added(api: Api) -> None:
    services = api.app.state.ctx.services
    store: Store = services.store
    subject_id, image_id = enrol_subject(store, services.enroller.engine, 1, "alice")
    alert_id = str(store_alert(store, subject_id, image_id)["alert_id"])
    novice, novice_csrf = api.session_client("novice", "operator", competent=False)
    decide = f"/api/alerts/{alert_id}/adjudication"
    refused = novice.post(decide, json={"decision": "confirm", "version": 1}, headers=novice_csrf)
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "competence_required" and "novice has no operator competence record" in error["message"]
    sgt, sgt_csrf = api.session_client("sgt", "supervisor")
    expired = {**RECORD, "passed_on": "2024-01-01", "expires_on": "2025-01-01"}
    assert sgt.post("/api/users/novice/competence", json=expired, headers=sgt_csrf).status_code == 201
    stale = novice.post(decide, json={"decision": "confirm", "version": 1}, headers=novice_csrf)
    assert stale.status_code == 403 and stale.json()["error"]["code"] == "competence_expired"
    assert novice.get(f"/api/alerts/{alert_id}").json()["status"] == "pending"
    assert sgt.post("/api/users/novice/competence", json=RECORD, headers=sgt_csrf).status_code == 201
    confirmed = novice.post(decide, json={"decision": "confirm", "version": 1}, headers=novice_csrf)
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"


def test_the_requirement_can_be_turned_off(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    lenient = settings.model_copy(
        update={"governance": settings.governance.model_copy(update={"require_competence": False})}
    )
    for api in build_api(lenient):
        services = api.app.state.ctx.services
        subject_id, image_id = enrol_subject(services.store, services.enroller.engine, 1, "alice")
        alert_id = str(store_alert(services.store, subject_id, image_id)["alert_id"])
        novice, csrf = api.session_client("novice", "operator", competent=False)
        decided = novice.post(f"/api/alerts/{alert_id}/adjudication", json={"decision": "escalate", "version": 1},
                              headers=csrf)  # fmt: skip
        assert decided.status_code == 200, decided.text


def test_an_untrained_supervisor_cannot_authorise(api: Api) -> None:
    with api.db.session() as session:
        fingerprint = make_snapshot(session).fingerprint
    op = {"Authorization": f"Bearer {api.token('operator', name='desk')}"}
    client = api.client()
    now = api.clock()
    plan = {
        "name": "Station forecourt",
        "use_case": "crime hotspot",
        "purpose": "wanted persons",
        "legal_basis": "common law; force policy",
        "justification": "robbery series",
        "location": "Station forecourt",
        "planned_start": now.isoformat(),
        "planned_end": (now + timedelta(hours=2)).isoformat(),
        "camera_ids": ["cam-1"],
        "snapshot": fingerprint,
        "signage_confirmed": True,
    }
    created = client.post("/api/deployments", json=plan, headers=op)
    assert created.status_code == 201, created.text
    url = f"/api/deployments/{created.json()['id']}"
    chief, csrf = api.session_client("chief", "supervisor", competent=False)
    digest = chief.get(f"{url}/composition").json()["digest"]
    body = {"text": "approved: robbery series", "composition_digest": digest}
    refused = chief.post(f"{url}/authorise", json=body, headers=csrf)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "competence_required"
    assert "no supervisor competence record" in refused.json()["error"]["message"]
    assert chief.get(url).json()["status"] == "draft"
    sgt, sgt_csrf = api.session_client("sgt", "supervisor")
    record = {**RECORD, "competence": "supervisor", "course": "LFR authorising officer"}
    assert sgt.post("/api/users/chief/competence", json=record, headers=sgt_csrf).status_code == 201
    authorised = chief.post(f"{url}/authorise", json=body, headers=csrf)
    assert authorised.status_code == 200 and authorised.json()["status"] == "authorised"


def test_oversight_reads_every_officers_records_at_once(api: Api) -> None:
    api.user("ann", "operator")
    api.user("root", "admin")
    sgt, _ = api.session_client("sgt", "supervisor")
    auditor, _ = api.session_client("audrey", "auditor")
    listing = auditor.get("/api/competence")
    assert listing.status_code == 200, listing.text
    # accounts that may hold a competence (or have a record), by name; admins and auditors hold none
    rows = [(a["username"], a["role"], a["eligible"], [r["competence"] for r in a["records"]]) for a in listing.json()]
    assert rows == [
        ("ann", "operator", ["operator"], ["operator"]),
        ("sgt", "supervisor", ["operator", "supervisor"], ["operator", "supervisor"]),
    ]
    assert sgt.get("/api/competence").json() == listing.json()
    op, _ = api.session_client("bob", "operator")
    assert op.get("/api/competence").status_code == 403
