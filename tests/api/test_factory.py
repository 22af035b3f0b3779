"""``openlfr.api.factory:create_app``: the whole service as an ASGI app any host can run, its start-up and
shutdown owned by its lifespan. Here a real ``uvicorn --factory`` process, configured through ``$LFR_CONFIG``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from openlfr.api.factory import ServiceRuntime, create_app
from openlfr.audit import iter_entries
from openlfr.config.models import Settings
from openlfr.store.db import open_database
from tests.helpers.streams import free_port

READY = "Application startup complete."


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", cache_dir=tmp_path / "cache")


def test_creating_the_app_does_no_work_its_lifespan_starts_and_stops_the_service(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path))
    assert not (tmp_path / "var").exists()  # nothing happens before the host starts the app
    runtime: ServiceRuntime = app.state.runtime
    with TestClient(app) as client:  # runs the lifespan: start-up on enter, shutdown on exit
        assert runtime.lifecycle.started == [
            "session secret",
            "database",
            "cameras",
            "deployment scheduler",
            "retention",
            "http",
        ]
        assert client.get("/api/health").json()["status"] == "ok"
        assert client.get("/api/cameras/status", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert not runtime.stopping.is_set()
    assert runtime.lifecycle.started == [] and runtime.stopping.is_set()
    assert runtime.supervisor is not None and runtime.supervisor.active_deployments() == frozenset()
    assert (tmp_path / "var" / "session_secret").is_file()


@pytest.mark.slow  # a real uvicorn process
def test_uvicorn_runs_the_factory_and_stops_it_cleanly_on_sigint(tmp_path: Path) -> None:
    data = tmp_path / "var"
    config = tmp_path / "openlfr.yaml"
    config.write_text(f"data_dir: {data}\ngovernance:\n  scheduler_interval_s: 2\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LFR_")}
    env["LFR_CONFIG"] = str(config)
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "openlfr.api.factory:create_app"]
    options = ["--host", "127.0.0.1", "--port", str(port), "--no-proxy-headers", "--no-server-header"]
    process = subprocess.Popen(
        [*command, *options], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stderr is not None
        # uvicorn says so once the lifespan's start-up finished; it listens right after (its next line).
        lines = iter(process.stderr.readline, "")
        assert any(READY in line for line in lines), f"no start-up; exit {process.wait()}"
        assert any("Uvicorn running on" in line for line in lines)
        response = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=10)
        assert response.status_code == 200 and response.json()["status"] == "ok"
        assert "server" not in response.headers
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "Application shutdown complete." in err  # the lifespan's shutdown ran to its end
    # The settings came from $LFR_CONFIG: the data folder, and the configuration recorded by the scheduler step.
    assert (data / "session_secret").is_file()
    db = open_database(Settings(data_dir=data))
    try:
        with db.session() as session:
            assert list(iter_entries(session, action="config.loaded"))
    finally:
        db.close()


def test_lfr_serve_reports_the_step_that_failed_to_start(tmp_path: Path) -> None:
    """The host only logs a failed start-up; ``lfr serve`` raises the step's own error (its stable code)."""
    from openlfr.commands.serve import serve
    from openlfr.store.errors import StorageError

    unreachable = "postgresql+psycopg://nobody@127.0.0.1:1/openlfr"  # nothing listens on port 1
    settings = Settings(data_dir=tmp_path / "var", database_url=unreachable)
    settings = settings.model_copy(update={"api": settings.api.model_copy(update={"port": free_port()})})
    with pytest.raises(StorageError, match="cannot open database"):
        serve(settings)
