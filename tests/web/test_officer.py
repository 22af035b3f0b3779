"""The officer on the street, in real Chromium at phone size (390×844): both images, the subject's details, the
decision and outcome controls; after a dropped connection the page reconnects and shows the alerts raised
meanwhile; every open alert is reached by paging, with the true count; installable (the app's own manifest and
service worker, nothing from another site); axe-core clean."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openlfr.alerts.review import adjudicate
from openlfr.alerts.vocabulary import Decision
from openlfr.store.alert_models import AlertRecord
from openlfr.utc import utcnow
from tests.api.conftest import PASSWORD, Api, build_api, make_settings
from tests.helpers.accounts import person
from tests.helpers.console import enrol_subject, store_alert
from tests.web.conftest import LiveServer, axe_violations, serve
from tests.web.test_governance_pages import tab_to

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def street(tmp_path: Path) -> Iterator[tuple[Api, LiveServer]]:
    # A short stream limit: the server ends each stream every 2 s, as a dropped connection would.
    for api in build_api(make_settings(tmp_path, alert_stream_max_s=2)):
        api.user("olly", "operator")
        server = serve(api.app)
        try:
            yield api, server
        finally:
            server.stop()


def raise_alert(api: Api, subject: tuple[str, str], seconds_ago: float = 0) -> str:
    services = api.app.state.ctx.services
    stored = store_alert(services.store, subject[0], subject[1], bus=services.bus, decided_at=time.time() - seconds_ago)
    return str(stored["alert_id"])


def cards(page: Any) -> list[str]:
    return list(page.eval_on_selector_all("#officer-list li", "items => items.map(i => i.dataset.id)"))


def test_officer_checks_alerts_on_a_phone_and_catches_up_after_a_dropped_connection(
    browser: Any, street: tuple[Api, LiveServer]
) -> None:
    api, server = street
    services = api.app.state.ctx.services
    alice = enrol_subject(services.store, services.enroller.engine, 1, "alice")
    first = raise_alert(api, alice, seconds_ago=90)
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{server.url}/console/officer.html")
    page.fill("#officer-username", "olly")
    page.fill("#officer-password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("#link-state:has-text('Live')")
    assert cards(page) == [first]  # the open alert raised before the officer signed in

    # Both images, loaded, side by side; who the subject is and why they are sought.
    card = page.locator(f"#officer-list li[data-id='{first}']")
    page.wait_for_function(
        "(id) => [...document.querySelectorAll(`li[data-id='${id}'] img`)].every(i => i.naturalWidth > 0)", arg=first
    )
    camera, watchlist = (card.locator("img").nth(i).bounding_box() for i in (0, 1))
    assert camera is not None and watchlist is not None
    assert camera["y"] == watchlist["y"] and camera["x"] + camera["width"] <= watchlist["x"]
    assert watchlist["x"] + watchlist["width"] <= PHONE["width"]
    text = card.text_content() or ""
    assert "Alice" in text and "wanted by courts" in text and "warrant 123" in text
    assert axe_violations(page) == []

    # A new alert arrives live.
    second = raise_alert(api, alice)
    page.wait_for_function("(id) => document.querySelector(`#officer-list li[data-id='${id}']`)", arg=second)

    # The connection drops (every stream request fails) while two alerts are raised...
    page.route("**/api/alerts/stream*", lambda route: route.abort())
    page.wait_for_selector("#link-state:has-text('Reconnecting')")
    missed = [raise_alert(api, alice), raise_alert(api, alice)]
    assert set(cards(page)) == {first, second}
    # ...and comes back: the page catches up with both, once each, newest first.
    page.unroute("**/api/alerts/stream*")
    page.wait_for_selector("#link-state:has-text('Live')")
    page.wait_for_function("() => document.querySelectorAll('#officer-list li').length === 4")
    assert cards(page) == [missed[1], missed[0], second, first]

    # The decision, confirmed in a dialog (it cannot be undone), then the outcome of the engagement.
    newest = page.locator(f"#officer-list li[data-id='{missed[1]}']")
    newest.get_by_role("button", name="confirm the alert on Alice").click()
    dialog = page.locator("#ask-dialog")
    assert "cannot be undone" in (dialog.locator(".ask-text").text_content() or "")
    assert axe_violations(page) == []
    dialog.locator("textarea[name=note]").fill("checked face to face")
    dialog.locator("button.ask-submit").click()
    newest.get_by_role("button", name="Outcome: spoken to").click()
    page.wait_for_function(
        "(id) => document.querySelector(`li[data-id='${id}']`).textContent.includes('Outcome')", arg=missed[1]
    )
    with services.store.db.session() as session:
        decided = session.get(AlertRecord, missed[1])
        assert decided is not None
        assert (decided.status, decided.outcome, decided.adjudicated_by) == ("confirmed", "spoken_to", "olly")
    # Reject asks why.
    page.locator(f"#officer-list li[data-id='{missed[0]}']").get_by_role(
        "button", name="reject the alert on Alice"
    ).click()
    dialog.locator("input[name=reason][value=different_person]").check()
    dialog.locator("button.ask-submit").click()
    page.wait_for_function(
        "(id) => document.querySelector(`li[data-id='${id}']`).classList.contains('status-rejected')", arg=missed[0]
    )
    assert axe_violations(page) == []

    # Installable: the app's manifest and service worker; nothing was fetched from another site.
    served = page.request.get(f"{server.url}/console/manifest.webmanifest")
    assert served.headers["content-type"] == "application/manifest+json"
    manifest = served.json()
    assert manifest["start_url"] == "/console/officer.html" and manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    scope = page.evaluate("async () => (await navigator.serviceWorker.ready).scope")
    assert scope == f"{server.url}/console/"
    assert requested and all(url.startswith(server.url) for url in requested), requested
    context.close()


def decide(api: Api, alert_id: str, decision: Decision, officer: str = "sue") -> None:
    """Another officer's decision, through the review domain (as the console or the command line would)."""
    with api.app.state.ctx.services.store.db.session() as session:
        by = person(session, officer, "supervisor")
        record = session.get(AlertRecord, alert_id)
        assert record is not None
        adjudicate(session, alert_id, decision=decision, version=record.version, by=by, now=utcnow())
        session.commit()


def count_text(page: Any) -> str:
    return str(page.text_content("#officer-count") or "")


def test_officer_pages_through_every_open_alert_and_keeps_catching_up(
    browser: Any, street: tuple[Api, LiveServer]
) -> None:
    api, server = street
    services = api.app.state.ctx.services
    alice = enrol_subject(services.store, services.enroller.engine, 1, "alice")
    # 60 alerts, oldest first: two escalated (open: a supervisor decides them), one already confirmed (not open).
    raised = [raise_alert(api, alice, seconds_ago=600 - i) for i in range(60)]
    decide(api, raised[2], Decision.ESCALATE)
    decide(api, raised[58], Decision.ESCALATE)
    decide(api, raised[20], Decision.CONFIRM)
    open_alerts = [a for a in reversed(raised) if a != raised[20]]  # newest first: 59
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{server.url}/console/officer.html")
    page.fill("#officer-username", "olly")
    page.fill("#officer-password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("#link-state:has-text('Live')")

    # The newest page, escalated and pending together in order, and the true number of open alerts.
    assert cards(page) == open_alerts[:50]
    page.wait_for_function("() => document.querySelector('#officer-count').textContent.includes('of 59')")
    assert count_text(page) == "Showing 50 of 59 open alerts"
    more = page.locator("#officer-more")
    assert more.is_visible() and more.text_content() == "Load 50 more"

    # Before the officer pages on, a colleague decides an alert of the next page and a new alert arrives.
    decide(api, open_alerts[52], Decision.CONFIRM)
    new = raise_alert(api, alice)
    page.wait_for_function("(id) => document.querySelector(`#officer-list li[data-id='${id}']`)", arg=new)
    page.wait_for_function(
        "() => document.querySelector('#officer-count').textContent === 'Showing 51 of 59 open alerts'"
    )

    # The connection drops while two more are raised; on its return both are caught up, once each, on top.
    page.route("**/api/alerts/stream*", lambda route: route.abort())
    page.wait_for_selector("#link-state:has-text('Reconnecting')")
    missed = [raise_alert(api, alice), raise_alert(api, alice)]
    page.unroute("**/api/alerts/stream*")
    page.wait_for_selector("#link-state:has-text('Live')")
    page.wait_for_function("() => document.querySelectorAll('#officer-list li').length === 53")
    page.wait_for_function(
        "() => document.querySelector('#officer-count').textContent === 'Showing 53 of 61 open alerts'"
    )

    # Load more (by key, not offset): the rest, in order, the colleague's decided alert not among them, nothing
    # twice or skipped; then the button goes and the count is the whole.
    more.scroll_into_view_if_needed()
    assert axe_violations(page) == []
    more.click()
    page.wait_for_function("() => document.querySelector('#officer-more').hidden")
    rest = [a for a in open_alerts[50:] if a != open_alerts[52]]
    assert cards(page) == [missed[1], missed[0], new, *open_alerts[:50], *rest]
    assert count_text(page) == "61 open alerts"

    # Deciding one here leaves its card (with the outcome controls) and the open count follows.
    oldest = page.locator(f"#officer-list li[data-id='{rest[-1]}']")
    oldest.get_by_role("button", name="confirm the alert on Alice").click()
    page.locator("#ask-dialog button.ask-submit").click()
    page.wait_for_function("() => document.querySelector('#officer-count').textContent === '60 open alerts'")
    assert "status-confirmed" in (oldest.get_attribute("class") or "")
    assert axe_violations(page) == []
    context.close()


def focus_in_card(page: Any, alert_id: str) -> bool:
    return bool(
        page.evaluate("(id) => !!document.activeElement?.closest(`#officer-list li[data-id='${id}']`)", alert_id)
    )


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 900}], ids=["phone", "desktop"])
def test_officer_decides_and_records_the_outcome_by_keyboard_only(
    browser: Any, street: tuple[Api, LiveServer], viewport: dict[str, int]
) -> None:
    api, server = street
    services = api.app.state.ctx.services
    alice = enrol_subject(services.store, services.enroller.engine, 1, "alice")
    older, newer = raise_alert(api, alice, seconds_ago=60), raise_alert(api, alice, seconds_ago=30)
    page = browser.new_page(viewport=viewport)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    keys = page.keyboard
    page.goto(f"{server.url}/console/officer.html")
    tab_to(page, "#officer-username")
    keys.type("olly")
    keys.press("Tab")
    keys.type(PASSWORD)
    keys.press("Enter")
    page.wait_for_selector("#link-state:has-text('Live')")
    page.wait_for_function("() => document.querySelectorAll('#officer-list li').length === 2")
    # Confirm the newest by keys: the dialog asks for a note, Ctrl+Enter confirms.
    tab_to(page, f"#officer-list li[data-id='{newer}'] button[aria-label^='confirm' i]")
    keys.press("Enter")
    page.wait_for_selector("#ask-dialog[open]")
    keys.type("checked face to face")
    keys.press("Control+Enter")
    page.wait_for_selector(f"#officer-list li[data-id='{newer}'] button[aria-label='Outcome: spoken to' i]")
    # The card was drawn anew with the outcome buttons: the focus stays in it, not lost to the page's top, and shows.
    assert focus_in_card(page, newer)
    assert page.evaluate("() => document.activeElement.matches(':focus-visible')")
    tab_to(page, f"#officer-list li[data-id='{newer}'] button[aria-label='Outcome: spoken to' i]")
    keys.press("Enter")
    page.wait_for_function(
        "(id) => document.querySelector(`li[data-id='${id}']`).textContent.includes('Outcome')", arg=newer
    )
    assert focus_in_card(page, newer)
    # Reject the other: the first reason has the focus, Space chooses it, Ctrl+Enter sends.
    tab_to(page, f"#officer-list li[data-id='{older}'] button[aria-label^='reject' i]")
    keys.press("Enter")
    page.wait_for_selector("#ask-dialog[open]")
    assert page.evaluate("() => document.activeElement.matches('#ask-dialog input[name=reason]')")
    keys.press("Space")
    keys.press("Control+Enter")
    page.wait_for_function(
        "(id) => document.querySelector(`li[data-id='${id}']`).classList.contains('status-rejected')", arg=older
    )
    assert focus_in_card(page, older)
    assert axe_violations(page) == []
    with services.store.db.session() as session:
        confirmed, rejected = session.get(AlertRecord, newer), session.get(AlertRecord, older)
        assert confirmed is not None and rejected is not None
        assert (confirmed.status, confirmed.outcome, confirmed.adjudicated_by) == ("confirmed", "spoken_to", "olly")
        assert (rejected.status, rejected.adjudicated_by) == ("rejected", "olly")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
    assert errors == []
    page.close()
