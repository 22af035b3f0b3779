"""``GET /api/watchlist-reviews``: the watchlist entries whose review is overdue or due soon, across watchlists,
and the two actions that settle one: a new review-by date, or removal from the watchlist."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from openlfr.watchlists.types import Category
from tests.api.conftest import Api
from tests.helpers.subjects import let_review_date_pass, post_subject

# The test clock stands at 2026-11-26.


def logged_in(api: Api, username: str, role: str) -> TestClient:
    api.user(username, role)
    client = api.client()
    client.headers["X-CSRF-Token"] = api.login(client, username)
    return client


def test_overdue_and_due_soon_entries_across_watchlists_and_how_they_are_settled(api: Api) -> None:
    sue = logged_in(api, "sue", "supervisor")
    for name in ("courts", "missing"):
        assert sue.post("/api/watchlists", json={"name": name}).status_code == 201
    late = post_subject(sue, "late", "2026-11-26", "courts")
    with api.db.session() as session:
        let_review_date_pass(session, "late", date(2026, 11, 1))
    soon = post_subject(sue, "soon", "2026-12-20", "missing")
    post_subject(sue, "fine", "2027-06-01", "courts")
    edge = post_subject(sue, "edge", "2026-11-26", "courts")  # due today: not yet overdue
    aud = logged_in(api, "aud", "auditor")  # every role reads watchlists
    listing = aud.get("/api/watchlist-reviews")
    assert listing.status_code == 200, listing.text
    body = listing.json()
    assert (body["as_of"], body["within_days"], body["states"]) == ("2026-11-26", 30, ["overdue", "due_soon"])
    rows = [(e["external_ref"], e["watchlist"], e["state"], e["days_left"]) for e in body["entries"]]
    assert rows == [
        ("late", "courts", "overdue", -25),
        ("edge", "courts", "due_soon", 0),
        ("soon", "missing", "due_soon", 24),
    ]
    assert [e["external_ref"] for e in aud.get("/api/watchlist-reviews?within_days=0").json()["entries"]] == ["late"]
    assert aud.get("/api/watchlist-reviews?within_days=-1").status_code == 422
    # Settled: a new review-by date, or off the watchlist (supervisors only).
    assert aud.patch(f"/api/subjects/{late}", json={"review_by": "2027-05-26"}).status_code == 403
    refused = sue.patch(f"/api/subjects/{late}", json={"review_by": "2026-11-25"})  # a renewal into the past
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "invalid_metadata"), refused.text
    assert sue.patch(f"/api/subjects/{late}", json={"review_by": "2027-05-26"}).status_code == 200
    assert sue.delete(f"/api/watchlists/missing/members/{soon}").status_code == 204
    assert [e["subject_id"] for e in aud.get("/api/watchlist-reviews").json()["entries"]] == [edge]
    assert api.client().get("/api/watchlist-reviews").status_code == 401


def test_the_subject_codes_come_from_the_server(api: Api) -> None:
    aud = logged_in(api, "aud", "auditor")
    options = aud.get("/api/watchlist-options").json()
    assert options == {
        "categories": [c.value for c in Category],
        "image_sources": ["custody_image", "other_police_image", "other"],
    }
