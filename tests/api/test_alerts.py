"""The alert routes: list with filters and paging, images, adjudication under optimistic locking, outcome,
the live stream with resume, and the audit entries they leave."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from openlfr.audit import iter_entries
from openlfr.store.context import Store
from openlfr.store.models import ReferenceImage
from tests.api.conftest import Api, build_api, make_settings
from tests.helpers.console import enrol_subject, store_alert


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[tuple[Api, str, list[dict[str, object]]]]:
    for api in build_api(make_settings(tmp_path)):
        services = api.app.state.ctx.services
        store: Store = services.store
        subject_id, image_id = enrol_subject(store, services.enroller.engine, 1, "alice")
        alerts = [store_alert(store, subject_id, image_id, source=s) for s in ("cam1", "cam2")]
        api.user("ann", "operator")
        api.user("bob", "operator")
        api.user("sue", "supervisor")
        yield api, subject_id, alerts


def logged_in(api: Api, username: str) -> TestClient:
    client = api.client()
    client.headers["X-CSRF-Token"] = api.login(client, username)
    return client


def test_list_filters_and_paging(seeded: tuple[Api, str, list[dict[str, object]]]) -> None:
    api, subject_id, alerts = seeded
    client = logged_in(api, "ann")
    page = client.get("/api/alerts").json()
    assert page["total"] == 2 and [a["seq"] for a in page["items"]] == [2, 1]  # newest first
    first = page["items"][1]
    assert first["subject"]["display_name"] == "Alice" and first["subject"]["category"] == "wanted_by_courts"
    assert first["subject"]["reason"] == "warrant 123" and first["has_reference"] and first["has_context"]
    assert first["status"] == "pending" and first["version"] == 1 and first["deployment_id"] == "d" * 32
    assert client.get("/api/alerts", params={"source": "cam2"}).json()["total"] == 1
    assert client.get("/api/alerts", params={"subject": subject_id, "status": "pending"}).json()["total"] == 2
    assert client.get("/api/alerts", params={"status": "confirmed"}).json()["total"] == 0
    assert client.get("/api/alerts", params={"since": "2030-01-01T00:00:00"}).json()["total"] == 0
    assert client.get("/api/alerts", params={"since": "2026-01-01T00:00:00+01:00"}).json()["total"] == 2
    paged = client.get("/api/alerts", params={"limit": 1, "offset": 1}).json()
    assert [a["id"] for a in paged["items"]] == [alerts[0]["alert_id"]] and paged["total"] == 2
    for bad in ({"status": "maybe"}, {"limit": 0}, {"limit": 201}, {"offset": -1}, {"since": "yesterday"}):
        response = client.get("/api/alerts", params=bad)
        assert response.status_code == 422 and response.json()["error"]["code"] == "validation_failed"


def test_open_alerts_page_by_seq_without_skipping_when_alerts_are_decided_between_pages(
    seeded: tuple[Api, str, list[dict[str, object]]],
) -> None:
    api, subject_id, _ = seeded
    services = api.app.state.ctx.services
    with api.db.session() as session:
        reference = session.query(ReferenceImage).filter_by(subject_id=subject_id).one().id
    for _ in range(5):
        store_alert(services.store, subject_id, reference)
    ann, sue = logged_in(api, "ann"), logged_in(api, "sue")
    # Seven pending alerts (seq 1-7); seq 7 escalated, seq 6 confirmed.
    _decide(ann, 7, "escalate")
    _decide(ann, 6, "confirm")
    open_ = {"status": ["pending", "escalated"], "limit": 2}

    # Several statuses at once (the open ones), newest first, with their true total and where to page on.
    first = ann.get("/api/alerts", params=open_).json()
    assert [a["seq"] for a in first["items"]] == [7, 5] and first["total"] == 6
    assert first["next_before_seq"] == 5
    # Someone decides an alert of the next page, and a new one arrives, before the officer pages on:
    # an offset would now skip seq 3; the key (before_seq) does not, and the total stays the true one.
    _decide(sue, 4, "confirm")
    store_alert(services.store, subject_id, reference)
    second = ann.get("/api/alerts", params={**open_, "before_seq": first["next_before_seq"]}).json()
    assert [a["seq"] for a in second["items"]] == [3, 2] and second["total"] == 6
    last = ann.get("/api/alerts", params={**open_, "before_seq": second["next_before_seq"]}).json()
    assert [a["seq"] for a in last["items"]] == [1] and last["next_before_seq"] is None
    for bad in ({"before_seq": 0}, {"status": ["pending", "maybe"]}, {"status": ["pending"] * 5}):
        response = ann.get("/api/alerts", params=bad)
        assert response.status_code == 422 and response.json()["error"]["code"] == "validation_failed"


def _decide(client: TestClient, seq: int, decision: str) -> None:
    found = [a["id"] for a in client.get("/api/alerts", params={"limit": 200}).json()["items"] if a["seq"] == seq]
    assert len(found) == 1
    response = client.post(f"/api/alerts/{found[0]}/adjudication", json={"decision": decision, "version": 1})
    assert response.status_code == 200, response.text


def test_a_supervisor_holds_an_alert_and_the_alert_says_so(seeded: tuple[Api, str, list[dict[str, object]]]) -> None:
    api, _, alerts = seeded
    alert_id = str(alerts[0]["alert_id"])
    ann, sue = logged_in(api, "ann"), logged_in(api, "sue")
    assert ann.get(f"/api/alerts/{alert_id}").json()["hold"] is False
    refused = ann.post(f"/api/retention/holds/{alert_id}", json={"reason": "case 42"})
    assert refused.status_code == 403  # retention:manage is the supervisor's
    for blank in ({"reason": ""}, {}, {"reason": "   "}):
        bad = sue.post(f"/api/retention/holds/{alert_id}", json=blank)
        assert bad.status_code in (400, 422) and bad.json()["error"]["code"] in ("validation_failed", "hold_invalid")
    placed = sue.post(f"/api/retention/holds/{alert_id}", json={"reason": "case 42"})
    assert placed.status_code == 200, placed.text
    shown = ann.get(f"/api/alerts/{alert_id}").json()
    assert shown["hold"] is True and shown["hold_by"] == "sue" and shown["hold_at"] is not None
    listed = {a["id"]: a for a in ann.get("/api/alerts").json()["items"]}
    assert listed[alert_id]["hold_by"] == "sue"
    again = sue.post(f"/api/retention/holds/{alert_id}", json={"reason": "case 43"})
    assert again.status_code == 400 and again.json()["error"]["code"] == "hold_invalid"
    with api.db.session() as session:
        entries = [e for e in iter_entries(session) if e.action == "alert.hold"]
    assert [(e.actor, e.target_id, e.details["reason"]) for e in entries] == [("user:sue", alert_id, "case 42")]


def test_images_are_served_and_their_viewing_audited(seeded: tuple[Api, str, list[dict[str, object]]]) -> None:
    api, _, alerts = seeded
    client = logged_in(api, "ann")
    alert_id = alerts[0]["alert_id"]
    for kind, media_type in (("probe", "image/jpeg"), ("context", "image/jpeg"), ("reference", "image/png")):
        response = client.get(f"/api/alerts/{alert_id}/{kind}")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == media_type
        assert response.headers["cache-control"] == "no-store"
    assert client.get("/api/alerts/nope/probe").status_code == 404
    with api.db.session() as session:
        entries = [e for e in iter_entries(session) if e.action.startswith("alert.")]
    assert [e.details["kind"] for e in entries] == ["probe", "context", "reference"]
    assert all(e.actor == "user:ann" and e.target_id == alert_id for e in entries)


def test_two_operators_cannot_overwrite_each_other(seeded: tuple[Api, str, list[dict[str, object]]]) -> None:
    api, _, alerts = seeded
    alert_id = alerts[0]["alert_id"]
    ann, bob = logged_in(api, "ann"), logged_in(api, "bob")
    assert ann.get(f"/api/alerts/{alert_id}").json()["version"] == 1
    assert bob.get(f"/api/alerts/{alert_id}").json()["version"] == 1
    confirmed = ann.post(f"/api/alerts/{alert_id}/adjudication", json={"decision": "confirm", "version": 1})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed" and confirmed.json()["adjudicated_by"] == "ann"
    late = bob.post(
        f"/api/alerts/{alert_id}/adjudication",
        json={"decision": "reject", "reason": "different_person", "version": 1},
    )
    assert late.status_code == 409
    error = late.json()["error"]
    assert error["code"] == "stale_version"
    current = error["details"]["current"]
    assert (current["status"], current["adjudicated_by"], current["version"]) == ("confirmed", "ann", 2)
    # With the current version the decision is refused for what it is: a confirmed alert is final.
    final = bob.post(
        f"/api/alerts/{alert_id}/adjudication", json={"decision": "reject", "reason": "other", "version": 2}
    )
    assert final.status_code == 409 and final.json()["error"]["code"] == "alert_state"
    outcome = bob.post(f"/api/alerts/{alert_id}/outcome", json={"outcome": "arrested", "version": 2})
    assert outcome.status_code == 200 and outcome.json()["outcome"] == "arrested"
    assert outcome.json()["outcome_by"] == "bob" and outcome.json()["version"] == 3
    stale = ann.post(f"/api/alerts/{alert_id}/outcome", json={"outcome": "no_action", "version": 2})
    assert stale.status_code == 409 and stale.json()["error"]["details"]["current"]["outcome"] == "arrested"
    with api.db.session() as session:
        actions = [(e.actor, e.action, e.details) for e in iter_entries(session) if e.target_id == alert_id]
    assert ("user:ann", "alert.adjudicate", {"decision": "confirm", "version": 2}) in actions
    assert ("user:bob", "alert.outcome", {"outcome": "arrested", "version": 3}) in actions
    assert not any(a == "alert.adjudicate" and actor == "user:bob" for actor, a, _ in actions)


def test_decision_rules(seeded: tuple[Api, str, list[dict[str, object]]]) -> None:
    api, _, alerts = seeded
    alert_id = alerts[1]["alert_id"]
    ann, sue = logged_in(api, "ann"), logged_in(api, "sue")
    url = f"/api/alerts/{alert_id}/adjudication"
    for body in (
        {"decision": "reject", "version": 1},  # a rejection needs its reason
        {"decision": "confirm", "reason": "other", "version": 1},
    ):
        response = ann.post(url, json=body)
        assert response.status_code == 409 and response.json()["error"]["code"] == "alert_state"
    for body in ({"decision": "reject", "reason": "dunno", "version": 1}, {"decision": "confirm", "version": 0}):
        assert ann.post(url, json=body).status_code == 422
    outcome = ann.post(f"/api/alerts/{alert_id}/outcome", json={"outcome": "arrested", "version": 1})
    assert outcome.status_code == 409  # only a confirmed alert has an engagement outcome
    escalated = ann.post(url, json={"decision": "escalate", "version": 1})
    assert escalated.json()["status"] == "escalated"
    assert ann.post(url, json={"decision": "escalate", "version": 2}).status_code == 409
    rejected = sue.post(url, json={"decision": "reject", "reason": "poor_image", "version": 2})
    assert rejected.status_code == 200
    assert (rejected.json()["status"], rejected.json()["reject_reason"]) == ("rejected", "poor_image")
    # cookie sessions need the CSRF header on every change
    del ann.headers["X-CSRF-Token"]
    refused = ann.post(f"/api/alerts/{alerts[0]['alert_id']}/adjudication", json={"decision": "confirm", "version": 1})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"


def events_of(text: str) -> list[tuple[int, str]]:
    out = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if fields.get("event") == "alert":
            out.append((int(fields["id"]), fields["data"]))
    return out


def read_events(lines: Iterator[str], count: int) -> list[tuple[int, str]]:
    """The first ``count`` alert events of an open stream's lines, read as they arrive (no clock involved)."""
    events: list[tuple[int, str]] = []
    block: list[str] = []
    for line in lines:
        if line:
            block.append(line)
            continue
        events.extend(events_of("\n".join(block)))
        block = []
        if len(events) >= count:
            break
    return events


def test_stream_resumes_after_the_last_event_id_and_delivers_new_alerts(tmp_path: Path) -> None:
    # An hour-long stream: each read below ends when its events arrived, not on a timer.
    for api in build_api(make_settings(tmp_path, alert_stream_max_s=3600.0)):
        services = api.app.state.ctx.services
        store: Store = services.store
        subject_id, image_id = enrol_subject(store, services.enroller.engine, 1, "alice")
        first = [store_alert(store, subject_id, image_id) for _ in range(3)]
        token = api.token("operator")
        client = api.client()
        headers = {"Authorization": f"Bearer {token}"}
        with client.stream("GET", "/api/alerts/stream", headers={**headers, "Last-Event-ID": "1"}) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            resumed = read_events(response.iter_lines(), 2)
        assert [seq for seq, _ in resumed] == [2, 3]
        assert first[2]["alert_id"] in resumed[1][1]
        # Without a resume point, only what is stored from now on; a new alert arrives while connected.
        with client.stream("GET", "/api/alerts/stream", headers=headers) as live:
            lines = live.iter_lines()
            assert next(lines) == "retry: 1000"  # sent once the stream has fixed its start and listens
            store_alert(store, subject_id, image_id, bus=services.bus)
            assert [seq for seq, _ in read_events(lines, 1)] == [4]
        with client.stream("GET", "/api/alerts/stream?after=3", headers=headers) as again:
            assert [seq for seq, _ in read_events(again.iter_lines(), 1)] == [4]


def test_stream_ends_when_the_server_stops(tmp_path: Path) -> None:
    # An hour-long stream that returns at all ended on the stop flag (a hang fails on the test timeout).
    for api in build_api(make_settings(tmp_path, alert_stream_max_s=3600)):
        token = api.token("auditor")
        api.app.state.ctx.services.stopping.set()
        response = api.client().get("/api/alerts/stream", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200 and response.text == "retry: 1000\n\n"  # not one round of the loop


def test_amendments_and_the_history_of_an_alert(seeded: tuple[Api, str, list[dict[str, object]]]) -> None:
    api, _, alerts = seeded
    alert_id = alerts[0]["alert_id"]
    ann, bob = logged_in(api, "ann"), logged_in(api, "bob")
    decide, engage = f"/api/alerts/{alert_id}/adjudication", f"/api/alerts/{alert_id}/outcome"
    assert ann.post(decide, json={"decision": "confirm", "version": 1, "note": "same tattoo"}).status_code == 200
    spoken = bob.post(engage, json={"outcome": "spoken_to", "version": 2})
    assert spoken.status_code == 200 and not spoken.json()["hold"]
    # Overwriting the outcome is refused; an amendment with its reason is kept next to the first.
    refused = bob.post(engage, json={"outcome": "not_the_person", "version": 3})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "alert_state"
    api.clock.advance(minutes=5)
    wrong = bob.post(
        engage,
        json={"outcome": "not_the_person", "version": 3, "amendment_reason": "date of birth did not match"},
    )
    assert wrong.status_code == 200, wrong.text
    assert (wrong.json()["status"], wrong.json()["outcome"], wrong.json()["version"]) == (
        "confirmed",
        "not_the_person",
        4,
    )
    # The decision is amended too, with its reason; without one it is refused.
    assert ann.post(decide, json={"decision": "reject", "reason": "different_person", "version": 4}).status_code == 409
    amended = ann.post(
        decide,
        json={"decision": "reject", "reason": "different_person", "version": 4, "amendment_reason": "not him"},
    )
    assert amended.status_code == 200 and amended.json()["status"] == "rejected"
    assert (
        ann.post(decide, json={"decision": "confirm", "version": 1, "amendment_reason": "x" * 2001}).status_code == 422
    )
    history = bob.get(f"/api/alerts/{alert_id}/history")
    assert history.status_code == 200, history.text
    body = history.json()
    assert (body["status"], body["outcome"], body["hold"]) == ("rejected", "not_the_person", False)
    assert [
        (c["kind"], c["value"], c["previous"], c["changed_by"], c["amended"], c["note"]) for c in body["changes"]
    ] == [
        ("adjudication", "confirmed", "pending", "ann", False, "same tattoo"),
        ("engagement", "spoken_to", None, "bob", False, ""),
        ("engagement", "not_the_person", "spoken_to", "bob", True, "date of birth did not match"),
        ("adjudication", "rejected", "confirmed", "ann", True, "not him"),
    ]
    assert body["changes"][2]["at"].startswith("2026-11-26T12:05:00")
    assert bob.get("/api/alerts/nope/history").status_code == 404
    with api.db.session() as session:
        viewed = [e.details for e in iter_entries(session, action="alert.view") if e.target_id == alert_id]
    assert {"view": "history"} in viewed


def test_an_arrest_recorded_over_the_api_puts_the_alert_on_hold(
    seeded: tuple[Api, str, list[dict[str, object]]],
) -> None:
    api, _, alerts = seeded
    alert_id = alerts[1]["alert_id"]
    ann = logged_in(api, "ann")
    ann.post(f"/api/alerts/{alert_id}/adjudication", json={"decision": "reject", "reason": "other", "version": 1})
    # Officers engaged a rejected alert anyway (the person came forward): recorded, and an arrest is evidence.
    arrested = ann.post(f"/api/alerts/{alert_id}/outcome", json={"outcome": "arrested", "version": 2})
    assert arrested.status_code == 200, arrested.text
    assert arrested.json()["hold"] is True
    with api.db.session() as session:
        (hold,) = [e for e in iter_entries(session, action="alert.hold") if e.target_id == alert_id]
    assert hold.actor == "user:ann" and hold.details["outcome"] == "arrested"
