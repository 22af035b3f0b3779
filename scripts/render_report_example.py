"""Render the example deployment record and transparency report committed under docs/ (docs/GOVERNANCE.md
shows them) from a real demo run.

    .venv/bin/python scripts/render_report_example.py [--data ../shared/data] [--out docs/] [--passes 3]

What it does, with the real product end to end (no figure is made up):

1. ``lfr demo --serve`` in a throwaway folder: the demo accounts, the watchlist enrolled from the sample data,
   the camera playing ``video/hamilton_short.mp4`` in a loop, the deployment authorised and live, and the
   real pipeline (detection, tracking, quality, SFace, matching) under ``lfr serve``'s scheduler;
2. over the API, as ``demo-operator``: once the clip has played ``--passes`` times, every alert is reviewed —
   confirmed when it names the performer on stage (the one person in the clip who is on the watchlist),
   rejected as ``different_person`` otherwise — and the deployment is ended;
3. the server stops; ``demo-supervisor`` signs the record off (the post-deployment review), in-process as the
   demo itself acts for that account (its password is never shown);
4. ``lfr login`` as ``demo-auditor`` and the real report commands, ``lfr report deployment ID --format html``
   and ``lfr report transparency --from … --to … --format html``;
5. the two HTML pages are rendered to PNG by headless Chromium through Playwright (as the console tests do):
   ``deployment-record.png`` and ``transparency-report.png``.

The demo's alert images stay in the throwaway folder, which is deleted at the end; only the two PNGs of
the reports (figures, no face) are written to ``--out``.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/lib/chromium/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
CREDENTIALS = re.compile(r"^\s+(\w+)\s+(demo-[a-z]+)\s+password: (\S+)", re.MULTILINE)
DEPLOYMENT = re.compile(r"deployment ([0-9a-f]{32}) authorised")
PERFORMER = "lin_manuel_miranda"  # openlfr.commands.demo_serve.PERFORMER
VIDEO = "video/hamilton_short.mp4"
STARTUP_S = 600.0  # model conversion on a first run, enrolment, server start
PAGE_WIDTH = 1000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _clip_seconds(data: Path) -> float:
    capture = cv2.VideoCapture(str(data / VIDEO))
    try:
        frames, fps = capture.get(cv2.CAP_PROP_FRAME_COUNT), capture.get(cv2.CAP_PROP_FPS)
    finally:
        capture.release()
    if frames <= 0 or fps <= 0:
        raise SystemExit(f"cannot read {data / VIDEO}")
    return float(frames / fps)


@contextmanager
def demo_server(data: Path, demo_dir: Path, port: int, log: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``lfr demo --serve`` running; yields the process and its stdout up to the printed credentials."""
    command = [sys.executable, "-m", "openlfr", "demo", "--serve", "--data", str(data), "--data-dir", str(demo_dir)]
    with log.open("w", encoding="utf-8") as errors:
        process = subprocess.Popen(
            [*command, "--port", str(port)], stdout=subprocess.PIPE, stderr=errors, text=True, cwd=ROOT
        )
        try:
            assert process.stdout is not None
            text, started = "", time.monotonic()
            while time.monotonic() - started < STARTUP_S:
                line = process.stdout.readline()
                if not line and process.poll() is not None:
                    raise SystemExit(f"lfr demo --serve exited {process.returncode}: see {log}")
                text += line
                if "demo-operator" in text and "demo-auditor" in text and "Ctrl-C" in text:
                    break
            yield process, text
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=120)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _login(client: httpx.Client, username: str, password: str) -> None:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    response.raise_for_status()
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]


def _alerts(client: httpx.Client, deployment_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = client.get("/api/alerts", params={"deployment": deployment_id, "limit": 200, "offset": len(items)})
        page.raise_for_status()
        body = page.json()
        items.extend(body["items"])
        if len(items) >= body["total"] or not body["items"]:
            return items


def run_deployment(client: httpx.Client, deployment_id: str, play_s: float, log: Path) -> None:
    """Let the clip play ``play_s`` seconds from the first alert, then review every alert and end the run."""
    first: float | None = None
    deadline = time.monotonic() + STARTUP_S
    while first is None or time.monotonic() - first < play_s:
        if time.monotonic() > deadline:
            raise SystemExit(f"no alert within {STARTUP_S:.0f} s: see {log}")
        if first is None and _alerts(client, deployment_id):
            first = time.monotonic()
        time.sleep(1.0)
    ended = client.post(f"/api/deployments/{deployment_id}/end", json={"reason": "planned end of the demo run"})
    ended.raise_for_status()
    for alert in sorted(_alerts(client, deployment_id), key=lambda a: a["seq"]):
        if alert["status"] != "pending":
            continue
        subject = alert["subject"] or {}
        if subject.get("external_ref") == PERFORMER:
            body: dict[str, Any] = {"decision": "confirm", "version": alert["version"]}
        else:
            body = {"decision": "reject", "reason": "different_person", "version": alert["version"]}
        client.post(f"/api/alerts/{alert['id']}/adjudication", json=body).raise_for_status()


def sign_off(demo_dir: Path, deployment_id: str) -> None:
    """The post-deployment review, as demo-supervisor (the demo acts for that account; see the module doc)."""
    from openlfr.auth.users import get_user_by_name, user_principal
    from openlfr.commands.demo_serve import SUPERVISOR
    from openlfr.config.models import Settings
    from openlfr.deployments.signoff import sign_off_deployment
    from openlfr.store.context import open_store

    with open_store(Settings(data_dir=demo_dir)) as store, store.db.session() as session:
        supervisor = user_principal(get_user_by_name(session, SUPERVISOR))
        sign_off_deployment(
            session,
            deployment_id,
            by=supervisor,
            notes="Demo run on the sample video: every alert reviewed; figures checked against the audit chain.",
            now=datetime.now(UTC),
        )


def reports(demo_dir: Path, auditor_password: str, deployment_id: str, out: Path) -> dict[str, Path]:
    """The real report commands, signed in as demo-auditor: {name: html file}."""
    env = {**os.environ, "LFR_DATA_DIR": str(demo_dir)}

    def lfr(*args: str, stdin: str | None = None) -> None:
        subprocess.run([sys.executable, "-m", "openlfr", *args], input=stdin, text=True, env=env, cwd=ROOT, check=True)

    lfr("login", stdin=f"demo-auditor\n{auditor_password}\n")
    today = datetime.now(UTC).date()
    pages = {"deployment-record": out / "deployment-record.html", "transparency-report": out / "transparency.html"}
    lfr("report", "deployment", deployment_id, "--format", "html", "-o", str(pages["deployment-record"]))
    period = ["--from", today.isoformat(), "--to", (today + timedelta(days=1)).isoformat()]
    lfr("report", "transparency", *period, "--format", "html", "-o", str(pages["transparency-report"]))
    lfr("logout")
    return pages


def render(pages: dict[str, Path], out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": PAGE_WIDTH, "height": 800})
            for name, html in pages.items():
                page.goto(html.as_uri())
                page.wait_for_load_state("load")
                target = out / f"{name}.png"
                page.screenshot(path=str(target), full_page=True)
                print(f"wrote {target}", file=sys.stderr)
        finally:
            browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("LFR_SHARED_DATA", ROOT / "../shared/data")))
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--passes", type=float, default=3.0, help="how many times the clip plays after the first alert")
    args = parser.parse_args()
    data = args.data.resolve()
    play_s = args.passes * _clip_seconds(data)
    with tempfile.TemporaryDirectory(prefix="lfr-report-example-") as tmp:
        work = Path(tmp)
        demo_dir, log = work / "demo", work / "demo.log"
        port = _free_port()
        with demo_server(data, demo_dir, port, log) as (_, text):
            passwords = {user: password for _, user, password in CREDENTIALS.findall(text)}
            found = DEPLOYMENT.search(Path(log).read_text(encoding="utf-8"))
            if found is None or "demo-operator" not in passwords:
                raise SystemExit(f"the demo did not start as expected: see {log}")
            deployment_id = found.group(1)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                _login(client, "demo-operator", passwords["demo-operator"])
                run_deployment(client, deployment_id, play_s, log)
        sign_off(demo_dir, deployment_id)
        pages = reports(demo_dir, passwords["demo-auditor"], deployment_id, work)
        render(pages, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
