"""Bad input found in passing (issue 11 §4): each gets a clear 4xx (or 503) with a stable code, never a 500.

On main (1726c64): a blank watchlist name and a huge ``after`` were 500s; watchlist names took '/', control and
bidirectional characters and case-duplicates; a login with the disk full was a 500 while /api/health said
the database was fine; a large image upload was decoded on the event loop (every request stalled), with
no limit on parallel decodes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from openlfr.api import uploads
from openlfr.cli import main
from openlfr.config.loader import load_settings
from tests.api.conftest import Api, build_api, make_settings
from tests.helpers.accounts import cli_sign_in
from tests.helpers.console import png
from tests.watchlists.helpers import fake_config


@pytest.fixture
def supervisor(api: Api) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.token('supervisor', name='sup-desk')}"}


@pytest.mark.parametrize(
    "name",
    [
        "   ",
        "",
        "a/b",
        "bell\x07",
        "rtl\u200fname",
        "\u202eevil",
        ".hidden",
        "..",
        "tab\tname",
        "x" * 65,
        "two  spaces",
    ],
)
@pytest.mark.slow
def test_unsafe_watchlist_names_are_refused(api: Api, supervisor: dict[str, str], name: str) -> None:
    response = api.client().post("/api/watchlists", json={"name": name}, headers=supervisor)
    assert response.status_code in (400, 422), response.text
    if response.status_code == 400:
        assert response.json()["error"]["code"] == "watchlist_name_invalid"


def test_watchlist_names_are_unique_regardless_of_case_and_addressable(api: Api, supervisor: dict[str, str]) -> None:
    client = api.client()
    created = client.post("/api/watchlists", json={"name": "Events 2026-08"}, headers=supervisor)
    assert created.status_code == 201, created.text
    again = client.post("/api/watchlists", json={"name": "events 2026-08"}, headers=supervisor)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert client.get("/api/watchlists/Events 2026-08", headers=supervisor).status_code == 200


def test_the_command_line_applies_the_same_name_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = fake_config(tmp_path)
    settings = load_settings(Path(config))
    cli_sign_in(f"sqlite+pysqlite:///{settings.data_dir / 'openlfr.db'}", settings.data_dir)
    assert main(["--config", str(config), "watchlist", "create", "a/b"]) == 1
    assert "[watchlist_name_invalid]" in capsys.readouterr().err
    assert main(["--config", str(config), "watchlist", "create", "Gate-A"]) == 0
    assert main(["--config", str(config), "watchlist", "create", "gate-a"]) == 1
    assert "regardless of case" in capsys.readouterr().err


def test_an_audit_cursor_beyond_any_seq_is_a_validation_error(api: Api) -> None:
    auditor = {"Authorization": f"Bearer {api.token('auditor', name='aud-desk')}"}
    response = api.client().get("/api/audit/entries", params={"after": "1180591620717411303424"}, headers=auditor)
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_failed"
    assert api.client().get("/api/audit/entries", params={"after": 2**63 - 1}, headers=auditor).json() == []


@pytest.fixture
def full_disk_api(tmp_path: Path) -> Iterator[tuple[Api, threading.Event]]:
    """An app whose SQLite database refuses every write as a full disk does ("database or disk is full"), while
    ``full`` is set: deterministic, with the error SQLite itself raises."""
    full = threading.Event()
    for api in build_api(make_settings(tmp_path)):

        def refuse_writes(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if full.is_set() and statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
                raise sqlite3.OperationalError("database or disk is full")

        event.listen(api.db.engine, "before_cursor_execute", refuse_writes)
        yield api, full


def test_login_with_the_disk_full_is_a_503_and_health_says_so(full_disk_api: tuple[Api, threading.Event]) -> None:
    api, full = full_disk_api
    api.user("ann", "operator")
    client = api.client()
    assert client.get("/api/health").status_code == 200
    full.set()
    login = client.post("/api/auth/login", json={"username": "ann", "password": "correct horse battery staple"})
    assert login.status_code == 503 and login.json()["error"]["code"] == "storage_full", login.text
    assert login.headers["Retry-After"]
    health = client.get("/api/health")
    assert health.status_code == 503 and health.json()["error"]["code"] == "storage_full"
    assert health.json()["error"]["details"]["database"] == "full"
    full.clear()  # space freed: the next write succeeds, and health recovers with it
    assert client.post(
        "/api/auth/login", json={"username": "ann", "password": "correct horse battery staple"}
    ).is_success
    assert client.get("/api/health").json()["database"] == "ok"


class HeldDecoder:
    """Stands in for the decoder: each call announces itself and waits to be released, then decodes."""

    def __init__(self) -> None:
        self.started = threading.Semaphore(0)
        self.release = threading.Event()
        self.real = uploads.decode_image

    def __call__(self, data: bytes, **kwargs: Any) -> Any:
        self.started.release()
        assert self.release.wait(60), "never released"
        return self.real(data, **kwargs)


def _subject(api: Api, supervisor: dict[str, str]) -> str:
    body = {
        "external_ref": "REF-1",
        "category": "wanted_by_courts",
        "reason": "warrant",
        "image_source": "custody_image",
        "review_by": "2099-01-01",
    }
    response = api.client().post("/api/subjects", json=body, headers=supervisor)
    assert response.status_code == 201, response.text
    subject_id: str = response.json()["id"]
    return subject_id


def test_the_event_loop_answers_while_an_upload_decodes(
    api: Api, supervisor: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    decoder = HeldDecoder()
    monkeypatch.setattr(uploads, "decode_image", decoder)
    subject_id = _subject(api, supervisor)
    with api.client() as client:  # one event loop for every request below
        results: dict[str, int] = {}

        def upload(key: str) -> None:
            files = {"file": (f"{key}.png", png(1), "image/png")}
            results[key] = client.post(
                f"/api/subjects/{subject_id}/images", files=files, headers=supervisor
            ).status_code

        uploading = [threading.Thread(target=upload, args=(f"u{i}",)) for i in range(2)]  # max_parallel_decodes
        for thread in uploading:
            thread.start()
        for _ in uploading:
            assert decoder.started.acquire(timeout=60)
        # Both decodes are under way: the loop still serves other requests…
        health: dict[str, int] = {}
        probe = threading.Thread(target=lambda: health.update(code=client.get("/api/health").status_code))
        probe.start()
        probe.join(60)  # a loop blocked by a decode would hold this until the release below
        answered_during_decode = not probe.is_alive() and health.get("code") == 200
        # …and a third upload is turned away at once instead of queueing a third large decode.
        upload("extra")
        decoder.release.set()
        probe.join()
        for thread in uploading:
            thread.join()
    assert answered_during_decode
    assert results["extra"] == 503
    assert results["u0"] == results["u1"] == 200
