"""A live server (uvicorn on a free port, in a thread) for the browser tests, and axe-core's accessibility check.

The `browser` fixture itself is session-wide, in tests/helpers/browser.py (registered by tests/conftest.py).
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from tests.api.conftest import PASSWORD
from tests.helpers.waiting import wait_until


@dataclass
class LiveServer:
    url: str
    server: Any
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def serve(app: FastAPI) -> LiveServer:
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off", server_header=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive())  # uvicorn's own "listening" flag
    assert server.started, "the live server did not start"
    return LiveServer(f"http://127.0.0.1:{port}", server, thread)


def console_page(browser: Any, url: str, viewport: dict[str, int], *, init_script: str = "") -> Any:
    """A new page at the console's sign-in form (``url``: the live server's); ``page.errors`` collects the
    page's uncaught script errors, which the tests check are none."""
    page = browser.new_page(viewport=viewport)
    if init_script:
        page.add_init_script(init_script)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    page.goto(f"{url}/console/")
    return page


def submit_sign_in(page: Any, username: str) -> None:
    """Fill the sign-in form with ``username`` and the tests' password, and send it (what the page shows next
    is for the caller to wait for)."""
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORD)
    page.keyboard.press("Enter")


AXE = Path(__file__).resolve().parents[2] / "tools" / "js" / "node_modules" / "axe-core" / "axe.min.js"
"""axe-core from the npm registry, installed by `make setup` (tools/js): injected from disk, never from a CDN"""
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_violations(page: Any) -> list[str]:
    """Run axe-core (WCAG 2.2 A and AA rules) on the page as it is now; one line per violation and element."""
    if not AXE.is_file():
        pytest.skip("axe-core is not installed (make setup runs npm ci in tools/js)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, so the console's CSP (script-src 'self') still holds.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations"
        ".map(v => v.nodes.map(n => `${v.id}: ${n.target.join(' ')} — ${n.failureSummary}`)).flat()",
        AXE_TAGS,
    )
    return list(result)
