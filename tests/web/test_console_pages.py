"""The watchlist and camera pages in a real browser (fake face engine: fast): a supervisor builds a watchlist
and sees the quality verdict of each uploaded image; the camera page shows health and a preview whose faces
are blanked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from openlfr.audit import iter_entries
from openlfr.service.monitor import CameraMonitor
from openlfr.store.models import ErasureRecord
from tests.api.conftest import Api, build_api, make_settings
from tests.helpers.cameras import register_camera
from tests.helpers.console import end_live, enrol_subject, frame_folder, live_deployment, png, snapshot
from tests.helpers.waiting import wait_until
from tests.web.conftest import LiveServer, axe_violations, console_page, serve, submit_sign_in
from tests.web.test_governance_pages import DESKTOP, PHONE, sign_in_by_keys, tab_to

pytestmark = pytest.mark.browser


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Api, LiveServer]]:
    for api in build_api(make_settings(tmp_path, alert_stream_max_s=30)):
        server = serve(api.app)
        try:
            yield api, server
        finally:
            server.stop()


def sign_in(browser: Any, server: LiveServer, username: str) -> Any:
    page = console_page(browser, server.url, {"width": 820, "height": 1100})  # tablet-sized
    submit_sign_in(page, username)
    page.wait_for_selector("#top:not([hidden])")
    return page


def upload_files(folder: Path) -> tuple[Path, Path]:
    """Two images to upload: one with a face the fake engine enrols, and a black one it rejects."""
    good, blank = folder / "good.png", folder / "blank.png"
    good.write_bytes(png(5))
    blank.write_bytes(cv2.imencode(".png", np.zeros((200, 200, 3), np.uint8))[1].tobytes())
    return good, blank


def test_supervisor_builds_a_watchlist_with_upload_verdicts(
    browser: Any, live: tuple[Api, LiveServer], tmp_path: Path
) -> None:
    api, server = live
    api.user("sue", "supervisor")
    good, blank = upload_files(tmp_path)
    page = sign_in(browser, server, "sue")
    page.click("#nav-watchlists")
    page.fill("#watchlist-form input[name=name]", "event-b")
    page.click("#watchlist-form button[type=submit]")
    page.wait_for_selector("#watchlist-detail h2:has-text('event-b')")
    form = page.locator("form:has(h2:has-text('Add a subject'))")
    form.locator("input[name=external_ref]").fill("CRN-9")
    form.locator("input[name=display_name]").fill("Carol Nine")
    form.locator("select[name=category]").select_option("witness")
    form.locator("input[name=reason]").fill("witness to an assault")
    form.locator("select[name=image_source]").select_option("other")
    form.locator("input[name=image_source_note]").fill("statement photo")
    form.locator("input[name=review_by]").fill("2030-06-30")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#subject-detail h2:has-text('Carol Nine')")
    page.set_input_files("#subject-detail input[type=file]", [str(good), str(blank)])
    page.click("#subject-detail form:has(h2:has-text('Upload')) button[type=submit]")
    verdicts = page.locator("#subject-detail li.verdict")
    verdicts.nth(1).wait_for()
    assert "good.png: enrolled" in verdicts.nth(0).text_content()
    assert "ok" in (verdicts.nth(0).get_attribute("class") or "")
    assert "blank.png: rejected" in verdicts.nth(1).text_content()
    page.wait_for_function("() => document.querySelector('#subject-detail .thumbs img')?.naturalWidth > 0")
    assert page.locator("#watchlist-detail td", has_text="CRN-9").count() == 1
    # Taking a subject off the watchlist and erasing it ask first, in the console's own dialog (Cancel keeps it).
    dialog = page.locator("#ask-dialog")
    page.click("#subject-detail button:has-text('Remove from event-b')")
    assert "Remove Carol Nine from event-b?" in dialog.locator("h2").text_content()
    dialog.locator("button.ask-cancel").click()
    assert dialog.is_hidden() and page.locator("#watchlist-detail td", has_text="CRN-9").count() == 1
    page.click("#subject-detail button:has-text('Erase subject')")
    assert "cannot be undone" in dialog.locator(".ask-text").text_content()
    dialog.locator("textarea[name=note]").fill("court order 12/2026")
    dialog.locator("button.ask-submit", has_text="Erase subject").click()
    page.wait_for_selector("#flash:has-text('Subject erased.')")
    page.locator("#watchlist-detail td", has_text="CRN-9").wait_for(state="detached")
    with api.db.session() as session:
        actors = [e.actor for e in iter_entries(session, action="subject.erase")]
        records = [(r.erased_by, r.reason) for r in session.query(ErasureRecord)]
    assert actors == ["user:sue"] and records == [("sue", "court order 12/2026")]  # the signed-in supervisor's
    page.close()


def test_camera_page_shows_health_and_a_blanked_preview(
    browser: Any, live: tuple[Api, LiveServer], tmp_path: Path
) -> None:
    api, server = live
    api.user("root", "admin")
    services = api.app.state.ctx.services
    monitor: CameraMonitor = services.cameras
    cameras = monitor.supervisor
    page = sign_in(browser, server, "root")
    page.click("#nav-cameras")
    page.fill("#camera-form input[name=name]", "lobby")
    page.fill("#camera-form input[name=source]", str(frame_folder(tmp_path / "lobby", 6, 4)))
    page.check("#camera-form input[name=loop]")
    page.click("#camera-form button[type=submit]")
    card = page.locator("article.camera", has_text="lobby")
    card.wait_for()
    assert "idle" in card.locator("dl").text_content()
    camera_id = card.get_attribute("data-id")
    enrol_subject(services.store, services.enroller.engine, 1, "alice")
    mandate = live_deployment(services.store, snapshot(services.store, services.enroller.engine), [camera_id])
    cameras.start_recognition(mandate)
    assert wait_until(lambda: monitor.preview_jpeg(camera_id) is not None, 10)
    page.wait_for_function("() => document.querySelector('article.camera img')?.naturalWidth > 0", timeout=10_000)
    assert "running" in card.locator("dl").text_content()
    # The deployment reading the camera is named, not shown as a hash (and no fact spills out of its card).
    deployment = card.locator("dt:text-is('Deployment') + dd")
    assert deployment.text_content() == "test deployment (live)"
    assert card.evaluate("c => [...c.querySelectorAll('dd')].every(d => d.scrollWidth <= d.clientWidth)")
    # What the browser received is the server's blanked frame.
    pixels = page.evaluate(
        """() => { const img = document.querySelector('article.camera img'); const c = document.createElement('canvas');
        c.width = img.naturalWidth; c.height = img.naturalHeight; const g = c.getContext('2d'); g.drawImage(img, 0, 0);
        return Array.from(g.getImageData(140, 110, 120, 130).data); }"""
    )
    face = np.asarray(pixels, float).reshape(-1, 4)[:, :3]
    assert face.std(axis=0).max() < 3
    cameras.stop_all()
    end_live(services.store, mandate.deployment_id)  # a camera a deployment names cannot be removed
    # Removing a camera cannot be undone: the console asks first, and Cancel keeps it.
    card.locator("button.danger", has_text="Remove").click()
    dialog = page.locator("#ask-dialog")
    assert "cannot be undone" in dialog.locator(".ask-text").text_content()
    dialog.locator("button.ask-cancel").click()
    assert dialog.is_hidden() and page.locator("article.camera").count() == 1
    card.locator("button.danger", has_text="Remove").click()
    dialog.locator("button.ask-submit", has_text="Remove camera").click()
    page.wait_for_selector("#camera-list p.empty:has-text('No cameras.')")
    page.close()


def test_admin_draws_a_camera_zone_on_its_view(browser: Any, live: tuple[Api, LiveServer], tmp_path: Path) -> None:
    api, server = live
    api.user("root", "admin")
    admin = api.client()
    admin.headers["X-CSRF-Token"] = api.login(admin, "root")
    source = str(frame_folder(tmp_path / "gate", 6, 4))
    camera_id = admin.post("/api/cameras", json={"name": "gate", "source": source}).json()["id"]
    page = sign_in(browser, server, "root")
    page.click("#nav-cameras")
    card = page.locator("article.camera", has_text="gate")
    view = card.locator(".camera-view")
    view.wait_for()
    box = view.bounding_box()
    assert box is not None
    # A crossing shape first: the server refuses it and the console says why.
    for fx, fy in ((0.1, 0.1), (0.9, 0.9), (0.9, 0.1), (0.1, 0.9)):
        view.click(position={"x": box["width"] * fx, "y": box["height"] * fy})
    card.locator("button", has_text="Save zone").click()
    page.wait_for_selector("#flash:has-text('cross')")
    assert admin.get("/api/cameras").json()[0]["zone"] is None
    card.locator("button", has_text="Clear").click()
    for fx, fy in ((0.1, 0.2), (0.5, 0.2), (0.5, 0.8), (0.1, 0.8)):
        view.click(position={"x": box["width"] * fx, "y": box["height"] * fy})
    assert card.locator(".zone-overlay polygon").count() == 1
    card.locator("button", has_text="Save zone").click()
    page.wait_for_selector("#flash:has-text('Zone of gate saved')")
    (zone,) = [c["zone"] for c in admin.get("/api/cameras").json() if c["id"] == camera_id]
    assert np.allclose(zone, [[0.1, 0.2], [0.5, 0.2], [0.5, 0.8], [0.1, 0.8]], atol=0.01)
    # The keyboard way: the points typed into the field.
    field = card.locator("input.zone-points")
    field.fill("0.2,0.2; 0.8,0.2; 0.5,0.9")
    field.press("Enter")
    typed = [[0.2, 0.2], [0.8, 0.2], [0.5, 0.9]]
    assert wait_until(lambda: admin.get("/api/cameras").json()[0]["zone"] == typed)
    page.close()


def test_operator_watches_the_camera_wall_and_it_reopens_ended_streams(browser: Any, tmp_path: Path) -> None:
    for api in build_api(make_settings(tmp_path, alert_stream_max_s=2)):
        server = serve(api.app)
        try:
            services = api.app.state.ctx.services
            monitor: CameraMonitor = services.cameras
            cameras = monitor.supervisor
            with api.db.session() as session:
                folder = frame_folder(tmp_path / "hall", 6, 4)
                camera_id = register_camera(session, "hall", str(folder), loop=True).id
                session.commit()
            enrol_subject(services.store, services.enroller.engine, 1, "alice")
            mandate = live_deployment(services.store, snapshot(services.store, services.enroller.engine), [camera_id])
            cameras.start_recognition(mandate)
            api.user("ann", "operator")
            page = sign_in(browser, server, "ann")
            page.click("#nav-wall")
            tile = page.locator(f"#wall-grid figure[data-id='{camera_id}']")
            tile.wait_for()
            page.wait_for_function("() => document.querySelector('#wall-grid img')?.naturalWidth === 400")
            # The server ends each stream after api.alert_stream_max_s (2 s here): the wall opens a new one.
            page.wait_for_function("() => Number(document.querySelector('#wall-grid img').dataset.opened) >= 2")
            frames = int(tile.locator("img").get_attribute("data-frames") or 0)
            page.wait_for_function(
                "(n) => Number(document.querySelector('#wall-grid img').dataset.frames) > n", arg=frames
            )
            page.click("#nav-alerts")  # leaving the wall (on the hashchange after the click) closes its streams
            page.wait_for_function("() => document.querySelectorAll('#wall-grid img').length === 0")
            page.close()
            cameras.stop_all()
        finally:
            server.stop()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_supervisor_enrols_a_subject_by_keyboard_only(
    browser: Any, live: tuple[Api, LiveServer], tmp_path: Path, viewport: dict[str, int]
) -> None:
    api, server = live
    api.user("sue", "supervisor")
    good, blank = upload_files(tmp_path)
    page = sign_in_by_keys(browser, server.url, "sue", viewport)
    keys = page.keyboard
    tab_to(page, "#nav-watchlists")
    keys.press("Enter")
    tab_to(page, "#watchlist-form input[name=name]")
    keys.type("event-b")
    keys.press("Enter")
    page.wait_for_selector("#watchlist-detail h2:has-text('event-b')")
    tab_to(page, "#watchlist-detail input[name=external_ref]")
    keys.type("CRN-9")
    keys.press("Tab")
    keys.type("Carol Nine")
    keys.press("Tab")
    keys.type("witness")  # a closed select chooses the option its typed name starts
    keys.press("Tab")
    keys.type("witness to an assault")
    keys.press("Tab")
    keys.type("other")
    keys.press("Tab")
    keys.type("statement photo")
    tab_to(page, "#watchlist-detail input[name=review_by]")
    keys.type("06302030")  # the date field's parts, month day year, in the browser's (en-US) order
    tab_to(page, "#watchlist-detail form button[type=submit]")
    keys.press("Enter")
    page.wait_for_selector("#subject-detail h2:has-text('Carol Nine')")
    # The form that was used is gone, redrawn as the subject's page: the focus goes to its heading, not the top.
    assert page.evaluate("() => document.activeElement.matches('#subject-detail h2')")
    # The file input is reached by Tab and opens the chooser with Space.
    tab_to(page, "#subject-detail input[type=file]")
    with page.expect_file_chooser() as choosing:
        keys.press("Space")
    choosing.value.set_files([str(good), str(blank)])
    keys.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Upload"
    keys.press("Enter")
    verdicts = page.locator("#subject-detail li.verdict")
    verdicts.nth(1).wait_for()
    assert "good.png: enrolled" in str(verdicts.nth(0).text_content())
    assert "blank.png: rejected" in str(verdicts.nth(1).text_content())
    page.wait_for_function("() => document.querySelector('#subject-detail .thumbs img')?.naturalWidth > 0")
    with api.db.session() as session:
        entries = [(e.actor, e.action) for e in iter_entries(session) if e.action.startswith("subject.")]
    assert ("user:sue", "subject.create") in entries
    assert axe_violations(page) == []
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
    page.close()
