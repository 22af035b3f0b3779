"""End to end in a real browser: an operator signs in, a real pipeline (YuNet + SFace on the Hamilton clip,
with the performer enrolled) raises an alert that appears live, a colleague's earlier decision is shown as
a conflict, the operator confirms with the keyboard and records the outcome, and it is still there after a
reload."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from openlfr.alerts.sinks import AlertBus
from openlfr.api import Services, create_app
from openlfr.api.enrolment import UploadEnroller
from openlfr.audit import iter_entries
from openlfr.engine import FaceEngine
from openlfr.pipeline.app import pipeline_settings
from openlfr.service.supervisor import RecognitionSupervisor
from openlfr.sources.mandate import RecognitionMandate
from openlfr.store.context import Store
from openlfr.store.db import open_database
from openlfr.store.media import MediaStore
from openlfr.watchlists.enrol import Enroller, EnrolRequest
from openlfr.watchlists.snapshots import create_snapshot
from openlfr.watchlists.subjects import add_member, create_watchlist, get_subject
from openlfr.watchlists.types import Category, Outcome, SubjectInfo
from tests.api.conftest import PASSWORD, Clock, fast_hasher, make_settings
from tests.helpers.accounts import insert_user, person
from tests.helpers.cameras import camera_service, register_camera
from tests.helpers.console import live_deployment
from tests.helpers.data import shared_data
from tests.web.conftest import LiveServer, serve

pytestmark = [pytest.mark.browser, pytest.mark.model, pytest.mark.slow]

SCREENSHOT_DIR_ENV = "LFR_CONSOLE_SCREENSHOT_DIR"


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[LiveServer, RecognitionSupervisor, RecognitionMandate, str, FaceEngine]]:
    video = shared_data() / "video"
    settings = make_settings(tmp_path, alert_stream_max_s=60)
    engine = FaceEngine.from_settings(pipeline_settings(settings))
    db = open_database(settings)
    store = Store(db, MediaStore(settings.data_dir / "media", settings.media_key))
    bus = AlertBus()
    service = camera_service(settings, store, bus, lambda: engine)
    cameras = service.supervisor
    hasher = fast_hasher()
    reference = video / "hamilton_refs" / "lin_manuel_miranda" / "lin-manuel-miranda.png"
    info = SubjectInfo(
        "LMM-1", Category.SUSPECTED_OFFENCE, "test entry: public figure", "other", "sue",
        date(2030, 1, 1), "Lin-Manuel Miranda", image_source_note="public photograph",
    )  # fmt: skip
    with db.session() as session:
        sue = person(session, "sue", "supervisor")
    result = Enroller(store, engine, 0.9).enrol(
        EnrolRequest("LMM-1", reference.read_bytes(), reference.name, info=info, by=sue)
    )
    assert result.outcome is Outcome.ENROLLED
    with db.session() as session:
        sue = person(session, "sue", "supervisor")
        add_member(session, create_watchlist(session, "hamilton", by=sue), get_subject(session, "LMM-1"), by=sue)
        snapshot_id = create_snapshot(session, "hamilton", engine.contract, Clock()().date(), by=sue).id
        root = person(session, "root", "admin")
        camera_id = register_camera(session, "stage-cam", str(video / "hamilton_short.mp4"), by=root).id
        insert_user(session, "ann", "operator", PASSWORD, hasher)
    mandate = live_deployment(store, snapshot_id, [camera_id], threshold=0.47)
    services = Services(
        sessions=db.sessions,
        password_hasher=hasher,
        store=store,
        bus=bus,
        cameras=service.monitor,
        enroller=UploadEnroller(store, lambda: engine, 0.9),
    )
    server = serve(create_app(settings, services))
    try:
        yield server, cameras, mandate, camera_id, engine
    finally:
        cameras.stop_all()
        server.stop()
        db.close()


def test_live_alert_is_confirmed_and_its_outcome_saved(
    browser: Any, console: tuple[LiveServer, RecognitionSupervisor, RecognitionMandate, str, FaceEngine], tmp_path: Path
) -> None:
    server, cameras, mandate, _, _ = console
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "Content" in m.text else None)

    page.goto(f"{server.url}/")
    page.fill("#login-username", "ann")
    page.fill("#login-password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#stream-state.live", timeout=10_000)
    assert page.text_content("#who") == "ann (operator)"
    page.mouse.move(5, 5)  # away from the queue: a new card is then shown at once (not held behind "N new")

    # The deployment scheduler's call: a real pipeline on the Hamilton clip.
    cameras.start_recognition(mandate)
    card = page.locator("li.alert", has_text="Lin-Manuel Miranda")
    card.wait_for(timeout=90_000)
    assert "new" in (card.get_attribute("class") or "")
    assert "suspected offence" in card.locator(".category").text_content()
    assert card.locator(".camera").text_content() == "stage-cam"
    for image in ("img.probe", "img.reference"):
        page.wait_for_function(f"() => document.querySelector('li.alert {image}').naturalWidth > 0", timeout=10_000)
    alert_id = card.get_attribute("data-alert")
    key = card.get_attribute("data-key")
    card.locator(".scene summary").click()
    page.wait_for_function("() => document.querySelector('li.alert img.context').naturalWidth > 0", timeout=10_000)

    # A colleague escalates it first (signed in through the API); this console still shows version 1.
    with httpx.Client(base_url=server.url) as client:
        csrf = _colleague(client, cameras)
        escalated = client.post(
            f"/api/alerts/{alert_id}/adjudication",
            json={"decision": "escalate", "version": 1},
            headers={"X-CSRF-Token": csrf},
        )
        assert escalated.status_code == 200, escalated.text
    card.locator("button.confirm").click()
    dialog = page.locator("#ask-dialog")
    assert "cannot be undone: only corrected later with a reason" in dialog.locator(".ask-text").text_content()
    dialog.locator("button.ask-submit").click()
    conflict = card.locator(".conflict")
    conflict.wait_for()
    assert "escalated" in conflict.text_content() and "not saved" in conflict.text_content()
    assert card.locator(".status").text_content() == "escalated"

    # Having seen it, the operator confirms (keyboard only, with a note) and records the outcome.
    card.locator("button.confirm").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#ask-dialog[open]")
    page.keyboard.type("matches the warrant photo")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('li.alert .status').textContent === 'confirmed'")
    card.locator("select.outcome-choice").select_option("arrested")
    card.locator("button.record-outcome").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('li.alert .outcome').textContent.includes('arrested')")
    with cameras.db.session() as session:
        decisions = [e for e in iter_entries(session) if e.action == "alert.adjudicate" and e.actor == "user:ann"]
    assert [e.details.get("note") for e in decisions] == ["matches the warrant photo"]
    shot = Path(os.environ.get(SCREENSHOT_DIR_ENV) or tmp_path) / "console.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.read_bytes().startswith(b"\x89PNG")

    # Saved: after a reload (same session) the alert is listed with its outcome.
    page.reload()
    page.wait_for_selector("#stream-state.live", timeout=10_000)
    page.select_option("#queue-filters select[name=status]", "")
    saved = page.locator(f"li.alert[data-key='{key}']")
    saved.wait_for()
    assert "arrested" in saved.locator(".outcome").text_content()
    assert saved.locator(".status").text_content() == "confirmed"
    assert "ann" in saved.locator(".decided").text_content()
    assert problems == []
    page.close()


def _colleague(client: httpx.Client, cameras: RecognitionSupervisor) -> str:
    """Sign ``client`` in as bob, an operator (decisions are made in person); returns the CSRF token."""
    with cameras.db.session() as session:
        insert_user(session, "bob", "operator")
    response = client.post("/api/auth/login", json={"username": "bob", "password": PASSWORD})
    assert response.status_code == 200, response.text
    csrf: str = response.json()["csrf_token"]
    return csrf
