"""Snapshots with the fake engine: fingerprint stability and change, review-by exclusion."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from openlfr.config.models import Settings
from openlfr.store.context import open_store
from openlfr.store.models import SnapshotTemplate, Template
from openlfr.watchlists.enrol import vector_bytes, vector_from
from tests.helpers.subjects import let_review_date_pass
from tests.watchlists.helpers import fake_config, run_cli, write_face

META = (
    "--category",
    "witness",
    "--reason",
    "witness to s.18 assault",
    "--image-source",
    "other",
    "--image-source-note",
    "statement photo",
)


def _folder(root: Path) -> Path:
    for s in range(3):
        for i in range(2):
            write_face(root / f"W-{s}" / f"{i}.png", 100 + 10 * s + i)
    return root


def _snapshot(capsys: pytest.CaptureFixture[str], config: Path, url: str, *extra: str) -> dict[str, object]:
    result = run_cli(capsys, "--config", config, "watchlist", "snapshot", "wl", "--db", url, "--json", *extra)
    assert result.code == 0, result.err
    payload: dict[str, object] = result.json()
    return payload


def test_fingerprint_is_stable_across_databases_and_changes_with_a_template(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path / "in")
    config = fake_config(tmp_path)
    other_db = f"sqlite+pysqlite:///{tmp_path / 'other.db'}"
    for url in (database_url, other_db):
        assert run_cli(capsys, "--config", config, "watchlist", "import", "wl", folder, *META, "--db", url).code == 0

    first = _snapshot(capsys, config, database_url)
    assert first == {**first, "templates": 6, "subjects": 3, "excluded": []}
    assert _snapshot(capsys, config, database_url)["fingerprint"] == first["fingerprint"]
    # A different database, enrolled separately, yields the same fingerprint: it depends on the templates only.
    assert _snapshot(capsys, config, other_db)["fingerprint"] == first["fingerprint"]
    plain = run_cli(capsys, "--config", config, "watchlist", "snapshot", "wl", "--db", database_url)
    assert plain.out.strip() == first["fingerprint"]

    # The definition: sha256 over the sorted template digests, one per line.
    settings = Settings(database_url=database_url, data_dir=tmp_path / "var")
    with open_store(settings) as store, store.db.session() as session:
        digests = sorted(session.scalars(select(Template.digest)))
        assert hashlib.sha256("\n".join(digests).encode()).hexdigest() == first["fingerprint"]
        # Change one template's vector (as re-enrolment with another model version would).
        template = session.scalars(select(Template).order_by(Template.digest)).first()
        assert template is not None
        old_digest = template.digest
        changed = vector_from(template.vector).copy()
        changed[0] += 0.01
        template.vector = vector_bytes(changed / np.linalg.norm(changed))
        template.digest = hashlib.sha256(template.vector).hexdigest()
    changed_snapshot = _snapshot(capsys, config, database_url)
    assert changed_snapshot["fingerprint"] != first["fingerprint"]
    # Earlier snapshots are copies: the change did not reach them.
    with open_store(settings) as store, store.db.session() as session:
        first_copy = session.scalars(
            select(SnapshotTemplate.template_digest).where(SnapshotTemplate.snapshot_id == first["id"])
        ).all()
        assert old_digest in first_copy


def test_subjects_past_review_by_are_excluded_and_reported(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path / "in")
    config = fake_config(tmp_path)
    today = date.today()
    imported = run_cli(capsys, "--config", config, "watchlist", "import", "wl", folder, *META, "--db", database_url)
    assert imported.code == 0
    yesterday = str(today - timedelta(days=1))
    updated = run_cli(
        capsys, "--config", config, "subject", "update", "W-1", "--review-by", yesterday, "--db", database_url
    )
    assert updated.code != 0 and "has passed" in updated.err  # no door renews an entry into the past
    settings = Settings(database_url=database_url, data_dir=tmp_path / "var")
    with open_store(settings) as store, store.db.session() as session:
        let_review_date_pass(session, "W-1", today - timedelta(days=1))  # the calendar does it instead
    snapshot = _snapshot(capsys, config, database_url)
    assert (snapshot["templates"], snapshot["subjects"]) == (4, 2)
    excluded = snapshot["excluded"]
    assert isinstance(excluded, list)
    assert [(e["external_ref"], e["reason"]) for e in excluded] == [("W-1", "review_overdue")]
    # Due today is still valid; the report marks the overdue one.
    assert _snapshot(capsys, config, database_url, "--as-of", str(today - timedelta(days=1)))["templates"] == 6
    report = run_cli(capsys, "--config", config, "watchlist", "export-report", "wl", "--db", database_url, "--json")
    overdue = {row["external_ref"]: row["review_overdue"] for row in report.json()["subjects"]}
    assert overdue == {"W-0": False, "W-1": True, "W-2": False}
    shown = run_cli(capsys, "--config", config, "watchlist", "show", "wl", "--db", database_url)
    assert "REVIEW OVERDUE" in shown.out
