"""Test helpers: synthetic "faces" for the fake engine, a CLI runner, and a scanner of everything stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import yaml
from sqlalchemy import MetaData, create_engine, select
from sqlalchemy.engine import make_url

from openlfr.cli import main
from openlfr.config.models import Settings
from openlfr.store.db import database_url as resolve_url


def fake_config(tmp_path: Path, *, duplicate_threshold: float = 0.9) -> Path:
    """A settings file: fake detector (any pixel >= 40 belongs to a "face" blob) and fake embedder."""
    path = tmp_path / "lfr.yaml"
    config = {
        "data_dir": str(tmp_path / "var"),
        "cache_dir": str(tmp_path / "cache"),
        "engine": {"detector": {"type": "fake", "min_brightness": 40}, "embedder": {"type": "fake"}},
        # Random textures are far less alike than real faces: a high threshold keeps them apart, and the
        # duplicate tests use near-copies (scores ~0.99).
        "watchlist": {"duplicate_threshold": duplicate_threshold},
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def face_image(seed: int, *, noise: int = 0, faces: int = 1) -> np.ndarray:
    """A 400x400 black image with ``faces`` textured blobs the fake detector finds and the gate accepts.
    ``noise`` adds a small perturbation: other bytes, (almost) the same embedding."""
    rng = np.random.default_rng(seed)
    image = np.zeros((400, 400 * faces, 3), np.uint8)
    for index in range(faces):
        cells = rng.integers(40, 216, (8, 8, 3)).astype(np.uint8)
        blob = cv2.resize(cells, (160, 160), interpolation=cv2.INTER_NEAREST)
        if noise:
            jitter = np.random.default_rng(seed * 1000 + noise).integers(-noise, noise + 1, blob.shape)
            blob = np.clip(blob.astype(int) + jitter, 40, 215).astype(np.uint8)
        image[100:260, 400 * index + 120 : 400 * index + 280] = blob
    return image


def write_face(path: Path, seed: int, *, noise: int = 0, faces: int = 1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, encoded = cv2.imencode(path.suffix or ".png", face_image(seed, noise=noise, faces=faces))
    assert ok
    path.write_bytes(encoded.tobytes())
    return path


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> CliResult:
    capsys.readouterr()
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)


def iter_cells(url: str) -> Iterator[tuple[str, str, object]]:
    """(table, column, value) for every column of every row of every table in the database."""
    engine = create_engine(resolve_url(Settings(database_url=url)))
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            for name, tbl in metadata.tables.items():
                for row in connection.execute(select(tbl)):
                    for column, value in zip(tbl.columns.keys(), row, strict=True):
                        yield name, column, value
    finally:
        engine.dispose()


def sqlite_files(url: str) -> list[Path]:
    """The database file and its WAL/SHM companions (empty for PostgreSQL)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return []
    base = Path(parsed.database)
    return [p for p in (base, base.with_name(base.name + "-wal"), base.with_name(base.name + "-shm")) if p.exists()]


@dataclass(frozen=True)
class SubjectTraces:
    """What must be gone after erasing one subject."""

    subject_id: str
    external_ref: str
    digests: frozenset[str]
    vectors: frozenset[bytes]
    originals: tuple[bytes, ...]


def collect_traces(url: str, ref: str, originals: list[bytes]) -> SubjectTraces:
    rows = {name: _rows(url, name) for name in ("subject", "reference_image", "template", "snapshot_template")}
    (subject_id,) = [r["id"] for r in rows["subject"] if r["external_ref"] == ref]
    return SubjectTraces(
        subject_id=str(subject_id),
        external_ref=ref,
        digests=frozenset(str(r["digest"]) for r in rows["reference_image"] if r["subject_id"] == subject_id),
        vectors=frozenset(
            bytes(r["vector"])  # type: ignore[call-overload]
            for name in ("template", "snapshot_template")
            for r in rows[name]
            if r["subject_id"] == subject_id
        ),
        originals=tuple(originals),
    )


def find_traces(url: str, media_root: Path, traces: SubjectTraces) -> list[str]:
    """Every place the subject's images, digests, template vectors, id or reference still appear: all
    text/JSON/blob cells of all tables, the media files (names and contents), and the raw SQLite files.
    The erasure record may (and must) keep the subject id, and so does the append-only audit chain (its
    entries name the random id of what they acted on, never the reference, images or templates)."""
    found = []
    for table, column, value in iter_cells(url):
        text = json.dumps(value) if isinstance(value, dict | list) else value
        if isinstance(text, str):
            if any(d in text for d in traces.digests) or text == traces.external_ref:
                found.append(f"{table}.{column}: {text[:70]}")
            if traces.subject_id in text and table not in ("erasure_record", "audit_entry"):
                found.append(f"{table}.{column}: subject id")
        if isinstance(value, bytes | memoryview) and any(v in bytes(value) for v in traces.vectors):
            found.append(f"{table}.{column}: template vector")
    for path in (p for p in media_root.rglob("*") if p.is_file()):
        content = path.read_bytes()
        if path.name in traces.digests or any(o in content for o in traces.originals):
            found.append(f"media file {path.name}")
    for path in sqlite_files(url):
        raw = path.read_bytes()
        if any(v in raw for v in traces.vectors) or any(d.encode() in raw for d in traces.digests):
            found.append(f"raw database file {path.name}")
    return found


def _rows(url: str, name: str) -> list[dict[str, object]]:
    engine = create_engine(resolve_url(Settings(database_url=url)))
    try:
        metadata = MetaData()
        metadata.reflect(engine, only=[name])
        with engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(select(metadata.tables[name]))]
    finally:
        engine.dispose()
