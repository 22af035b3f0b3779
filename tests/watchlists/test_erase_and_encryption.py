"""Erasure and encryption at rest with the fake engine (the real-model erasure is in test_deepface_cli)."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest
from pydantic import SecretStr

from openlfr.store.media import MediaStore, generate_key
from tests.watchlists.helpers import collect_traces, face_image, fake_config, find_traces, run_cli, write_face

META = (
    "--category",
    "victim",
    "--reason",
    "safeguarding order",
    "--image-source",
    "other",
    "--image-source-note",
    "family photo",
)


def test_erase_leaves_no_trace_and_keeps_other_subjects(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = fake_config(tmp_path)
    db = ("--db", database_url)
    for subject, seeds in (("V-1", (1, 2)), ("V-2", (3,))):
        for seed in seeds:
            write_face(tmp_path / "in" / subject / f"{seed}.png", seed)
    assert run_cli(capsys, "--config", config, "watchlist", "import", "wl", tmp_path / "in", *META, *db).code == 0
    before = run_cli(capsys, "--config", config, "watchlist", "snapshot", "wl", *db, "--json").json()
    originals = [p.read_bytes() for p in sorted((tmp_path / "in" / "V-1").iterdir())]
    traces = collect_traces(database_url, "V-1", originals)
    media_root = tmp_path / "var" / "media"
    assert len(find_traces(database_url, media_root, traces)) >= 5  # the scanner does find them

    refused = run_cli(capsys, "--config", config, "subject", "erase", "V-1", "--reason", "court order", *db)
    assert refused.code == 1  # no --yes, nothing happens
    erased = run_cli(
        capsys, "--config", config, "subject", "erase", "V-1", "--reason", "court order", "--yes",
        *db, "--json",
    )  # fmt: skip
    assert erased.code == 0, erased.err
    assert erased.json()["snapshots_redacted"] == 1
    assert find_traces(database_url, media_root, traces) == []

    after = run_cli(capsys, "--config", config, "watchlist", "snapshot", "wl", *db, "--json").json()
    assert (before["subjects"], after["subjects"], after["templates"]) == (2, 1, 1)
    shown = run_cli(capsys, "--config", config, "watchlist", "show", "wl", *db, "--json").json()
    assert [m["external_ref"] for m in shown["members"]] == ["V-2"]
    assert shown["snapshots"][0]["erasures"] == 1  # the redacted snapshot says so


def test_reference_images_are_encrypted_at_rest(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = fake_config(tmp_path)
    ok, encoded = cv2.imencode(".jpg", face_image(5), [cv2.IMWRITE_JPEG_QUALITY, 98])
    assert ok
    jpeg = encoded.tobytes()
    (tmp_path / "in" / "E-1").mkdir(parents=True)
    (tmp_path / "in" / "E-1" / "photo.jpg").write_bytes(jpeg)
    key = generate_key()
    monkeypatch.setenv("LFR_MEDIA_KEY", key)
    result = run_cli(
        capsys, "--config", config, "watchlist", "import", "wl", tmp_path / "in", *META, "--db", database_url, "--json"
    )
    assert result.code == 0, result.err
    assert result.json()["enrolled"] == 1
    (stored,) = [p for p in (tmp_path / "var" / "media").rglob("*") if p.is_file()]
    on_disk = stored.read_bytes()
    assert jpeg not in on_disk
    assert jpeg[:200] not in on_disk and jpeg[-200:] not in on_disk
    shown = run_cli(capsys, "--config", config, "subject", "show", "E-1", "--db", database_url, "--json").json()
    assert shown["images"][0]["encrypted"] is True
    assert MediaStore(tmp_path / "var" / "media", SecretStr(key)).get(stored.name, encrypted=True) == jpeg


def test_a_malformed_media_key_stops_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_face(tmp_path / "in" / "E-1" / "a.png", 1)
    monkeypatch.setenv("LFR_MEDIA_KEY", "not-a-key")
    result = run_cli(capsys, "--config", fake_config(tmp_path), "watchlist", "import", "wl", tmp_path / "in", *META)
    assert result.code == 1
    assert "[media_key_invalid]" in result.err
    assert not (tmp_path / "var" / "openlfr.db").exists()
