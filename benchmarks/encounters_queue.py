"""The alert queue with 10,000 alerts in history: GET /api/alerts/encounters (p50/p95, over HTTP from a real
server) and the console's time to render its first page in Chromium (navigation start → the totals line and
every card drawn), once with the encounter keys stored with the alerts (the default gap) and once grouped in
Python from every alert (any other gap, as before the stored key).

The alerts are stored through DbAlertStore, as the pipeline stores them (one transaction each, the key set on
insert): 40 subjects on 4 cameras in 2 deployments, repeats 1 minute apart in encounters of 1 to 9 alerts.
Nothing leaves the machine; the database and media live in a temporary folder.

    .venv/bin/python benchmarks/encounters_queue.py --json
    .venv/bin/python benchmarks/encounters_queue.py --alerts 2000 --requests 20
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, date, datetime, timedelta
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from openlfr.alerts.db_store import DbAlertStore
from openlfr.alerts.encounters import DEFAULT_GAP_S
from openlfr.alerts.event import AlertEvent
from openlfr.api import Services, create_app
from openlfr.auth.passwords import default_hasher
from openlfr.auth.users import bootstrap_user
from openlfr.config.models import ApiConfig, Settings
from openlfr.store.context import Store, open_store
from openlfr.store.models import Subject

CHROMIUM = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
PASSWORD = secrets.token_urlsafe(18)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=40, help="timed requests per endpoint variant")
    parser.add_argument("--renders", type=int, default=10, help="timed console loads in Chromium")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser.parse_args(argv)


def fill(store: Store, alerts: int, seed: int = 15) -> None:
    rng = random.Random(seed)
    with store.db.session() as session:
        for n in range(40):
            session.add(
                Subject(
                    id=f"s{n:02d}",
                    external_ref=f"S{n:02d}",
                    category="witness",
                    reason="benchmark",
                    image_source="custody_image",
                    added_by="benchmark",
                    review_by=date(2099, 1, 1),
                )
            )
    writers = {d: DbAlertStore(store.db, store.media, deployment_id=d) for d in ("d" * 32, "e" * 32)}
    start = datetime.now(UTC) - timedelta(days=20)
    clock = start
    stored = 0
    while stored < alerts:
        subject, camera, deployment = f"s{rng.randrange(40):02d}", f"cam{rng.randrange(4)}", rng.choice(sorted(writers))
        clock += timedelta(seconds=rng.randrange(20, 200))
        for repeat in range(min(rng.randrange(1, 10), alerts - stored)):
            at = (clock + timedelta(minutes=repeat)).timestamp()
            writers[deployment].append(
                AlertEvent(
                    alert_id=uuid.uuid4().hex, mode="production", source=camera, track_id=stored, subject_id=subject,
                    score=round(rng.uniform(0.5, 0.9), 3), second_score=None, evidence=3, threshold=0.47,
                    frame_index=stored, frame_time_s=0.0, frame_wall_time=at, decided_at=at, latency_ms=150.0,
                    model="benchmark", reference_image="ref", probe_jpeg=b"\xff\xd8benchmark probe",
                    context_jpeg=None,
                )
            )  # fmt: skip
            stored += 1
            if stored % 1000 == 0:
                print(f"stored {stored}/{alerts} alerts", file=sys.stderr, flush=True)


def serve(app: Any) -> tuple[str, Any, threading.Thread]:
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise SystemExit("the server did not start")
        time.sleep(0.05)  # a benchmark waiting for its own server, not a test
    return f"http://127.0.0.1:{port}", server, thread


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 1),
        "n": len(ordered),
    }


class Client:
    """A signed-in HTTP client (the session cookie in a jar), standard library only."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.url = url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        body = json.dumps({"username": username, "password": password}).encode()
        login = urllib.request.Request(f"{url}/api/auth/login", body, {"Content-Type": "application/json"})
        self.opener.open(login, timeout=60).read()

    def get(self, path: str, params: dict[str, Any]) -> Any:
        with self.opener.open(f"{self.url}{path}?{urllib.parse.urlencode(params)}", timeout=60) as answer:
            return json.loads(answer.read())


def time_endpoint(client: Client, params: dict[str, Any], requests: int) -> dict[str, Any]:
    body = client.get("/api/alerts/encounters", params)  # warm up
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        body = client.get("/api/alerts/encounters", params)
        samples.append((time.perf_counter() - started) * 1000)
    return {**percentiles(samples), "encounters": body["total"], "alerts": body["alerts"]}


def time_console(url: str, renders: int) -> dict[str, Any] | None:
    executable = next((c for c in CHROMIUM if Path(c).is_file()), shutil.which("chromium"))
    if executable is None:
        print("Chromium is not installed: no render timing", file=sys.stderr)
        return None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{url}/console/")
        page.fill("#login-username", "bench")
        page.fill("#login-password", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_selector("#queue-totals:has-text('Showing')")
        samples = []
        for _ in range(renders):
            page.reload()
            # The first page drawn: the totals line and 20 cards with their images loaded.
            page.wait_for_function(
                "() => document.querySelector('#queue-totals').textContent.startsWith('Showing') && "
                "[...document.querySelectorAll('#alert-list img.probe')].every(i => i.complete)",
                polling="raf",
            )
            samples.append(float(page.evaluate("() => performance.now()")))
        browser.close()
    return percentiles(samples)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="lfr-queue-") as tmp:
        settings = Settings(
            data_dir=Path(tmp), api=ApiConfig.model_validate({"session_secret": SecretStr(secrets.token_urlsafe(40))})
        )
        with open_store(settings) as store:
            started = time.perf_counter()
            fill(store, args.alerts)
            fill_s = time.perf_counter() - started
            with store.db.session() as session:
                bootstrap_user(session, default_hasher(), "bench", PASSWORD, "supervisor", os_user="benchmark")
            app = create_app(settings, Services(sessions=store.db.sessions, store=store))
            url, server, thread = serve(app)
            try:
                client = Client(url, "bench", PASSWORD)
                report: dict[str, Any] = {
                    "alerts_stored": args.alerts,
                    "fill_s": round(fill_s, 1),
                    "console_default_stored_key": time_endpoint(client, {"status": "pending"}, args.requests),
                    "all_statuses_stored_key": time_endpoint(client, {}, args.requests),
                    "console_default_grouped_in_python": time_endpoint(
                        client, {"status": "pending", "gap_s": DEFAULT_GAP_S + 0.001}, args.requests
                    ),
                }
                report["console_first_page_render"] = time_console(url, args.renders)
            finally:
                server.should_exit = True
                thread.join(15)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name, value in report.items():
            print(f"{name}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
