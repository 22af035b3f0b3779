"""The Live alerts queue in real Chromium, at desktop and phone size: one card per encounter with its count and
best face, true totals and "load more", filters by camera, subject, deployment, status and time, a layout that
new alerts never move under the pointer, decisions asked for with a reason and a note (mouse and keyboard only),
controls that follow the server's permissions, and no axe-core (WCAG 2.2 AA) violation."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from openlfr.audit import iter_entries
from openlfr.store.alert_models import AlertRecord
from openlfr.store.context import Store
from tests.api.conftest import PASSWORD, Api, build_api, make_settings
from tests.helpers.console import enrol_subject, store_alert
from tests.web.conftest import LiveServer, axe_violations, console_page, serve, submit_sign_in

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SIZES = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
OTHER_DEPLOYMENT = "e" * 32
SCREENSHOT_DIR_ENV = "LFR_CONSOLE_SCREENSHOT_DIR"


@dataclass
class Queue:
    api: Api
    server: LiveServer
    store: Store
    subjects: dict[str, tuple[str, str]]
    """name → (subject id, reference image id)"""
    now: float

    def alert(self, name: str, *, minutes_ago: float = 0, **kwargs: Any) -> dict[str, object]:
        subject_id, image_id = self.subjects[name]
        services = self.api.app.state.ctx.services
        return store_alert(
            self.store, subject_id, image_id, decided_at=self.now - 60 * minutes_ago, bus=services.bus, **kwargs
        )


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[Queue]:
    for api in build_api(make_settings(tmp_path, alert_stream_max_s=60)):
        services = api.app.state.ctx.services
        subjects = {
            name: enrol_subject(services.store, services.enroller.engine, seed, name)
            for seed, name in enumerate(("alice", "bob", "carol", "dave"), start=1)
        }
        for username, role in (("ann", "operator"), ("aud", "auditor"), ("root", "admin"), ("sue", "supervisor")):
            api.user(username, role)
        server = serve(api.app)
        try:
            # Alert times are relative to now: the console's time filter counts back from the browser's clock.
            yield Queue(api, server, services.store, subjects, time.time())
        finally:
            server.stop()


def seed_shift(queue: Queue) -> dict[str, object]:
    """alice: 3 alerts on cam1 a minute apart, 30 minutes ago (one encounter; the 0.9 one is the best face).
    bob: 25 alerts on cam2 ten minutes apart in another deployment (25 encounters). 26 encounters, 28 alerts,
    stored in time order as a pipeline would."""
    plan: list[tuple[float, str, dict[str, Any]]] = [
        (minutes, "alice", {"score": score}) for minutes, score in ((32, 0.6), (31, 0.9), (30, 0.7))
    ]
    plan += [(10 * i + 5, "bob", {"source": "cam2", "deployment_id": OTHER_DEPLOYMENT}) for i in range(25)]
    best: dict[str, object] = {}
    for minutes, name, kwargs in sorted(plan, key=lambda step: -step[0]):
        stored = queue.alert(name, minutes_ago=minutes, **kwargs)
        best = stored if kwargs.get("score") == 0.9 else best
    return best


def sign_in(browser: Any, queue: Queue, username: str, viewport: dict[str, int], *, init_script: str = "") -> Any:
    page = console_page(browser, queue.server.url, viewport, init_script=init_script)
    submit_sign_in(page, username)
    page.wait_for_selector("#stream-state.live", timeout=10_000)
    page.wait_for_selector("#queue-totals:has-text('Showing')")
    return page


def screenshot(page: Any, name: str, fallback: Path) -> None:
    """Into $LFR_CONSOLE_SCREENSHOT_DIR when set (docs/API.md's pictures come from here), else a temp folder."""
    shot = Path(os.environ.get(SCREENSHOT_DIR_ENV) or fallback) / name
    page.screenshot(path=str(shot))
    assert shot.read_bytes().startswith(b"\x89PNG")


def totals(page: Any) -> str:
    return str(page.text_content("#queue-totals"))


def card_of(page: Any, name: str) -> Any:
    return page.locator("#alert-list li.alert", has=page.locator("h2.name", has_text=name))


@SIZES
def test_repeats_are_one_card_with_true_totals_and_paging(
    browser: Any, queue: Queue, viewport: dict[str, int], tmp_path: Path
) -> None:
    best = seed_shift(queue)
    page = sign_in(browser, queue, "ann", viewport)
    assert totals(page) == "Showing 20 of 26 encounters (28 alerts)"
    alice = card_of(page, "Alice")
    assert alice.count() == 1 and alice.locator(".repeats").text_content() == "3 alerts"
    assert alice.locator("img.probe").get_attribute("data-alert") == best["alert_id"]
    page.wait_for_function(
        "() => [...document.querySelectorAll('#alert-list img.probe')].every(i => i.complete && i.naturalWidth > 0)"
    )
    shown = alice.locator(".time time")
    zone = page.evaluate(
        "(iso) => new Intl.DateTimeFormat(undefined, {timeZoneName: 'short'}).formatToParts(new Date(iso))"
        ".find(p => p.type === 'timeZoneName').value",
        shown.get_attribute("datetime"),
    )
    # Relative ("30 minutes ago"), with the absolute time and the browser's time zone named beside it.
    assert "ago" in shown.locator(".ago").text_content() and shown.locator(".at").text_content().endswith(zone)
    screenshot(page, f"console-queue-{'phone' if viewport == PHONE else 'desktop'}.png", tmp_path)
    assert card_of(page, "Bob").count() == 19
    page.click("#load-more")
    page.wait_for_function("() => document.querySelector('#queue-totals').textContent.startsWith('Showing 26 ')")
    assert totals(page) == "Showing 26 of 26 encounters (28 alerts)"
    assert page.locator("#load-more").is_hidden() and card_of(page, "Bob").count() == 25
    # Nothing spills sideways on a phone.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
    assert page.errors == []
    page.close()


@SIZES
def test_filters_by_camera_subject_deployment_status_and_time(
    browser: Any, queue: Queue, viewport: dict[str, int]
) -> None:
    queue.alert("carol", minutes_ago=60 * 30)  # yesterday
    seed_shift(queue)
    page = sign_in(browser, queue, "ann", viewport)
    assert totals(page) == "Showing 20 of 27 encounters (29 alerts)"
    steps = [
        ("source", "cam1", "Showing 2 of 2 encounters (4 alerts)"),
        ("subject", "Alice (alice)", "Showing 1 of 1 encounter (3 alerts)"),
        ("source", "any", "Showing 1 of 1 encounter (3 alerts)"),
        ("subject", "any", "Showing 20 of 27 encounters (29 alerts)"),
        ("deployment", OTHER_DEPLOYMENT[:8], "Showing 20 of 25 encounters (25 alerts)"),
        ("deployment", "any", "Showing 20 of 27 encounters (29 alerts)"),
        ("since", "last hour", "Showing 7 of 7 encounters (9 alerts)"),  # alice + bob at 5, 15, … 55 minutes
        ("since", "any time", "Showing 20 of 27 encounters (29 alerts)"),
        ("status", "escalated", "Showing 0 of 0 encounters (0 alerts)"),
    ]
    for name, label, expected in steps:
        page.locator(f"#queue-filters select[name={name}]").select_option(label=label)
        page.wait_for_function("(text) => document.querySelector('#queue-totals').textContent === text", arg=expected)
    assert page.locator("#alerts-empty").is_visible()
    # "any" status is the officer's choice too: it stays when another filter changes.
    for name, label, expected in (
        ("status", "any", "Showing 20 of 27 encounters (29 alerts)"),
        ("source", "cam1", "Showing 2 of 2 encounters (4 alerts)"),
    ):
        page.locator(f"#queue-filters select[name={name}]").select_option(label=label)
        page.wait_for_function("(text) => document.querySelector('#queue-totals').textContent === text", arg=expected)
    assert page.locator("#queue-filters select[name=status]").input_value() == ""
    # The statuses on offer are the server's.
    offered = page.eval_on_selector_all("#queue-filters select[name=status] option", "os => os.map(o => o.value)")
    assert offered == ["", "pending", "confirmed", "rejected", "escalated"]
    assert page.errors == []
    page.close()


@SIZES
def test_new_alerts_never_move_the_card_under_the_pointer(browser: Any, queue: Queue, viewport: dict[str, int]) -> None:
    for name, minutes in (("alice", 3), ("bob", 2), ("carol", 1)):
        queue.alert(name, minutes_ago=minutes)
    page = sign_in(browser, queue, "ann", viewport)
    target = card_of(page, "Bob")
    target.scroll_into_view_if_needed()
    target.locator(".facts").hover()
    before = target.bounding_box()
    queue.alert("dave")  # a new encounter: held behind the bar
    page.wait_for_selector("#new-bar:has-text('1 new alert')")
    queue.alert("alice")  # a repeat of an encounter on screen: its card counts it in place
    card_of(page, "Alice").locator(".repeats", has_text="2 alerts").wait_for()
    queue.alert("dave", source="cam2")
    page.wait_for_selector("#new-bar:has-text('2 new alerts')")
    assert target.bounding_box() == before
    assert card_of(page, "Dave").count() == 0
    page.click("#new-bar")
    page.wait_for_function("() => document.querySelectorAll('#alert-list li.alert').length === 5")
    assert page.locator("#new-bar").is_hidden()
    assert totals(page) == "Showing 5 of 5 encounters (6 alerts)"
    # With the pointer and focus away from the queue, a new encounter is shown at once, on top.
    page.mouse.move(1, 1)
    page.evaluate("() => document.activeElement.blur()")
    queue.alert("carol", source="cam3")
    page.wait_for_function("() => document.querySelectorAll('#alert-list li.alert').length === 6")
    first = page.locator("#alert-list li.alert").first
    assert "new" in (first.get_attribute("class") or "") and first.locator(".camera").text_content() == "cam3"
    assert page.errors == []
    page.close()


COUNT_SOUNDS = """
window.sounds = 0;
const make = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () { window.sounds += 1; return make.call(this); };
"""
"""counts the tones the page plays (each beep is made of oscillators): what the officer would hear"""

SHOWN = "(name) => [...document.querySelectorAll('#alert-list h2.name')].some((h) => h.textContent === name)"


def test_sound_and_visual_notifications_are_settings_kept_in_the_browser(browser: Any, queue: Queue) -> None:
    page = sign_in(browser, queue, "ann", DESKTOP, init_script=COUNT_SOUNDS)
    settings = page.locator("#notify-settings")
    assert settings.get_by_label("Sound").is_checked() and settings.get_by_label("Visual").is_checked()
    queue.alert("alice")
    page.wait_for_function(SHOWN, arg="Alice")
    assert page.evaluate("window.sounds") > 0
    assert page.title().startswith("(!)") and "alerting" in (page.get_attribute("#top", "class") or "")
    heard = page.evaluate("window.sounds")
    page.get_by_role("button", name="Play the alert sound").click()  # to check the volume before a shift
    assert page.evaluate("window.sounds") > heard

    settings.get_by_label("Sound").uncheck()
    settings.get_by_label("Visual").uncheck()
    page.reload()  # the choice is this browser's, kept across reloads and sign-ins
    page.wait_for_selector("#stream-state.live")
    page.click("#view-alerts h1")  # a first gesture: the browser lets the page play sound from now on
    page.evaluate("() => { window.sounds = 0; document.title = 'OpenLFR console'; }")
    assert not settings.get_by_label("Sound").is_checked() and not settings.get_by_label("Visual").is_checked()
    queue.alert("bob", source="cam2")
    page.wait_for_function(SHOWN, arg="Bob")
    assert page.evaluate("window.sounds") == 0
    assert page.title() == "OpenLFR console" and "alerting" not in (page.get_attribute("#top", "class") or "")
    assert axe_violations(page) == []
    assert page.errors == []
    page.close()


@SIZES
def test_decisions_are_asked_for_with_reason_and_note(
    browser: Any, queue: Queue, viewport: dict[str, int], tmp_path: Path
) -> None:
    for minutes, score in ((3, 0.6), (2, 0.9), (1, 0.7)):
        queue.alert("alice", minutes_ago=minutes, score=score)
    queue.alert("bob", minutes_ago=1)
    page = sign_in(browser, queue, "ann", viewport)
    alice, dialog = card_of(page, "Alice"), page.locator("#ask-dialog")
    # Reject asks for the reason (the server's codes, none chosen for the officer) and a note; cancelling does nothing.
    alice.locator("button.reject").click()
    assert dialog.is_visible() and "all 3 open alerts" in dialog.locator(".ask-text").text_content()
    reasons = dialog.locator("input[name=reason]")
    assert [reasons.nth(i).get_attribute("value") for i in range(reasons.count())] == [
        "different_person", "poor_image", "not_on_scene", "duplicate_alert", "other"
    ]  # fmt: skip
    assert not any(reasons.nth(i).is_checked() for i in range(reasons.count()))
    if viewport == DESKTOP:
        screenshot(page, "console-reject.png", tmp_path)
    dialog.locator("button.ask-cancel").click()
    assert dialog.is_hidden() and alice.locator(".status").text_content() == "pending"
    # Confirm: asked, with a note; every open alert of the encounter is confirmed.
    alice.locator("button.confirm").click()
    assert "cannot be undone: only corrected later with a reason" in dialog.locator(".ask-text").text_content()
    dialog.locator("textarea[name=note]").fill("same jacket as the warrant photo")
    dialog.locator("button.ask-submit").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#alert-list li.alert')].some(c => "
        "c.querySelector('h2').textContent === 'Alice' && c.querySelector('.status').textContent === 'confirmed')"
    )
    # One engagement, one outcome: recorded on the best alert only; the choices are the server's.
    outcomes = alice.locator("select.outcome-choice option")
    assert [outcomes.nth(i).get_attribute("value") for i in range(outcomes.count())] == [
        "spoken_to", "arrested", "no_action", "not_the_person", "not_located", "not_engaged"
    ]  # fmt: skip
    alice.locator("select.outcome-choice").select_option("spoken_to")
    alice.locator("button.record-outcome").click()
    alice.locator(".outcome", has_text="spoken to").wait_for()
    # Spoken to, it was someone else: changing the outcome is an amendment, asked for with its reason.
    alice.locator("select.outcome-choice").select_option("not_the_person")
    alice.locator("button.record-outcome").click()
    assert dialog.is_visible() and "stays in the alert's history" in dialog.locator(".ask-text").text_content()
    dialog.locator("button.ask-submit").click()
    assert dialog.is_visible()  # the reason is required: the browser keeps the dialog open
    dialog.locator("textarea[name=note]").fill("date of birth did not match")
    dialog.locator("button.ask-submit").click()
    alice.locator(".outcome", has_text="not the person").wait_for()
    with queue.api.db.session() as session:
        rows = session.query(AlertRecord).order_by(AlertRecord.seq).all()
        notes = [e.details.get("note") for e in iter_entries(session) if e.action == "alert.adjudicate"]
        amended = [e.details for e in iter_entries(session) if e.action == "alert.outcome"][-1]
    assert [(r.status, r.outcome) for r in rows] == [
        ("confirmed", None), ("confirmed", "not_the_person"), ("confirmed", None), ("pending", None)
    ]  # fmt: skip
    assert notes == ["same jacket as the warrant photo"] * 3
    assert (amended["previous"], amended["amendment_reason"]) == ("spoken_to", "date of birth did not match")
    assert page.errors == []
    page.close()


def test_keyboard_only_decision_with_the_shortcut_sheet(browser: Any, queue: Queue) -> None:
    queue.alert("alice", minutes_ago=2)
    queue.alert("bob", minutes_ago=1)
    page = sign_in(browser, queue, "ann", DESKTOP)
    keys = page.keyboard
    keys.press("?")
    sheet = page.locator("#keys-dialog")
    assert sheet.is_visible() and "reject the card in focus" in sheet.text_content()
    keys.press("Escape")
    assert sheet.is_hidden()
    keys.press("j")  # first card (bob, newest)
    keys.press("j")  # second card: alice
    focused = page.evaluate("() => document.activeElement.querySelector('h2').textContent")
    assert focused == "Alice"
    keys.press("r")
    dialog = page.locator("#ask-dialog")
    assert dialog.is_visible()
    keys.press("ArrowDown")  # the radio group starts on the first reason; arrow keys choose
    keys.press("Tab")
    keys.type("hood hides the face")
    keys.press("Tab")
    keys.press("Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#alert-list li.alert')].some(c => "
        "c.querySelector('h2').textContent === 'Alice' && c.querySelector('.status').textContent === 'rejected')"
    )
    assert "poor image" in card_of(page, "Alice").locator(".decided").text_content()
    # Focus is back on the card: the next one is a key away.
    keys.press("k")
    keys.press("e")
    page.wait_for_selector("#ask-dialog[open]")
    keys.press("Control+Enter")
    page.wait_for_function("() => document.querySelector('#alert-list li.alert .status').textContent === 'escalated'")
    with queue.api.db.session() as session:
        rows = {r.source + ":" + str(r.status) + ":" + str(r.reject_reason) for r in session.query(AlertRecord)}
        notes = [e.details.get("note") for e in iter_entries(session) if e.action == "alert.adjudicate"]
    assert rows == {"cam1:rejected:poor_image", "cam1:escalated:None"}
    assert notes == ["hood hides the face", None]
    assert page.errors == []
    page.close()


@pytest.mark.parametrize("username", ["aud", "root"])
def test_controls_follow_the_permissions_the_server_sends(browser: Any, queue: Queue, username: str) -> None:
    queue.alert("alice")
    page = sign_in(browser, queue, username, DESKTOP)
    session = page.evaluate("() => fetch('/api/auth/session').then(r => r.json())")
    assert "alerts:adjudicate" not in session["permissions"]
    card = card_of(page, "Alice")
    assert card.locator(".decide").is_hidden() and card.locator(".engage").is_hidden()
    page.keyboard.press("j")
    page.keyboard.press("c")
    assert page.locator("#ask-dialog").is_hidden()
    page.click("#nav-cameras")
    page.wait_for_selector("#view-cameras:not([hidden])")
    assert page.locator("#camera-form").is_visible() == ("cameras:manage" in session["permissions"])
    page.close()


@SIZES
def test_a_supervisor_places_a_legal_hold_from_the_card(
    browser: Any, queue: Queue, viewport: dict[str, int], tmp_path: Path
) -> None:
    stored = queue.alert("alice")
    alert_id = str(stored["alert_id"])
    # Operators and auditors are not sent retention:manage: no hold control on their cards.
    for username in ("ann", "aud"):
        page = sign_in(browser, queue, username, viewport)
        assert card_of(page, "Alice").locator("button.hold").count() == 1
        assert card_of(page, "Alice").locator("button.hold").is_hidden()
        page.close()
    page = sign_in(browser, queue, "sue", viewport)
    card = card_of(page, "Alice")
    assert card.locator(".hold-state").is_hidden()
    hold = card.get_by_role("button", name="Place legal hold…")
    hold.click()
    dialog = page.locator("#ask-dialog")
    assert "Place a legal hold" in (dialog.locator("h2").text_content() or "")
    assert "31 days" in (dialog.locator(".ask-text").text_content() or "")
    assert axe_violations(page) == [], "hold dialog"
    # The reason is required: an empty one is not sent; cancelling holds nothing.
    dialog.locator("button.ask-submit").click()
    assert dialog.is_visible()
    dialog.locator("button.ask-cancel").click()
    hold.click()
    dialog.locator("textarea[name=note]").fill("Operation Lark, case 42/2026")
    dialog.locator("button.ask-submit").click()
    held = card.locator(".hold-state")
    held.wait_for()
    assert "On legal hold" in (held.text_content() or "") and "sue" in (held.text_content() or "")
    assert hold.is_hidden()
    with queue.api.db.session() as session:
        record = session.get(AlertRecord, alert_id)
        assert record is not None and record.hold and record.hold_by == "sue"
        assert record.hold_reason == "Operation Lark, case 42/2026"
        entries = [e for e in iter_entries(session) if e.action == "alert.hold"]
    # Audited once, by the domain function, in the name of the signed-in supervisor.
    assert [(e.actor, e.target_id, e.details["reason"]) for e in entries] == [
        ("user:sue", alert_id, "Operation Lark, case 42/2026")
    ]
    assert axe_violations(page) == [], "held card"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
    screenshot(page, f"console-hold-{'phone' if viewport == PHONE else 'desktop'}.png", tmp_path)
    # Still marked after a reload (the server's hold, not the page's memory); no second hold offered.
    page.reload()
    page.wait_for_selector("#queue-totals:has-text('Showing')")
    assert "On legal hold" in (card_of(page, "Alice").locator(".hold-state").text_content() or "")
    assert card_of(page, "Alice").locator("button.hold").is_hidden()
    assert page.errors == []
    page.close()


@SIZES
def test_pages_have_no_axe_violations(browser: Any, queue: Queue, viewport: dict[str, int]) -> None:
    for minutes in (3, 2):
        queue.alert("alice", minutes_ago=minutes)
    queue.alert("bob", minutes_ago=1)
    page = browser.new_page(viewport=viewport)
    page.goto(f"{queue.server.url}/console/")
    page.wait_for_selector("#view-login:not([hidden])")
    assert axe_violations(page) == [], "login"
    page.fill("#login-username", "sue")
    page.fill("#login-password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("#queue-totals:has-text('Showing 2 of 2')")
    page.wait_for_function("() => [...document.querySelectorAll('img.probe')].every(i => i.naturalWidth > 0)")
    assert axe_violations(page) == [], "alerts"
    card_of(page, "Alice").locator("button.reject").click()
    assert axe_violations(page) == [], "reject dialog"
    page.keyboard.press("Escape")
    page.keyboard.press("?")
    assert axe_violations(page) == [], "shortcut sheet"
    page.keyboard.press("Escape")
    card_of(page, "Alice").locator("button.confirm").click()
    page.locator("#ask-dialog button.ask-submit").click()
    card_of(page, "Alice").locator(".engage").wait_for()
    assert axe_violations(page) == [], "confirmed card"
    for name in ("watchlists", "cameras"):
        page.click(f"#nav-{name}")
        page.wait_for_selector(f"#view-{name}:not([hidden])")
        page.wait_for_load_state("networkidle")
        assert axe_violations(page) == [], name
    page.close()
