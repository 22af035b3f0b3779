"""The console's files: served by exact name only, under the strict CSP, with no inline script or style."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

from tests.api.conftest import Api, build_api, make_settings

STATIC = resources.files("openlfr.web") / "static"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from build_api(make_settings(tmp_path))


def test_console_is_served_with_security_headers(api: Api) -> None:
    client = api.client()
    root = client.get("/", follow_redirects=False)
    assert root.status_code == 307 and root.headers["location"] == "/console/"
    page = client.get("/console/")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert client.get("/console/app.js").headers["content-type"] == "text/javascript; charset=utf-8"
    assert client.get("/console/style.css").headers["content-type"] == "text/css; charset=utf-8"
    for name in ("missing.js", "..%2Fapi%2Fapp.py", "%2E%2E%2F%2E%2E%2Fpyproject.toml", "__init__.py"):
        assert client.get(f"/console/{name}").status_code == 404, name


def test_no_inline_script_style_or_html_injection() -> None:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    assert all('src="' in tag for tag in re.findall(r"<script[^>]*>", html))
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert not re.search(r"\sstyle\s*=", html), "inline style"
    scripts = [entry for entry in STATIC.iterdir() if entry.name.endswith(".js")]
    assert {"app.js", "queue.js"} <= {entry.name for entry in scripts}
    for entry in scripts:
        script = entry.read_text(encoding="utf-8")
        # Data reaches the page as text only; nothing is loaded from another site.
        assert "innerHTML" not in script and "outerHTML" not in script and "insertAdjacentHTML" not in script
        assert "eval(" not in script and "new Function" not in script
        assert "http://" not in script and "https://" not in script, entry.name
