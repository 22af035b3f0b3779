"""Privacy by construction: a run over passers-by who match nobody leaves no face and no embedding anywhere.

Scans the output folder, the data folder (database and media store, where `lfr watch` keeps its alerts), the
audit chain (the run is recorded there), a fresh TMPDIR, the captured logs (DEBUG) and stdout/stderr.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.helpers.data import shared_data

from openlfr.audit import iter_entries
from openlfr.cli import main
from openlfr.config.models import Settings
from openlfr.engine import FaceEngine
from openlfr.store.alert_models import AlertRecord
from openlfr.store.context import open_store

pytestmark = [pytest.mark.model, pytest.mark.slow]

IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"BM", b"RIFF", b"II*\x00", b"MM\x00*", b"\x93NUMPY")
BASE64_BLOB = re.compile(r"[A-Za-z0-9+/=]{120,}")
FLOAT_RUN = re.compile(r"(?:-?\d+\.\d+(?:e-?\d+)?[,\s\]]+){16,}")
VECTOR_KEYS = ("embedding", "vector", "template", "crop")


def assert_clean_text(text: str, where: str) -> None:
    assert not BASE64_BLOB.search(text), f"base64-like blob in {where}"
    assert not FLOAT_RUN.search(text), f"run of floats (an embedding?) in {where}"


def assert_clean_file(path: Path) -> None:
    data = path.read_bytes()
    assert not data.startswith(IMAGE_MAGIC), f"image or array file written: {path}"
    assert path.suffix.lower() not in {".jpg", ".jpeg", ".png", ".npy", ".npz", ".bmp", ".webp"}, path
    # Raw float32 vectors: 128 floats of an L2-normalised embedding make 512 bytes of small values.
    text = data.decode("utf-8", errors="strict")  # every file we allow is text
    assert_clean_text(text, str(path))
    for line in text.splitlines():
        if line.strip().startswith("{"):
            assert not any(key in json.loads(line) for key in VECTOR_KEYS), f"vector-like key in {path}"


def test_non_matches_leave_no_trace(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = shared_data()
    data_dir = tmp_path / "var"
    monkeypatch.setenv("LFR_DATA_DIR", str(data_dir))
    monkeypatch.setenv("LFR_CACHE_DIR", str(tmp_path / "models"))  # rebuildable model files, not the run's
    FaceEngine.from_settings(Settings())  # models converted into the cache before the scan starts
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", None)  # make tempfile re-read TMPDIR
    out = tmp_path / "out"
    out.mkdir()
    caplog.set_level(logging.DEBUG)
    code = main(
        [
            "--log-level",
            "debug",
            "watch",
            "--watchlist",
            str(data / "faces" / "knn"),
            "--source",
            str(data / "video" / "crowd_walk_1080p.mp4"),
            "--jsonl",
            str(out / "alerts.jsonl"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    summary = json.loads(captured.err.strip().splitlines()[-1])
    # The run did see and embed faces (so there was biometric data to leak) and raised no alert.
    assert summary["alerts"] == 0 and summary["faces"] > 500 and summary["embedded"] > 20
    assert summary["mode"] == "evaluation"
    assert (out / "alerts.jsonl").read_text() == ""
    written = [p for p in out.rglob("*") if p.is_file()]
    assert written == [out / "alerts.jsonl"]
    assert [p for p in temp.rglob("*")] == []
    for path in written:
        assert_clean_file(path)
    # The data folder: the database (and its journal), no media file; no alert row; an audit chain of facts.
    stored = sorted(p.name for p in data_dir.rglob("*") if p.is_file())
    assert set(stored) <= {"openlfr.db", "openlfr.db-wal", "openlfr.db-shm"} and "openlfr.db" in stored
    for name in stored:
        raw = (data_dir / name).read_bytes()
        assert not any(magic in raw for magic in (b"\xff\xd8\xff", b"\x89PNG", b"\x93NUMPY")), name
    with open_store(Settings()) as store, store.db.session() as session:
        assert session.scalars(select(AlertRecord)).all() == []
        entries = list(iter_entries(session))
    assert [e.action for e in entries] == ["recognition.run_start", "recognition.run_end"]
    for entry in entries:
        assert_clean_text(json.dumps(entry.details), f"audit entry {entry.action}")
    assert_clean_text(captured.out, "stdout")
    assert_clean_text(captured.err, "stderr")
    assert caplog.records, "expected DEBUG logging to be captured"
    for record in caplog.records:
        assert_clean_text(record.getMessage(), f"log record from {record.name}")
