"""The governance pages in real Chromium: users and roles, API tokens, deployments from plan to authorisation
(with the watchlist composition) to live, end and sign-off with their reports, retention holds and the audit log
with its verification. Each role's main flow at desktop and phone size, keyboard-only use, navigation and
controls that follow what the server sends, and no axe-core (WCAG 2.2 AA) violation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from openlfr.audit import iter_entries
from openlfr.config.governance import GovernanceConfig
from openlfr.store.governance_models import Deployment
from tests.api.conftest import PASSWORD, Api, build_api, make_settings
from tests.deployments.helpers import make_snapshot
from tests.helpers.console import enrol_subject, store_alert
from tests.reports.notice_helpers import NOTICE
from tests.web.conftest import LiveServer, axe_violations, console_page, serve, submit_sign_in
from tests.web.test_alert_queue import screenshot

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SIZES = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
ACCOUNTS = (("ann", "operator"), ("sue", "supervisor"), ("insp", "supervisor"), ("aud", "auditor"), ("root", "admin"))


@dataclass
class Console:
    api: Api
    server: LiveServer


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    # Who the public contacts is configured, as a force must before it may print signs and leaflets.
    settings = make_settings(tmp_path).model_copy(update={"governance": GovernanceConfig(notice=NOTICE)})
    for api in build_api(settings):
        with api.db.session() as session:
            make_snapshot(session)  # three subjects on a watchlist, and camera cam-1 registered
            session.commit()
        for username, role in ACCOUNTS:
            api.user(username, role)
        server = serve(api.app)
        try:
            yield Console(api, server)
        finally:
            server.stop()


def sign_in(browser: Any, console: Console, username: str, viewport: dict[str, int] = DESKTOP) -> Any:
    page = console_page(browser, console.server.url, viewport)
    submit_sign_in(page, username)
    page.wait_for_selector("#top:not([hidden])")
    return page


def open_page(page: Any, name: str) -> None:
    page.click(f"#nav-{name}")
    page.wait_for_selector(f"#view-{name}:not([hidden]) h1")
    page.wait_for_load_state("networkidle")


def nav_shown(page: Any) -> list[str]:
    return list(
        page.eval_on_selector_all(".top nav a", "links => links.filter(a => !a.hidden).map(a => a.id.slice(4))")
    )


@pytest.mark.parametrize(
    ("username", "pages"),
    [
        ("ann", ["alerts", "watchlists", "reviews", "cameras", "wall", "deployments"]),
        (
            "sue",
            ["alerts", "watchlists", "reviews", "cameras", "wall", "deployments", "holds", "audit", "users", "tokens"],
        ),
        ("aud", ["alerts", "watchlists", "reviews", "cameras", "deployments", "audit", "users"]),
        ("root", ["alerts", "watchlists", "reviews", "cameras", "deployments", "audit", "users", "tokens"]),
    ],
)
def test_navigation_follows_the_permissions_the_server_sends(
    browser: Any, console: Console, username: str, pages: list[str]
) -> None:
    page = sign_in(browser, console, username)
    assert nav_shown(page) == pages
    # A page the role may not see is not reached by its address either: the console shows the first allowed.
    for hidden in {"holds", "audit", "users", "tokens"} - set(pages):
        page.goto(f"{console.server.url}/console/#{hidden}")
        page.wait_for_selector("#view-alerts:not([hidden])")
        assert page.locator(f"#view-{hidden}").is_hidden()
    assert page.errors == []
    page.close()


def tab_to(page: Any, selector: str) -> None:
    """Press Tab until the element matching ``selector`` has the focus (keyboard-only use)."""
    for _ in range(80):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_admin_manages_accounts_and_tokens_by_keyboard_only(browser: Any, console: Console) -> None:
    page = sign_in(browser, console, "root")
    keys = page.keyboard
    tab_to(page, "#nav-users")
    keys.press("Enter")
    page.wait_for_selector("#view-users:not([hidden]) #user-form")
    # The roles offered are the ones the server says this admin may give.
    offered = page.eval_on_selector_all("#user-form select[name=role] option", "os => os.map(o => o.value)")
    assert offered == ["admin", "auditor"]
    tab_to(page, "#user-form input[name=username]")
    keys.type("pat")
    keys.press("Tab")
    keys.type("a long enough password")
    keys.press("Tab")
    keys.press("ArrowDown")  # admin → auditor
    keys.press("Tab")
    keys.press("Enter")
    page.wait_for_selector("#view-users tr:has(td:text-is('pat')) >> text=auditor")
    # Disable asks first; the server ends the account's sessions.
    tab_to(page, "button[aria-label='Disable pat']")
    keys.press("Enter")
    page.wait_for_selector("#ask-dialog[open]")
    keys.press("Control+Enter")
    page.wait_for_selector("#view-users tr:has(td:text-is('pat')) >> text=disabled")
    # Tokens: minted for a role within the admin's own, the secret shown once, revoked after asking.
    tab_to(page, "#nav-tokens")
    keys.press("Enter")
    page.wait_for_selector("#token-form")
    offered = page.eval_on_selector_all("#token-form select[name=role] option", "os => os.map(o => o.value)")
    assert offered == ["admin", "auditor"]
    tab_to(page, "#token-form input[name=name]")
    keys.type("exporter")
    keys.press("Tab")
    keys.press("ArrowDown")  # auditor
    keys.press("Enter")  # a select does not submit: go on to the submit button
    tab_to(page, "#token-form button[type=submit]")
    keys.press("Enter")
    secret = page.locator("#token-secret code.secret")
    secret.wait_for()
    token = secret.text_content()
    whoami = "(t) => fetch('/api/auth/session', {headers: {Authorization: 'Bearer ' + t}}).then(r => r.status)"
    seen = page.evaluate(
        "(t) => fetch('/api/auth/session', {headers: {Authorization: 'Bearer ' + t}}).then(r => r.json())", token
    )
    assert (seen["kind"], seen["role"]) == ("token", "auditor")
    tab_to(page, "button[aria-label='Revoke token exporter']")
    keys.press("Enter")
    page.wait_for_selector("#ask-dialog[open]")
    keys.press("Control+Enter")
    page.wait_for_selector("#view-tokens tr:has(td:text-is('exporter')) >> text=revoked")
    assert page.evaluate(whoami, token) == 401
    with console.api.db.session() as session:
        actions = [(e.actor, e.action) for e in iter_entries(session) if e.action.startswith(("user.", "token."))]
    assert ("user:root", "user.create") in actions and ("user:root", "token.revoke") in actions
    assert page.errors == []
    page.close()


def fill_plan(page: Any) -> None:
    form = page.locator("#plan-form")
    for name, value in (
        ("name", "Station forecourt"),
        ("use_case", "crime hotspot"),
        ("purpose", "wanted persons"),
        ("legal_basis", "common law; force policy"),
        ("justification", "robbery series"),
        ("location", "Station forecourt"),
    ):
        form.locator(f"input[name={name}]").fill(value)
    form.locator("input[name=camera][value='cam-1']").check()
    form.locator("input[name=signage]").check()
    form.locator("button[type=submit]").click()


def detail_fact(page: Any, label: str) -> str:
    return str(page.locator(f"#deployment-detail dt:text-is('{label}') + dd").first.text_content())


def take_step(page: Any, step: str, note: str | None = None) -> None:
    page.click(f"#step-{step}")
    dialog = page.locator("#ask-dialog")
    dialog.wait_for()
    if note is not None:
        dialog.locator("textarea[name=note]").fill(note)
    dialog.locator("button.ask-submit").click()


@SIZES
def test_a_deployment_from_plan_to_sign_off(
    browser: Any, console: Console, viewport: dict[str, int], tmp_path: Path
) -> None:
    # The operator plans it; authorising is not offered to them.
    ann = sign_in(browser, console, "ann", viewport)
    open_page(ann, "deployments")
    fill_plan(ann)
    ann.wait_for_selector("#deployment-detail h2:text-is('Station forecourt')")
    assert detail_fact(ann, "Status") == "draft"
    assert ann.locator("#authorise-form").count() == 0 and ann.locator("#step-cancel").is_visible()
    ann.locator("#signage-form input[name=location]").fill("forecourt, both entrances")
    ann.locator("#signage-form button[type=submit]").click()
    ann.wait_for_selector("#flash:has-text('Signage recorded')")
    # A supervisor (not the planner) sees the watchlist composition and authorises what was shown.
    sue = sign_in(browser, console, "sue", viewport)
    open_page(sue, "deployments")
    sue.click("#view-deployments button.link:text-is('Station forecourt')")
    composition = sue.locator("#deployment-detail .composition")
    composition.wait_for()
    assert composition.locator("tbody tr").all_text_contents() == ["wanted by courts3"]
    if viewport == DESKTOP:
        screenshot(sue, "console-authorise.png", tmp_path)
    sue.locator("#authorise-form textarea[name=text]").fill("approved: robbery series, 4 hours")
    sue.locator("#authorise-form button[type=submit]").click()
    sue.wait_for_function(
        "() => document.querySelector('#deployment-detail dd')?.textContent === 'authorised'", timeout=10_000
    )
    assert detail_fact(sue, "Authorised").startswith("by sue")
    assert sue.locator("#step-start").is_visible()  # supervisors manage deployments too
    # The operator puts it live and ends it, each asked for first.
    ann.click("#nav-alerts")
    open_page(ann, "deployments")
    ann.wait_for_selector("#step-start")
    take_step(ann, "start")
    ann.wait_for_function("() => document.querySelector('#deployment-detail dd')?.textContent === 'live'")
    take_step(ann, "end", "shift over")
    ann.wait_for_function("() => document.querySelector('#deployment-detail dd')?.textContent === 'ended'")
    assert detail_fact(ann, "Templates destroyed") == "3"
    assert ann.locator("#signoff-form").count() == 0  # the review is the supervisor's
    # The supervisor reviews and signs off the record.
    sue.click("#nav-alerts")
    open_page(sue, "deployments")
    sue.wait_for_selector("#signoff-form")
    assert "Every alert was decided." in str(sue.locator("#deployment-detail .review").text_content())
    sue.locator("#signoff-form textarea[name=notes]").fill("ran as authorised")
    sue.locator("#signoff-form textarea[name=corrections]").fill("location: north entrance only")
    sue.locator("#signoff-form button[type=submit]").click()
    sue.wait_for_selector("#deployment-detail .review dd:has-text('by sue')")
    assert sue.locator("#signoff-form").count() == 0
    # Reports: the record to view and download, and the public record its signs point to.
    links = sue.eval_on_selector_all("#deployment-detail .reports a", "as => as.map(a => a.getAttribute('href'))")
    csv = sue.evaluate("(u) => fetch(u).then(r => r.text())", links[1])
    assert csv.startswith("deployment_id,name,status")
    public = [link for link in links if link.startswith("/public/deployments/") and "/" not in link[20:]]
    assert public and sue.evaluate("(u) => fetch(u).then(r => r.status)", public[0]) == 200
    # Every report the card offers opens or downloads as what it says: record, sign and leaflet, each format.
    kinds = ("record?format=html", "record?format=csv", "record?format=json", "signage?format=pdf",
             "signage?format=html", "leaflet?format=pdf", "leaflet?format=html")  # fmt: skip
    assert all(any(link.endswith(kind) for link in links) for kind in kinds), links
    served = sue.evaluate(
        "(us) => Promise.all(us.map(u => fetch(u).then(r => [r.status, r.headers.get('content-type')])))", links
    )
    expected = {"pdf": "application/pdf", "html": "text/html", "csv": "text/csv", "json": "application/json"}
    for link, (status, media) in zip(links, served, strict=True):
        fmt = link.rsplit("=", 1)[-1] if "format=" in link else "html"
        assert status == 200 and media.startswith(expected[fmt]), (link, status, media)
    downloads = sue.eval_on_selector_all("#deployment-detail .reports a[download]", "as => as.map(a => a.href)")
    assert len(downloads) == 4  # the CSV and JSON record, the sign's and the leaflet's PDF save as files
    with sue.expect_download() as saving:
        sue.click("#deployment-detail .reports a:has-text('Leaflet, PDF')")
    assert Path(saving.value.path()).read_bytes().startswith(b"%PDF-")
    # The transparency report of the period it ran in (dates in the page's form; today is inside the default).
    report = sue.locator("#transparency a", has_text="Download CSV").get_attribute("href")
    rows = sue.evaluate("(u) => fetch(u).then(r => r.text())", report).splitlines()
    assert len(rows) == 2 and "Station forecourt" in rows[1]
    with console.api.db.session() as session:
        deployment = session.query(Deployment).one()
        entries = iter_entries(session, target_id=deployment.id)
        trail = [(e.actor, e.action) for e in entries if e.action != "report.deployment"]
    assert trail == [
        ("user:ann", "deployment.create"),
        ("user:ann", "deployment.signage_placed"),
        ("user:sue", "deployment.authorise"),
        ("user:ann", "deployment.start"),
        ("user:ann", "deployment.end"),
        ("user:sue", "deployment.sign_off"),
    ]
    for page in (ann, sue):
        assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
        assert page.errors == []
        page.close()


def test_holds_and_the_audit_log_with_its_verification(browser: Any, console: Console) -> None:
    services = console.api.app.state.ctx.services
    subject_id, image_id = enrol_subject(services.store, services.enroller.engine, 1, "alice")
    alert = store_alert(services.store, subject_id, image_id)
    sue = sign_in(browser, console, "sue")
    open_page(sue, "holds")
    sue.locator("#hold-form input[name=alert]").fill(str(alert["alert_id"]))
    sue.locator("#hold-form input[name=reason]").fill("case 9: court")
    sue.locator("#hold-form button[type=submit]").click()
    row = sue.locator("#view-holds tbody tr", has_text="case 9: court")
    row.wait_for()
    assert row.locator("td").nth(1).text_content() == "sue"  # who held it: the signed-in person
    row.locator("button").click()
    sue.locator("#ask-dialog textarea[name=note]").fill("case closed")
    sue.locator("#ask-dialog button.ask-submit").click()
    sue.wait_for_function("() => document.querySelectorAll('#view-holds tbody tr').length === 0")
    # The auditor reads the log, filters it and verifies the chain.
    aud = sign_in(browser, console, "aud")
    open_page(aud, "audit")
    aud.click("#audit-verify")
    aud.wait_for_selector("#audit-result.ok")
    assert str(aud.text_content("#audit-result")).startswith("Chain intact:")
    aud.locator("#audit-filter input[name=action]").fill("alert.hold_lifted")
    aud.locator("#audit-filter button[type=submit]").click()
    aud.wait_for_function(
        "() => [...document.querySelectorAll('#view-audit tbody tr')].map(r => r.children[3].textContent)"
        ".join() === 'alert.hold_lifted'"
    )
    assert "user:sue" in str(aud.locator("#view-audit tbody tr").text_content())
    anchor = aud.evaluate("() => fetch(document.querySelector('#view-audit a[download]').href).then(r => r.json())")
    assert anchor["format"] == "openlfr-audit-anchor/1"
    for page in (sue, aud):
        assert page.errors == []
        page.close()


@SIZES
def test_governance_pages_have_no_axe_violations(browser: Any, console: Console, viewport: dict[str, int]) -> None:
    page = sign_in(browser, console, "ann", viewport)
    open_page(page, "deployments")
    fill_plan(page)
    page.wait_for_selector("#signage-form")
    page.close()
    page = sign_in(browser, console, "sue", viewport)
    open_page(page, "deployments")
    page.click("#view-deployments button.link")
    page.wait_for_selector("#authorise-form")
    page.wait_for_load_state("networkidle")
    assert axe_violations(page) == [], "deployments"
    page.click("#step-cancel")
    page.wait_for_selector("#ask-dialog[open]")
    assert axe_violations(page) == [], "cancel dialog"
    page.keyboard.press("Escape")
    for name in ("holds", "audit", "users", "tokens"):
        open_page(page, name)
        assert axe_violations(page) == [], name
        assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"], name
    assert page.errors == []
    page.close()


def focus_is_on(page: Any, selector: str) -> bool:
    return bool(page.evaluate("(s) => !!document.activeElement && document.activeElement.matches(s)", selector))


def sign_in_by_keys(browser: Any, url: str, username: str, viewport: dict[str, int]) -> Any:
    """Sign in to the console with the keys only: Tab to the name, type it, Tab, the password, Enter."""
    page = console_page(browser, url, viewport)
    tab_to(page, "#login-username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("#top:not([hidden])")
    return page


def keyboard_step(page: Any, step: str, note: str | None = None) -> None:
    """Take a next step (go live, end) by keyboard: Tab to its button, Enter, answer the dialog with the keys."""
    tab_to(page, f"#step-{step}")
    page.keyboard.press("Enter")
    page.wait_for_selector("#ask-dialog[open]")
    if note is not None:
        assert focus_is_on(page, "#ask-dialog textarea[name=note]")  # the dialog takes the focus to what it asks
        page.keyboard.type(note)
    page.keyboard.press("Control+Enter")
    page.wait_for_function("() => !document.querySelector('#ask-dialog').open")


def tab_to_named(page: Any, selector: str, text: str) -> None:
    """Press Tab until an element matching ``selector`` whose text is ``text`` has the focus."""
    for _ in range(80):
        if page.evaluate(
            "([s, t]) => !!document.activeElement?.matches(s) && document.activeElement.textContent === t",
            [selector, text],
        ):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector} named {text}")


def wait_for_status(page: Any, status: str) -> None:
    page.wait_for_function(
        "(s) => document.querySelector('#deployment-detail dd')?.textContent === s", arg=status, timeout=10_000
    )


def focus_back_in_the_card(page: Any) -> None:
    """After a step, the focus is on the deployment's heading: never lost to the page body."""
    page.wait_for_function("() => document.activeElement?.matches('#deployment-detail h2')")


@SIZES
def test_a_deployment_from_plan_to_sign_off_by_keyboard_only(
    browser: Any, console: Console, viewport: dict[str, int]
) -> None:
    ann = sign_in_by_keys(browser, console.server.url, "ann", viewport)
    keys = ann.keyboard
    tab_to(ann, "#nav-deployments")
    keys.press("Enter")
    ann.wait_for_selector("#view-deployments:not([hidden]) #plan-form")
    ann.wait_for_load_state("networkidle")
    tab_to(ann, "#plan-form input[name=name]")
    for value in ("Station forecourt", "crime hotspot", "wanted persons", "common law; force policy",
                  "robbery series", "Station forecourt"):  # fmt: skip
        keys.type(value)
        keys.press("Tab")
    tab_to(ann, "#plan-form input[name=camera][value='cam-1']")
    keys.press("Space")
    tab_to(ann, "#plan-form input[name=signage]")
    keys.press("Space")
    tab_to(ann, "#plan-form button[type=submit]")
    keys.press("Enter")
    ann.wait_for_selector("#deployment-detail h2:text-is('Station forecourt')")
    assert detail_fact(ann, "Status") == "draft"
    focus_back_in_the_card(ann)
    tab_to(ann, "#signage-form input[name=location]")
    keys.type("forecourt, both entrances")
    keys.press("Enter")
    ann.wait_for_selector("#flash:has-text('Signage recorded')")
    # The supervisor opens it from the list and authorises it, keys only.
    sue = sign_in_by_keys(browser, console.server.url, "sue", viewport)
    tab_to(sue, "#nav-deployments")
    sue.keyboard.press("Enter")
    sue.wait_for_selector("#view-deployments:not([hidden]) button.link:text-is('Station forecourt')")
    tab_to_named(sue, "#view-deployments button.link", "Station forecourt")
    sue.keyboard.press("Enter")
    sue.wait_for_selector("#authorise-form")
    focus_back_in_the_card(sue)
    tab_to(sue, "#authorise-form textarea[name=text]")
    sue.keyboard.type("approved: robbery series, 4 hours")
    sue.keyboard.press("Tab")
    assert focus_is_on(sue, "#authorise-form button[type=submit]")
    sue.keyboard.press("Enter")
    wait_for_status(sue, "authorised")
    focus_back_in_the_card(sue)
    assert axe_violations(sue) == [], "authorised deployment"
    # The operator goes live and ends it, each asked for first, answered by keyboard.
    tab_to(ann, "#nav-alerts")
    keys.press("Enter")
    ann.wait_for_selector("#view-alerts:not([hidden])")
    tab_to(ann, "#nav-deployments")
    keys.press("Enter")
    ann.wait_for_selector("#step-start")
    # Escape cancels a dialog and gives the focus back to the button that opened it.
    tab_to(ann, "#step-start")
    keys.press("Enter")
    ann.wait_for_selector("#ask-dialog[open]")
    keys.press("Escape")
    ann.wait_for_function("() => !document.querySelector('#ask-dialog').open")
    assert focus_is_on(ann, "#step-start") and detail_fact(ann, "Status") == "authorised"
    keyboard_step(ann, "start")
    wait_for_status(ann, "live")
    focus_back_in_the_card(ann)
    keyboard_step(ann, "end", "shift over")
    wait_for_status(ann, "ended")
    focus_back_in_the_card(ann)
    assert detail_fact(ann, "Templates destroyed") == "3"
    # The supervisor signs off the record.
    tab_to(sue, "#nav-alerts")
    sue.keyboard.press("Enter")
    sue.wait_for_selector("#view-alerts:not([hidden])")
    tab_to(sue, "#nav-deployments")
    sue.keyboard.press("Enter")
    sue.wait_for_selector("#signoff-form")
    tab_to(sue, "#signoff-form textarea[name=notes]")
    sue.keyboard.type("ran as authorised")
    sue.keyboard.press("Tab")
    sue.keyboard.type("location: north entrance only")
    sue.keyboard.press("Tab")
    assert focus_is_on(sue, "#signoff-form button[type=submit]")
    sue.keyboard.press("Enter")
    sue.wait_for_selector("#deployment-detail .review dd:has-text('by sue')")
    focus_back_in_the_card(sue)
    # The report links are reached by Tab too.
    tab_to(sue, "#deployment-detail .reports a")
    assert axe_violations(sue) == [], "signed-off deployment"
    with console.api.db.session() as session:
        deployment = session.query(Deployment).one()
        trail = [(e.actor, e.action) for e in iter_entries(session, target_id=deployment.id)]
    assert [action for _, action in trail if action != "report.deployment"] == [
        "deployment.create", "deployment.signage_placed", "deployment.authorise", "deployment.start",
        "deployment.end", "deployment.sign_off"]  # fmt: skip
    for page in (ann, sue):
        assert page.errors == []
        page.close()


@pytest.fixture
def console_without_notice(tmp_path: Path) -> Iterator[Console]:
    # governance.notice left unset: the force has not yet said who the public contacts.
    for api in build_api(make_settings(tmp_path)):
        with api.db.session() as session:
            make_snapshot(session)
            session.commit()
        api.user("sue", "supervisor")
        server = serve(api.app)
        try:
            yield Console(api, server)
        finally:
            server.stop()


def test_signs_and_leaflets_are_not_offered_until_the_notice_is_configured(
    browser: Any, console_without_notice: Console
) -> None:
    sue = sign_in(browser, console_without_notice, "sue")
    open_page(sue, "deployments")
    fill_plan(sue)
    sue.wait_for_selector("#deployment-detail h2:text-is('Station forecourt')")
    # Sue planned it, so another supervisor authorises it (the domain refuses the planner).
    console_without_notice.api.user("insp", "supervisor")
    insp = sign_in(browser, console_without_notice, "insp")
    open_page(insp, "deployments")
    insp.click("#view-deployments button.link:text-is('Station forecourt')")
    insp.locator("#authorise-form textarea[name=text]").fill("approved")
    insp.locator("#authorise-form button[type=submit]").click()
    insp.wait_for_function("() => document.querySelector('#deployment-detail dd')?.textContent === 'authorised'")
    reports = insp.locator("#deployment-detail .reports")
    reports.locator(".notice-missing").wait_for()
    links = insp.eval_on_selector_all("#deployment-detail .reports a", "as => as.map(a => a.getAttribute('href'))")
    # No link that would answer 503: the record and the public record only, and the reason said in words.
    assert not [link for link in links if "signage" in link or "leaflet" in link], links
    assert any(link.startswith("/public/deployments/") for link in links)
    served = insp.evaluate("(us) => Promise.all(us.map(u => fetch(u).then(r => r.status)))", links)
    assert served == [200] * len(links)
    said = str(reports.locator(".notice-missing").text_content())
    assert "Signs and leaflets" in said and "governance.notice" in said
    assert axe_violations(insp) == []
    for page in (sue, insp):
        assert page.errors == []
        page.close()
