"""Each role of the demo (``lfr demo --serve``: admin, supervisor, operator, auditor), signed in at desktop and
phone size in real Chromium: the menu shows exactly that role's sections, every section opens, and the role's
main page does what the role is there for. Then the console as docs/API.md shows it: the screenshots of its
main pages (camera wall with a live deployment, deployments, audit, the officer's phone view) are taken here,
into $LFR_CONSOLE_SCREENSHOT_DIR when it is set."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from openlfr.commands.demo_serve import ADMIN, AUDITOR, OPERATOR, SUPERVISOR
from openlfr.service.monitor import CameraMonitor
from openlfr.sources.mandate import RecognitionMandate
from openlfr.store.alert_models import AlertRecord
from openlfr.watchlists.types import Category, ImageSource
from tests.api.conftest import PASSWORD, Api, build_api, make_settings
from tests.helpers.cameras import register_camera
from tests.helpers.console import enrol_subject, frame_folder, live_deployment, snapshot, store_alert
from tests.helpers.waiting import wait_until
from tests.web.conftest import LiveServer, axe_violations, console_page, serve, submit_sign_in
from tests.web.test_alert_queue import screenshot
from tests.web.test_governance_pages import DESKTOP, PHONE, SIZES

pytestmark = pytest.mark.browser


ACCOUNTS = ((ADMIN, "admin"), (SUPERVISOR, "supervisor"), (OPERATOR, "operator"), (AUDITOR, "auditor"))


@dataclass
class Demo:
    api: Api
    server: LiveServer
    camera_id: str
    mandate: RecognitionMandate
    """the live deployment's, for starting its recognition"""


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """The demo's four accounts, a camera with a live deployment (recognition not running) and one open alert."""
    for api in build_api(make_settings(tmp_path, alert_stream_max_s=30)):
        for username, role in (
            (ADMIN, "admin"),
            (SUPERVISOR, "supervisor"),
            (OPERATOR, "operator"),
            (AUDITOR, "auditor"),
        ):
            api.user(username, role)
        services = api.app.state.ctx.services
        with api.db.session() as session:
            camera_id = register_camera(session, "hall", str(frame_folder(tmp_path / "hall", 1, 4)), loop=True).id
            session.commit()
        subject = enrol_subject(services.store, services.enroller.engine, 1, "alice")
        mandate = live_deployment(services.store, snapshot(services.store, services.enroller.engine), [camera_id])
        store_alert(
            services.store, *subject, source="hall", decided_at=time.time() - 60, deployment_id=mandate.deployment_id
        )
        server = serve(api.app)
        try:
            yield Demo(api, server, camera_id, mandate)
        finally:
            server.stop()


def sign_in(browser: Any, demo: Demo, username: str, viewport: dict[str, int]) -> Any:
    page = console_page(browser, demo.server.url, viewport)
    submit_sign_in(page, username)
    page.wait_for_selector("#view-alerts:not([hidden]) #alert-list li.alert")
    return page


def show(page: Any, name: str) -> None:
    page.click(f"#nav-{name}")
    page.wait_for_selector(f"#view-{name}:not([hidden]) h1")
    if name != "wall":  # the wall's video streams never leave the network idle
        page.wait_for_load_state("networkidle")


def operator_page(page: Any) -> None:
    """The operator plans and runs deployments: the live one offers its end, not its authorisation."""
    offered = page.eval_on_selector_all("#queue-filters select[name=deployment] option", "os => os.map(o => o.text)")
    assert offered == ["any", "test deployment"]  # the queue's filter names deployments, not their ids
    show(page, "deployments")
    page.click("#view-deployments button.link:text-is('test deployment')")
    page.wait_for_selector("#step-end")
    assert page.locator("#authorise-form").count() == 0
    cameras = page.locator("#deployment-detail dt:text-is('Cameras') + dd").text_content()
    assert cameras == "hall"  # by name, not by id


def supervisor_page(page: Any) -> None:
    """The supervisor keeps the watchlists (the codes offered are the server's), answers for the officers'
    training and holds alerts."""
    show(page, "watchlists")
    page.click("#watchlist-list button")
    form = page.locator("form:has(h2:has-text('Add a subject'))")
    form.wait_for()
    offered = form.locator("select[name=category] option").evaluate_all("os => os.map(o => o.value)")
    assert offered == [c.value for c in Category]
    offered = form.locator("select[name=image_source] option").evaluate_all("os => os.map(o => o.value)")
    assert offered == [s.value for s in ImageSource]
    show(page, "users")
    page.wait_for_selector(f"#training article[data-user='{OPERATOR}'] form")
    show(page, "holds")
    page.wait_for_selector("#hold-form")


def auditor_page(page: Any) -> None:
    """The auditor checks the officers' training (without managing accounts) and verifies the audit chain."""
    assert page.text_content("#nav-users") == "Training records"
    show(page, "users")
    page.wait_for_selector(f"#training article[data-user='{OPERATOR}'] tbody tr")
    assert page.locator("#user-form, #training form").count() == 0
    show(page, "audit")
    page.click("#audit-verify")
    page.wait_for_selector("#audit-result.ok")


def admin_page(page: Any) -> None:
    """The admin runs the system: cameras and accounts (of its own side only)."""
    show(page, "cameras")
    page.wait_for_selector("#camera-form:not([hidden])")
    show(page, "users")
    roles = page.eval_on_selector_all("#user-form select[name=role] option", "os => os.map(o => o.value)")
    assert roles == ["admin", "auditor"]


OPERATIONS = ["alerts", "watchlists", "reviews", "cameras", "wall", "deployments"]
OVERSIGHT = ["alerts", "watchlists", "reviews", "cameras", "deployments", "audit"]
ROLES: dict[str, tuple[list[str], bool, Callable[[Any], None]]] = {
    OPERATOR: (OPERATIONS, True, operator_page),
    SUPERVISOR: ([*OPERATIONS, "holds", "audit", "users", "tokens"], True, supervisor_page),
    AUDITOR: ([*OVERSIGHT, "users"], False, auditor_page),
    ADMIN: ([*OVERSIGHT, "users", "tokens"], False, admin_page),
}


@SIZES
@pytest.mark.parametrize("username", list(ROLES))
def test_each_role_sees_its_sections_and_its_main_page_works(
    browser: Any, demo: Demo, username: str, viewport: dict[str, int]
) -> None:
    sections, adjudicates, main_page = ROLES[username]
    page = sign_in(browser, demo, username, viewport)
    shown = page.eval_on_selector_all(".top nav a", "links => links.filter(a => !a.hidden).map(a => a.id.slice(4))")
    assert shown == sections
    # The alert is there for every role; deciding it is offered to the officers only.
    card = page.locator("#alert-list li.alert").first
    assert card.locator("h2.name").text_content() == "Alice"
    assert card.locator("button.confirm").is_visible() is adjudicates
    for name in sections:
        show(page, name)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"], name
    main_page(page)
    assert axe_violations(page) == []
    assert page.errors == []
    page.close()


def alerts_of(demo: Demo) -> int:
    with demo.api.db.session() as session:
        query = select(func.count()).select_from(AlertRecord)
        return int(session.scalar(query.where(AlertRecord.deployment_id == demo.mandate.deployment_id)) or 0)


def test_the_console_as_the_docs_show_it(browser: Any, demo: Demo, tmp_path: Path) -> None:
    """A live deployment's camera on the wall (the alerted match boxed, every other face blanked), the
    deployments and audit pages, and an officer's phone view of the alert; each saved as a screenshot."""
    monitor: CameraMonitor = demo.api.app.state.ctx.services.cameras
    ann = sign_in(browser, demo, OPERATOR, DESKTOP)
    stored = alerts_of(demo)  # the fixture's own alert is of this deployment too
    monitor.supervisor.start_recognition(demo.mandate)
    try:
        # The frames show alice, who is on the watchlist: the pipeline raises an alert and the wall boxes her.
        assert wait_until(lambda: alerts_of(demo) > stored, 30)
        show(ann, "wall")
        ann.wait_for_function("() => Number(document.querySelector('#wall-grid img')?.dataset.frames) >= 3")
        screenshot(ann, "console-wall.png", tmp_path)
    finally:
        monitor.supervisor.stop_all()
    show(ann, "deployments")
    ann.click("#view-deployments button.link:text-is('test deployment')")
    ann.wait_for_selector("#step-end")
    screenshot(ann, "console-deployments.png", tmp_path)
    ann.close()
    aud = sign_in(browser, demo, AUDITOR, DESKTOP)
    show(aud, "audit")
    aud.click("#audit-verify")
    aud.wait_for_selector("#audit-result.ok")
    screenshot(aud, "console-audit.png", tmp_path)
    aud.close()
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    officer = context.new_page()
    officer.goto(f"{demo.server.url}/console/officer.html")
    officer.fill("#officer-username", OPERATOR)
    officer.fill("#officer-password", PASSWORD)
    officer.keyboard.press("Enter")
    officer.wait_for_selector("#link-state:has-text('Live')")
    officer.wait_for_function(
        "() => [...document.querySelectorAll('#officer-list li img')].some(i => i.naturalWidth > 0)"
    )
    screenshot(officer, "console-officer-phone.png", tmp_path)
    context.close()
