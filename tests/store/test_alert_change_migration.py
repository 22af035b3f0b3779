"""Migration 0400: decisions and outcomes recorded before the history existed become each alert's first
history rows (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from openlfr.store.db import MIGRATIONS_DIR

AT = datetime(2026, 11, 26, 12, tzinfo=UTC)


def _upgrade(connection: object, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _alert(alert_id: str, seq: int, **values: object) -> tuple[str, dict[str, object]]:
    row: dict[str, object] = {
        "id": alert_id, "seq": seq, "mode": "production", "source": "cam1", "track_id": 1, "score": 0.6,
        "threshold": 0.5, "evidence": 3, "frame_index": 1, "frame_time_s": 0.0, "frame_wall_time": AT,
        "decided_at": AT, "latency_ms": 1.0, "model": "fake", "reference_image": "r", "probe_media": "p",
        "media_encrypted": False, "status": "pending", "version": 1, "hold": False, "created_at": AT,
        "adjudicated_by": None, "adjudicated_at": None, "reject_reason": None, "outcome": None,
        "outcome_by": None, "outcome_at": None,
    } | values  # fmt: skip
    columns = ", ".join(row)
    return f"INSERT INTO alert ({columns}) VALUES ({', '.join(':' + c for c in row)})", row


def test_earlier_decisions_become_the_first_history_rows(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            _upgrade(connection, "0300")
            for sql, row in (
                _alert("a" * 32, 1),
                _alert("b" * 32, 2, status="rejected", reject_reason="poor_image", adjudicated_by="ann",
                       adjudicated_at=AT, version=2),
                _alert("c" * 32, 3, status="confirmed", adjudicated_by="token:bot", adjudicated_at=AT,
                       outcome="arrested", outcome_by="bob", outcome_at=AT, version=3),
            ):  # fmt: skip
                connection.execute(text(sql), row)
            _upgrade(connection, "0400")
            rows = connection.execute(
                text(
                    "SELECT alert_id, kind, value, previous, reject_reason, changed_by, actor, version, note "
                    "FROM alert_change ORDER BY alert_id, kind"
                )
            ).all()
    finally:
        engine.dispose()
    note = "recorded before the history was kept"
    assert [tuple(r) for r in rows] == [
        ("b" * 32, "adjudication", "rejected", None, "poor_image", "ann", "user:ann", 2, note),
        ("c" * 32, "adjudication", "confirmed", None, None, "token:bot", "token:bot", 3, note),
        ("c" * 32, "engagement", "arrested", None, None, "bob", "user:bob", 3, note),
    ]
