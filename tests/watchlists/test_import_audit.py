"""An import killed half-way leaves an audit chain that accounts for every image it enrolled."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from openlfr.audit import iter_entries, verify_chain
from openlfr.config.models import Settings
from openlfr.store.context import open_store
from openlfr.store.models import ReferenceImage
from tests.helpers.accounts import cli_sign_in
from tests.watchlists.helpers import fake_config, write_face

META = ("--category", "suspected_offence", "--reason", "PACE s.64A custody image", "--image-source", "custody_image")
SUBJECTS, IMAGES_EACH = 12, 3


def _folder(tmp_path: Path) -> tuple[Path, Path]:
    """12 subjects with 3 images each, then a subject whose only "image" is a FIFO: reading it blocks the
    importer right after the 36th enrolment, until the test opens the other end."""
    folder = tmp_path / "import"
    for subject in range(SUBJECTS):
        for image in range(IMAGES_EACH):
            write_face(folder / f"S-{subject:02d}" / f"{image}.png", 1000 + subject * 10 + image)
    fifo = folder / "ZZ-last" / "0.png"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    return folder, fifo


def _wait_until_reading(fifo: Path, process: subprocess.Popen[bytes], release: threading.Event) -> None:
    """Return once the importer has opened the FIFO (everything before it is done); fail if it exits first.
    The FIFO is held open, with nothing written, until ``release`` is set: the importer stays blocked on its
    read (closing it at once would hand it an empty file, and the import could finish before the kill)."""
    opened = threading.Event()

    def open_writer() -> None:
        with fifo.open("wb"):  # blocks until a reader opens it
            opened.set()
            release.wait()

    threading.Thread(target=open_writer, daemon=True).start()
    while not opened.wait(0.5):
        if process.poll() is not None:
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))  # release the writer thread
            pytest.fail(f"the import ended (exit {process.returncode}) before it reached the last image")


@pytest.mark.slow
def test_a_killed_import_is_audited_for_every_image_it_enrolled(database_url: str, tmp_path: Path) -> None:
    config = fake_config(tmp_path)
    folder, fifo = _folder(tmp_path)
    cli_sign_in(database_url, tmp_path / "var", "sgt", "supervisor")  # the import runs in its own process
    progress = tmp_path / "progress.txt"
    command = [sys.executable, "-m", "openlfr", "--config", str(config), "watchlist", "import", "wl", str(folder)]
    with progress.open("wb") as err:
        process = subprocess.Popen([*command, *META, "--db", database_url, "--progress"], stderr=err)
        release = threading.Event()
        try:
            _wait_until_reading(fifo, process, release)
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait()
            release.set()
    assert process.returncode == -signal.SIGKILL
    assert "enrolling" in progress.read_text(errors="replace")  # it was showing its progress when killed

    settings = Settings(database_url=database_url, data_dir=tmp_path / "var")
    with open_store(settings) as store, store.db.session() as session:
        images = {
            row.id: row.subject_id for row in session.execute(select(ReferenceImage.id, ReferenceImage.subject_id))
        }
        (start,) = list(iter_entries(session, action="watchlist.import.start"))
        enrolled = list(iter_entries(session, action="watchlist.import.enrol"))
        assert list(iter_entries(session, action="watchlist.import")) == []  # it never finished
        assert verify_chain(session).ok
    assert len(images) == SUBJECTS * IMAGES_EACH
    assert (start.details["name"], start.details["items"]) == ("wl", SUBJECTS * IMAGES_EACH + 1)
    assert {e.details["import"] for e in enrolled} == {start.details["import"]}
    assert {e.details["image_id"]: e.target_id for e in enrolled} == images
    assert len(enrolled) == len(images)
    assert {e.actor for e in [start, *enrolled]} == {"user:sgt"}  # the signed-in importer, never a typed name
    assert sum(e.details["new_subject"] for e in enrolled) == SUBJECTS

    # The re-run enrols nothing twice, audits only what it adds, and closes with its summary.
    fifo.unlink()
    result = _import_again(tmp_path, config, folder, database_url)
    assert (result["enrolled"], result["already_enrolled"]) == (0, SUBJECTS * IMAGES_EACH)
    settings = Settings(database_url=database_url, data_dir=tmp_path / "var")
    with open_store(settings) as store, store.db.session() as session:
        (summary,) = list(iter_entries(session, action="watchlist.import"))
        assert summary.details["import"] == result["import_id"] != start.details["import"]
        assert len(list(iter_entries(session, action="watchlist.import.enrol"))) == len(images)


def _import_again(tmp_path: Path, config: Path, folder: Path, url: str) -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, "-m", "openlfr", "--config", str(config), "watchlist", "import", "wl", str(folder), *META,
         "--db", url, "--json"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    )  # fmt: skip
    data: dict[str, object] = json.loads(completed.stdout)
    return data
