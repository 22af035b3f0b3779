"""The system stands alone: no code in the package can open a connection of its own (cameras are read through
OpenCV/FFmpeg from registered sources only), and there is no option to send alerts to a typed address.
tests/test_outbound.py watches the running service under strace; this is the cheap static half."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from openlfr.cli import main

_PACKAGE = Path(__file__).resolve().parents[1] / "src" / "openlfr"
# Client libraries that open outbound connections (servers such as uvicorn only listen).
_NETWORK_CLIENTS = {"urllib.request", "http.client", "requests", "httpx", "aiohttp", "smtplib", "ftplib", "urllib3"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.slow
def test_no_module_imports_a_network_client() -> None:
    found = {
        str(path.relative_to(_PACKAGE)): sorted(_imports(path) & _NETWORK_CLIENTS)
        for path in _PACKAGE.rglob("*.py")
        if _imports(path) & _NETWORK_CLIENTS
    }
    assert found == {}


def test_watch_has_no_option_to_post_alerts_elsewhere(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["watch", "--source", "clip.mp4", "--watchlist", "refs", "--webhook", "http://example.org/hook"])
    assert exit_info.value.code == 2
    assert "--webhook" in capsys.readouterr().err
