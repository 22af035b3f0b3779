"""Training records on the Users page, the camera test view and the watchlist review page, in real Chromium at
desktop and phone size: what each role is offered follows the permissions the server sends, the server's
refusals are shown where the officer is looking, every face of a test view is blanked before it reaches the
browser, and no axe-core (WCAG 2.2 AA) violation."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from openlfr.audit import iter_entries
from tests.api.conftest import Api
from tests.helpers.cameras import register_camera
from tests.helpers.console import frame_folder
from tests.helpers.subjects import let_review_date_pass, post_subject
from tests.web.conftest import axe_violations
from tests.web.test_alert_queue import screenshot
from tests.web.test_governance_pages import DESKTOP, SIZES, Console, open_page, sign_in, tab_to
from tests.web.test_governance_pages import console as console  # noqa: PLC0414 (the fixture)

pytestmark = pytest.mark.browser

API_TODAY = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
"""the test server's clock (tests.api.conftest.Clock): the browser is set to the same day"""


def at_server_time(page: Any) -> Any:
    """Date.now() in the page is the test server's (timers still run): the forms' default dates agree with it."""
    page.clock.set_fixed_time(API_TODAY)
    return page


def fits(page: Any, viewport: dict[str, int]) -> bool:
    return bool(page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"])


def training_card(page: Any, username: str) -> Any:
    return page.locator(f"#training article[data-user='{username}']")


@SIZES
def test_a_supervisor_records_training_by_keyboard_and_sees_the_servers_refusal(
    browser: Any, console: Console, viewport: dict[str, int], tmp_path: Path
) -> None:
    page = at_server_time(sign_in(browser, console, "sue", viewport))
    open_page(page, "users")
    ann = training_card(page, "ann")
    ann.wait_for()
    # ann's record from the fixture: one current operator record; operators may hold nothing else.
    assert ann.locator("tbody tr").count() == 1 and "current" in str(ann.locator("tbody tr").text_content())
    assert ann.locator("select[name=competence] option").all_inner_texts() == ["operator"]
    assert training_card(page, "sue").locator("select[name=competence] option").all_inner_texts() == [
        "operator",
        "supervisor",
    ]
    assert training_card(page, "root").count() == 0  # an admin account holds no competence
    # Keyboard only: the course, then the default dates (today, a year on), then record.
    keys = page.keyboard
    tab_to(page, "#training article[data-user='ann'] input[name=course]")
    keys.type("LFR operator refresher")
    tab_to(page, "#training article[data-user='ann'] button[type=submit]")
    keys.press("Enter")
    page.wait_for_function(
        "() => document.querySelectorAll(\"#training article[data-user='ann'] tbody tr\").length === 2"
    )
    ann = training_card(page, "ann")
    first, second = ann.locator("tbody tr").all_inner_texts()
    assert "LFR operator refresher" in first and "current" in first and "2027-11-26" in first
    assert "superseded" in second
    assert "sue" in first  # recorded by the signed-in person, not a typed name
    if viewport == DESKTOP:
        page.evaluate("() => window.scrollTo(0, document.querySelector('#training').offsetTop - 8)")
        screenshot(page, "console-users.png", tmp_path)
    # Nobody records their own training: the server refuses and the form says so, in place.
    own = training_card(page, "sue")
    own.locator("input[name=course]").fill("LFR authorising officer")
    own.locator("select[name=competence]").select_option("supervisor")
    own.locator("button[type=submit]").click()
    refusal = own.locator("p.error[role=alert]")
    refusal.wait_for(state="visible")
    page.wait_for_function(
        "() => document.querySelector(\"#training article[data-user='sue'] p.error\").textContent.length > 0"
    )
    assert "nobody records their own training" in str(refusal.text_content())
    assert "separation_of_duties" in str(refusal.text_content())
    with console.api.db.session() as session:
        recorded = [(e.actor, e.details["username"]) for e in iter_entries(session, action="user.competence.record")]
    assert recorded[-1] == ("user:sue", "ann") and ("user:sue", "sue") not in recorded
    assert axe_violations(page) == []
    assert fits(page, viewport) and page.errors == []
    page.close()


def test_an_admin_reads_training_records_without_a_form(browser: Any, console: Console) -> None:
    page = sign_in(browser, console, "root")
    open_page(page, "users")
    training_card(page, "ann").wait_for()
    assert page.locator("#training form").count() == 0  # competence:manage is the supervisors'
    assert page.errors == []
    page.close()


def camera_folder(console: Console, tmp_path: Path) -> str:
    folder = frame_folder(tmp_path / "frames", 3, 2)
    with console.api.db.session() as session:
        camera_id = register_camera(session, "gate-1", str(folder), location="north gate").id
        session.commit()
    return camera_id


@SIZES
def test_the_camera_test_view_shows_a_frame_with_every_face_blanked(
    browser: Any, console: Console, viewport: dict[str, int], tmp_path: Path
) -> None:
    camera_folder(console, tmp_path)
    page = sign_in(browser, console, "ann", viewport)
    open_page(page, "cameras")
    card = page.locator("#camera-list article", has_text="gate-1")
    card.wait_for()
    tab_to(page, "button[aria-label='Test view of gate-1']")  # keyboard only
    page.keyboard.press("Enter")
    facts = card.locator(".test-facts")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.test-facts')].some(p => p.textContent.startsWith('400×400'))"
    )
    assert "1 face detected, every one blanked" in str(facts.text_content())
    assert "read from the source" in str(facts.text_content())
    image = card.locator(".test-view img")
    assert image.evaluate("img => img.complete && img.naturalWidth") == 400
    # What reached the browser: the server's JPEG, the face a flat patch.
    src = str(image.get_attribute("src"))
    frame = cv2.imdecode(np.frombuffer(base64.b64decode(src.split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)
    assert frame[110:250, 130:270].astype(float).std(axis=(0, 1)).max() < 3
    # A camera that gives no frame: the reason, on its card.
    (tmp_path / "empty").mkdir()
    with console.api.db.session() as session:
        register_camera(session, "dead", str(tmp_path / "empty"), location="nowhere")
        session.commit()
    page.reload()
    page.wait_for_selector("button[aria-label='Test view of dead']")
    page.click("button[aria-label='Test view of dead']")
    dead = page.locator("#camera-list article", has_text="dead").locator("p.error[role=alert]")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#camera-list p.error')].some(p => p.textContent.includes('dead'))"
    )
    assert "No test view of dead" in str(dead.text_content())
    assert axe_violations(page) == []
    assert fits(page, viewport) and page.errors == []
    page.close()


def seed_reviews(api: Api) -> None:
    client = api.client()
    client.headers["X-CSRF-Token"] = api.login(client, "sue")
    for name in ("courts", "missing"):
        assert client.post("/api/watchlists", json={"name": name}).status_code == 201
    post_subject(client, "late", "2026-11-26", "courts")
    with api.db.session() as session:
        let_review_date_pass(session, "late", date(2026, 11, 1))  # 25 days overdue on the server's clock
    post_subject(client, "soon", "2026-12-20", "missing")
    post_subject(client, "later", "2027-06-01", "courts")


def review_rows(page: Any) -> list[str]:
    return [" | ".join(r.split("\t")[:5]) for r in page.locator("#view-reviews tbody tr").all_inner_texts()]


@SIZES
def test_the_review_page_lists_due_entries_and_a_supervisor_settles_them(
    browser: Any, console: Console, viewport: dict[str, int]
) -> None:
    seed_reviews(console.api)
    # An auditor reads the list; settling it is not offered.
    aud = sign_in(browser, console, "aud", viewport)
    open_page(aud, "reviews")
    assert aud.locator("#view-reviews tbody tr").count() == 2
    assert aud.locator("#view-reviews button").count() == 1  # "Show" only
    assert aud.text_content("#review-summary") == "As of 2026-11-26: 1 overdue, 1 due soon."
    assert axe_violations(aud) == []
    aud.close()
    sue = at_server_time(sign_in(browser, console, "sue", viewport))
    open_page(sue, "reviews")
    rows = sue.locator("#view-reviews tbody tr")
    assert "overdue: 25 days overdue" in str(rows.nth(0).text_content())
    assert "due soon: due in 24 days" in str(rows.nth(1).text_content())
    # Keyboard only: a new review date for "late", then renew.
    new_date = sue.locator("input[aria-label='New review date for Late (late) on courts']")
    new_date.fill("2026-11-20")  # not after today: refused before anything is sent
    sue.click("button[aria-label='Renew review of Late (late) on courts']")
    sue.wait_for_selector("#flash:has-text('after today')")
    assert rows.count() == 2
    tab_to(sue, "input[aria-label='New review date for Late (late) on courts']")
    new_date.fill("2027-05-26")
    tab_to(sue, "button[aria-label='Renew review of Late (late) on courts']")
    sue.keyboard.press("Enter")
    sue.wait_for_function("() => document.querySelectorAll('#view-reviews tbody tr').length === 1")
    # Removal asks first.
    sue.click("button[aria-label='Remove Soon (soon) from missing']")
    sue.wait_for_selector("#ask-dialog[open]")
    assert axe_violations(sue) == [], "remove dialog"
    sue.keyboard.press("Control+Enter")
    sue.wait_for_selector("#view-reviews p.empty")
    # A wider window brings "later" in.
    sue.fill("#review-window input[name=within]", "200")
    sue.click("#review-window button[type=submit]")
    sue.wait_for_selector("#view-reviews tbody tr:has-text('Later (later)')")
    with console.api.db.session() as session:
        trail = [
            (e.actor, e.action)
            for e in iter_entries(session)
            if e.action in {"subject.update", "watchlist.remove_member"}
        ]
    assert trail == [("user:sue", "subject.update"), ("user:sue", "watchlist.remove_member")]
    assert axe_violations(sue) == []
    assert fits(sue, viewport) and sue.errors == []
    sue.close()
