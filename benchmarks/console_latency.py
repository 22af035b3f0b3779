"""Alert → card latency in the browser, with two cameras running.

The performer of the shared Hamilton clip and Barack Obama (in its audience) are enrolled from their photos,
and the clip is played in a loop as two real-time cameras through the real models (YuNet + SFace): each pass
raises new alerts on each camera (a looping file's media clock restarts, so does the cooldown). The alerts are stored
in the database and pushed to the server's live stream exactly as in ``lfr serve``; the officer's page
(``/console/officer.html``, one card per alert) is open in Debian's Chromium. For each alert the report gives:

- decided → card: the pipeline's decision (``decided_at``) to the card being in the page (a MutationObserver
  stamps each card with ``performance.timeOrigin + performance.now()``): storing, pushing, the stream, render;
- decided → stored: the part of it spent before the alert is in the database (``created_at``): encoding and
  encrypting its images, the insert;
- frame → card: the capture of the decisive frame (``frame_wall_time``) to the card (adds the recognition).

Both clocks are the same machine's wall clock.

With ``--history N`` (default 10,000) the database first holds N older pending alerts, stored through
``DbAlertStore`` as ``benchmarks/encounters_queue.py`` stores them, so the report also says whether the queues
stay responsive with that history, each in its own browser page before the cameras start:

- officer page (390×844): reload → the first card and the true count ("Showing 50 of N"), and each "Load 50
  more" (click → the next 50 cards drawn), for ``--pages`` pages;
- console queue (1280×900): reload → the totals line and the first card, and each "Load more" (click → the next
  20 encounters drawn), for ``--pages`` pages.

The two-camera alert → card figures are then measured with that history in the database. Test data only;
everything lives in a temporary folder.

    .venv/bin/python benchmarks/console_latency.py --alerts 40 --json
    .venv/bin/python benchmarks/console_latency.py --alerts 40 --history 0   # latency only
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from openlfr.alerts.db_store import DbAlertStore
from openlfr.alerts.dispatch import AlertDispatcher
from openlfr.config.models import Settings
from openlfr.engine import FaceEngine
from openlfr.pipeline.app import WatchPipeline, pipeline_settings
from openlfr.pipeline.config import PipelineConfig
from openlfr.pipeline.thresholds import default_threshold
from openlfr.service.supervisor import load_snapshot
from openlfr.sources.factory import open_source
from openlfr.store.alert_models import AlertRecord
from openlfr.utc import as_utc
from openlfr.watchlists.enrol import Enroller, EnrolRequest
from openlfr.watchlists.subjects import add_member, create_watchlist, find_watchlist, get_subject
from openlfr.watchlists.types import Category, Outcome, SubjectInfo

# Two cameras play the Hamilton clip in a loop (their alerts come in pairs, the harder case); the
# watchlist holds the performer (the clip's reference photo) and Barack Obama (in the audience at the end).
CAMERAS = ("cam-a", "cam-b")
SUBJECTS = {
    "lin_manuel_miranda": "video/hamilton_refs/lin_manuel_miranda/lin-manuel-miranda.png",
    "obama": "faces/knn/obama/obama.jpg",
}
CLIP = "video/hamilton_short.mp4"

OBSERVE = """() => {
  window.__cards = {};
  new MutationObserver((changes) => {
    const at = performance.timeOrigin + performance.now();
    for (const change of changes) for (const node of change.addedNodes) {
      if (node.dataset && node.dataset.id && !(node.dataset.id in window.__cards)) window.__cards[node.dataset.id] = at;
    }
  }).observe(document.querySelector('#officer-list'), { childList: true });
}"""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=40, help="stop after this many alerts")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds")
    parser.add_argument("--history", type=int, default=10_000, help="older pending alerts stored first")
    parser.add_argument("--pages", type=int, default=10, help="pages loaded on each page with history")
    parser.add_argument("--reloads", type=int, default=5, help="timed reloads of each page with history")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser.parse_args(argv)


OFFICER_FIRST = """() => document.querySelector('#officer-list li') !== null &&
  document.querySelector('#officer-count').textContent.startsWith('Showing')"""
QUEUE_FIRST = """() => document.querySelector('#alert-list li.alert') !== null &&
  document.querySelector('#queue-totals').textContent.startsWith('Showing')"""


def time_history(browser: Any, url: str, password: str, *, officer: bool, reloads: int, pages: int) -> dict[str, Any]:
    """Reload → first card (ms since navigation start), then each page loaded by its "load more" button (ms
    from the click until the page's cards are in the list and the button is ready again)."""
    viewport = {"width": 390, "height": 844} if officer else {"width": 1280, "height": 900}
    page = browser.new_page(viewport=viewport)
    prefix = "officer" if officer else "login"
    page.goto(f"{url}/console/officer.html" if officer else f"{url}/console/")
    page.fill(f"#{prefix}-username", "bench-officer")
    page.fill(f"#{prefix}-password", password)
    page.keyboard.press("Enter")
    first, cards, more = (
        (OFFICER_FIRST, "#officer-list li", "#officer-more")
        if officer
        else (QUEUE_FIRST, "#alert-list li.alert", "#load-more")
    )
    page.wait_for_function(first)
    reloaded = []
    for _ in range(reloads):
        page.reload()
        page.wait_for_function(first, polling="raf")
        reloaded.append(float(page.evaluate("() => performance.now()")))
    count = "#officer-count" if officer else "#queue-totals"
    shown_first = str(page.text_content(count))
    paged = []
    for _ in range(pages):
        before = int(page.evaluate(f"() => document.querySelectorAll('{cards}').length"))
        if page.locator(more).is_hidden():
            break
        started = float(page.evaluate("() => performance.now()"))
        page.click(more)
        page.wait_for_function(
            f"(n) => document.querySelectorAll('{cards}').length > n && !document.querySelector('{more}').disabled",
            arg=before,
            polling="raf",
        )
        paged.append(float(page.evaluate("() => performance.now()")) - started)
    report = {
        "reload_to_first_card_ms": stats(reloaded),
        "load_more_ms": stats(paged),
        "pages_loaded": len(paged),
        "cards_after_paging": int(page.evaluate(f"() => document.querySelectorAll('{cards}').length")),
        "first_count_line": shown_first,
        "count_line_after_paging": str(page.text_content(count)),
    }
    page.close()
    return report


def stats(values_ms: list[float]) -> dict[str, float | None]:
    if not values_ms:
        return {"p50": None, "p95": None, "max": None}
    values = np.asarray(values_ms, np.float64)
    return {
        "p50": round(float(np.percentile(values, 50)), 1),
        "p95": round(float(np.percentile(values, 95)), 1),
        "max": round(float(values.max()), 1),
    }


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915 - one scenario, start to end
    args = parse_args(sys.argv[1:] if argv is None else argv)
    repo = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(repo))  # the test helpers seed accounts and the watchlist as the tests do
    from benchmarks.encounters_queue import fill
    from playwright.sync_api import sync_playwright
    from tests.api.conftest import PASSWORD, build_api, make_settings
    from tests.helpers.accounts import person
    from tests.helpers.browser import CHROMIUM_ARGS, chromium_path
    from tests.helpers.console import snapshot
    from tests.web.conftest import serve

    data = Path(os.environ.get("LFR_SHARED_DATA", repo.parent / "shared" / "data"))
    chromium = chromium_path()
    if chromium is None:
        raise SystemExit("Chromium is not installed (scripts/install-system-deps.sh)")
    engine = FaceEngine.from_settings(pipeline_settings(Settings()))
    with tempfile.TemporaryDirectory() as tmp:
        for api in build_api(make_settings(Path(tmp), alert_stream_max_s=3600)):
            services = api.app.state.ctx.services
            store = services.store
            with api.db.session() as session:
                by = person(session, "bench-sgt", "supervisor")
            for subject, photo in SUBJECTS.items():
                info = SubjectInfo(
                    subject, Category.WITNESS, "benchmark", "custody_image", "bench", date(2030, 1, 1), subject
                )
                request = EnrolRequest(subject, (data / photo).read_bytes(), Path(photo).name, info=info, by=by)
                result = Enroller(store, engine, 0.99).enrol(request)
                if result.outcome is not Outcome.ENROLLED:
                    raise SystemExit(f"{subject}: not enrolled ({result})")
                with store.db.session() as session:
                    found = find_watchlist(session, "wl") or create_watchlist(session, "wl", by=by)
                    add_member(session, found, get_subject(session, subject), by=by)
            with store.db.session() as session:
                watchlist = load_snapshot(session, snapshot(store, engine))
            filling = time.monotonic()
            fill(store, args.history)
            fill_s = time.monotonic() - filling
            api.user("bench-officer", "operator")
            server = serve(api.app)
            stop = threading.Event()
            try:
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
                    history: dict[str, Any] = {"alerts": args.history, "fill_s": round(fill_s, 1)}
                    if args.history:
                        for name, officer in (("officer_page", True), ("console_queue", False)):
                            history[name] = time_history(
                                browser, server.url, PASSWORD, officer=officer, reloads=args.reloads, pages=args.pages
                            )
                    page = browser.new_page(viewport={"width": 390, "height": 844})
                    page.goto(f"{server.url}/console/officer.html")
                    page.fill("#officer-username", "bench-officer")
                    page.fill("#officer-password", PASSWORD)
                    page.keyboard.press("Enter")
                    page.wait_for_selector("#link-state:has-text('Live')")
                    page.evaluate(OBSERVE)
                    sources = [
                        open_source(str(data / CLIP), source_id=name, realtime=True, loop=True) for name in CAMERAS
                    ]
                    config = PipelineConfig(threshold=default_threshold(engine.contract))
                    dispatcher = AlertDispatcher(DbAlertStore(api.db, store.media, check_subjects=True), [services.bus])
                    pipeline = WatchPipeline(engine, watchlist, sources, dispatcher, config, mode="production")
                    runner = threading.Thread(target=pipeline.run, args=(stop,), daemon=True)
                    runner.start()
                    started = time.monotonic()
                    cards: dict[str, float] = {}
                    while len(cards) < args.alerts and time.monotonic() - started < args.timeout:
                        page.wait_for_timeout(500)
                        cards = page.evaluate("() => window.__cards")
                    stop.set()
                    runner.join(30)
                    cards = page.evaluate("() => window.__cards")
                    browser.close()
            finally:
                stop.set()
                server.stop()
            with api.db.session() as session:
                records = {r.id: r for r in session.query(AlertRecord).where(AlertRecord.model != "benchmark")}
            # Only the cards of alerts the cameras raised (the history's are older than the pipeline's start).
            cards = {i: at for i, at in cards.items() if i in records and records[i].model != "benchmark"}
            decided = [cards[i] - as_utc(records[i].decided_at).timestamp() * 1e3 for i in cards if i in records]
            stored = [
                (as_utc(records[i].created_at).timestamp() - as_utc(records[i].decided_at).timestamp()) * 1e3
                for i in cards
                if i in records
            ]
            framed = [cards[i] - as_utc(records[i].frame_wall_time).timestamp() * 1e3 for i in cards if i in records]
            per_camera = {name: sum(1 for i in cards if i in records and records[i].source == name) for name in CAMERAS}
            report: dict[str, Any] = {
                "history": history,
                "cameras": len(CAMERAS),
                "alerts_stored": len(records),
                "cards": len(cards),
                "alerts_per_camera": per_camera,
                "decided_to_card_ms": stats(decided),
                "decided_to_stored_ms": stats(stored),
                "frame_to_card_ms": stats(framed),
                "cpus": len(os.sched_getaffinity(0)),
                "load_average": [round(v, 1) for v in os.getloadavg()],
            }
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
