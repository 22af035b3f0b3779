"""``lfr serve`` as a real process: it answers on its port, keeps a generated secret, stops cleanly on SIGINT."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

import httpx2 as httpx
import pytest

pytestmark = pytest.mark.slow  # real `lfr serve` processes


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    env = {**os.environ, "LFR_DATA_DIR": str(tmp_path)}
    env.pop("LFR_DATABASE_URL", None)
    env.pop("LFR_API__SESSION_SECRET", None)
    return subprocess.Popen(
        [sys.executable, "-m", "openlfr", "--log-level", "info", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_serve_starts_answers_and_stops_on_sigint(tmp_path: Path) -> None:
    port = _free_port()
    process = _start(tmp_path, port)
    try:
        # lfr serve prints this line once every start-up step is done (the HTTP server listening included).
        assert process.stderr is not None
        ready = next((line for line in iter(process.stderr.readline, "") if "OpenLFR console and API on" in line), "")
        assert f"http://127.0.0.1:{port}/" in ready, f"server did not start; exit {process.wait()}"
        response = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=10)
        assert response.status_code == 200 and response.json()["status"] == "ok"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "server" not in response.headers  # no version banner
        assert httpx.get(f"http://127.0.0.1:{port}/api/users", timeout=2).status_code == 401
        # A loopback client cannot pick the address the audit chain records (no proxy is configured).
        forged = httpx.post(
            f"http://127.0.0.1:{port}/api/auth/login",
            json={"username": "nobody", "password": "not the password"},
            headers={"X-Forwarded-For": "6.6.6.6"},
            timeout=10,
        )
        assert forged.status_code == 401

        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "stopping http" in err and "stopping database" in err
    assert err.index("stopping http") < err.index("stopping database")  # reverse of start order
    secret = tmp_path / "session_secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(secret.read_text().strip()) >= 32
    assert secret.read_text().strip() not in err
    from openlfr.audit import iter_entries
    from openlfr.config.models import Settings
    from openlfr.store.db import open_database

    db = open_database(Settings(data_dir=tmp_path))
    try:
        with db.session() as session:
            (failed,) = list(iter_entries(session, action="auth.login_failed"))
    finally:
        db.close()
    assert failed.details["ip"] == "127.0.0.1" and failed.details["account"] == "unknown"


def test_serve_reports_a_busy_port_and_unwinds(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        process = _start(tmp_path, busy.getsockname()[1])
        _, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert "serve_failed" in err and "stopping database" in err
