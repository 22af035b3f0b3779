"""``GET /api/alerts/encounters`` (grouped queue with true totals and a paging cursor), ``GET /api/alerts/options``
(the codes and filter values the console offers), the note kept with a decision, and the caller's permissions
in the session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from openlfr.alerts.review import EngagementOutcome, RejectReason
from openlfr.api.permissions import POLICY
from openlfr.audit import iter_entries
from openlfr.auth.roles import Role
from openlfr.store.context import Store
from tests.api.conftest import Api, build_api, make_settings
from tests.helpers.console import enrol_subject, store_alert

T0 = 1_795_000_000.0


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    for built in build_api(make_settings(tmp_path)):
        built.user("ann", "operator")
        built.user("aud", "auditor")
        yield built


def logged_in(api: Api, username: str) -> TestClient:
    client = api.client()
    client.headers["X-CSRF-Token"] = api.login(client, username)
    return client


def seed(api: Api) -> tuple[str, str]:
    """alice: 3 alerts on cam1 a minute apart (one encounter), then again 20 minutes later (another); bob: one
    alert on cam1 and one on cam2 at the same time (two encounters)."""
    services = api.app.state.ctx.services
    store: Store = services.store
    alice, alice_image = enrol_subject(store, services.enroller.engine, 1, "alice")
    bob, bob_image = enrol_subject(store, services.enroller.engine, 2, "bob")
    for minute, score in ((0, 0.6), (1, 0.9), (2, 0.7)):
        store_alert(store, alice, alice_image, decided_at=T0 + 60 * minute, score=score)
    store_alert(store, bob, bob_image, decided_at=T0 + 150)
    store_alert(store, bob, bob_image, decided_at=T0 + 160, source="cam2")
    store_alert(store, alice, alice_image, decided_at=T0 + 60 * 22)
    return alice, bob


def test_encounters_group_repeats_with_the_best_face_and_true_totals(api: Api) -> None:
    alice, _ = seed(api)
    client = logged_in(api, "ann")
    page = client.get("/api/alerts/encounters").json()
    assert page["total"] == 4 and page["alerts"] == 6 and page["next_before_seq"] is None
    assert [(e["best"]["source"], e["count"]) for e in page["items"]] == [
        ("cam1", 1),
        ("cam2", 1),
        ("cam1", 1),
        ("cam1", 3),
    ]
    first = page["items"][-1]
    assert first["best"]["subject_id"] == alice and first["best"]["score"] == pytest.approx(0.9)
    assert [m["seq"] for m in first["members"]] == [3, 2, 1] and first["key"] == first["members"][-1]["id"]
    assert first["status"] == "pending" and first["last_seq"] == 3 and first["open"] == 3
    assert first["first_at"].startswith("2026-11-18T") and first["last_at"] > first["first_at"]
    one_gap = client.get("/api/alerts/encounters", params={"gap_s": 30}).json()
    assert one_gap["total"] == 6


def test_encounter_paging_is_a_cursor_with_totals(api: Api) -> None:
    seed(api)
    client = logged_in(api, "ann")
    first = client.get("/api/alerts/encounters", params={"limit": 3}).json()
    assert (
        len(first["items"]) == 3 and first["total"] == 4 and first["next_before_seq"] == first["items"][-1]["last_seq"]
    )
    second = client.get("/api/alerts/encounters", params={"limit": 3, "before_seq": first["next_before_seq"]}).json()
    assert [e["count"] for e in second["items"]] == [3] and second["next_before_seq"] is None
    assert {e["key"] for e in first["items"]}.isdisjoint(e["key"] for e in second["items"])
    for bad in ({"limit": 0}, {"limit": 201}, {"before_seq": 0}, {"gap_s": -1}, {"status": "maybe"}):
        response = client.get("/api/alerts/encounters", params=bad)
        assert response.status_code == 422 and response.json()["error"]["code"] == "validation_failed", bad


def test_encounters_filter_by_camera_subject_deployment_status_and_time(api: Api) -> None:
    alice, bob = seed(api)
    client = logged_in(api, "ann")

    def total(**params: object) -> tuple[int, int]:
        page = client.get("/api/alerts/encounters", params=params).json()
        return page["total"], page["alerts"]

    assert total(source="cam2") == (1, 1)
    assert total(subject=alice) == (2, 4) and total(subject=bob) == (2, 2)
    assert total(deployment="d" * 32) == (4, 6) and total(deployment="e" * 32) == (0, 0)
    assert total(since="2026-11-18T00:00:00Z") == (4, 6)
    assert total(since="2026-11-18T11:20:00Z") == (1, 1)  # alice's second encounter, 22 minutes after the first
    assert total(since="2030-01-01T00:00:00Z") == (0, 0)
    newest = client.get("/api/alerts/encounters").json()["items"][0]["members"][0]
    decided = client.post(f"/api/alerts/{newest['id']}/adjudication", json={"decision": "escalate", "version": 1})
    assert decided.status_code == 200
    assert total(status="pending") == (3, 5) and total(status="escalated") == (1, 1)
    # Decided alerts stay counted but leave the list a decision covers.
    confirmed = client.get("/api/alerts/encounters", params={"subject": alice}).json()["items"][1]
    for member in confirmed["members"]:
        body = {"decision": "confirm", "version": member["version"]}
        assert client.post(f"/api/alerts/{member['id']}/adjudication", json=body).status_code == 200
    after = client.get("/api/alerts/encounters", params={"subject": alice}).json()["items"][1]
    assert (after["count"], after["open"], after["members"], after["status"]) == (3, 0, [], "confirmed")


def test_options_come_from_the_server(api: Api) -> None:
    alice, bob = seed(api)
    options = logged_in(api, "aud").get("/api/alerts/options").json()
    assert options["statuses"] == ["pending", "confirmed", "rejected", "escalated"]
    assert options["reject_reasons"] == [r.value for r in RejectReason]
    assert options["outcomes"] == [o.value for o in EngagementOutcome]
    assert options["decisions"] == ["confirm", "reject", "escalate"]
    # What the console used to write into its script: which statuses wait for an officer, and which each
    # decision may be taken from (an escalated alert is confirmed or rejected, never escalated again).
    assert options["open_statuses"] == ["pending", "escalated"]
    assert options["decidable_from"] == {
        "confirm": ["pending", "escalated"],
        "reject": ["pending", "escalated"],
        "escalate": ["pending"],
    }
    assert options["sources"] == ["cam1", "cam2"] and options["deployments"] == ["d" * 32]
    assert options["last_seq"] == 6
    assert {s["id"] for s in options["subjects"]} == {alice, bob}
    assert all(s["label"] for s in options["subjects"])
    assert api.client().get("/api/alerts/options").status_code == 401


def test_a_decision_keeps_its_note_in_the_audit_log(api: Api) -> None:
    seed(api)
    client = logged_in(api, "ann")
    alert = client.get("/api/alerts").json()["items"][0]
    body = {"decision": "reject", "version": 1, "reason": "poor_image", "note": "  face half hidden by a hood  "}
    assert client.post(f"/api/alerts/{alert['id']}/adjudication", json=body).status_code == 200
    too_long = {"decision": "escalate", "version": 1, "note": "x" * 2001}
    other = client.get("/api/alerts").json()["items"][1]
    assert client.post(f"/api/alerts/{other['id']}/adjudication", json=too_long).status_code == 422
    with api.db.session() as session:
        entries = [e for e in iter_entries(session) if e.action == "alert.adjudicate"]
    assert [e.details.get("note") for e in entries] == ["face half hidden by a hood"]
    assert entries[0].actor == "user:ann"


@pytest.mark.parametrize("role", list(Role))
def test_session_lists_the_callers_permissions(api: Api, role: Role) -> None:
    api.user(f"u-{role.value}", role)
    client = api.client()
    api.login(client, f"u-{role.value}")
    held = client.get("/api/auth/session").json()["permissions"]
    assert held == [p.value for p, roles in POLICY.items() if role in roles]
