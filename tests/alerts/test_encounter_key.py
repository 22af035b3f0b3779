"""The encounter key stored with each alert: set when the alert is stored, back-filled by the migration for
alerts stored before, and grouping the queue exactly as the rule in openlfr.alerts.encounters does."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import select, update

from openlfr.alerts.db_store import DbAlertStore
from openlfr.alerts.encounters import DEFAULT_GAP_S, list_encounters
from openlfr.alerts.event import AlertEvent
from openlfr.alerts.review import AlertFilter
from openlfr.config.models import Settings
from openlfr.store.alert_models import AlertRecord
from openlfr.store.context import Store, open_store
from openlfr.store.db import MIGRATIONS_DIR
from openlfr.store.models import Subject

T0 = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(Settings(data_dir=tmp_path / "var")) as opened:
        with opened.db.session() as session:
            for ref in ("s1", "s2", "s3"):
                session.add(
                    Subject(
                        id=ref,
                        external_ref=ref,
                        category="witness",
                        reason="test",
                        image_source="custody_image",
                        added_by="test",
                        review_by=date(2099, 1, 1),
                    )
                )
        yield opened


def event(subject: str, source: str, at: datetime) -> AlertEvent:
    return AlertEvent(
        alert_id=uuid.uuid4().hex,
        mode="production",
        source=source,
        track_id=1,
        subject_id=subject,
        score=0.7,
        second_score=None,
        evidence=3,
        threshold=0.5,
        frame_index=1,
        frame_time_s=0.0,
        frame_wall_time=at.timestamp(),
        decided_at=at.timestamp(),
        latency_ms=100.0,
        model="fake",
        reference_image="ref",
        probe_jpeg=b"\xff\xd8probe",
        context_jpeg=None,
    )


def put(store: Store, subject: str, minute: float, *, source: str = "cam1", deployment: str | None = "d1") -> str:
    alert = event(subject, source, T0 + timedelta(minutes=minute))
    DbAlertStore(store.db, store.media, deployment_id=deployment).append(alert)
    return alert.alert_id


def keys(store: Store) -> list[str | None]:
    with store.db.session() as session:
        return list(session.scalars(select(AlertRecord.encounter_key).order_by(AlertRecord.seq)))


def test_each_alert_is_stored_with_the_key_of_its_encounter(store: Store) -> None:
    first = put(store, "s1", 0)
    put(store, "s1", 1)
    put(store, "s1", 5.9)  # 4.9 minutes after the previous: the same encounter
    later = put(store, "s1", 12)  # 6.1 minutes: a new one
    other_camera = put(store, "s1", 12.1, source="cam2")
    other_deployment = put(store, "s1", 12.2, deployment="d2")
    no_deployment = put(store, "s1", 12.3, deployment=None)
    other_subject = put(store, "s2", 12.4)
    put(store, "s1", 13)
    put(store, "s1", 13.5, deployment=None)
    assert keys(store) == [
        first, first, first, later, other_camera, other_deployment, no_deployment, other_subject, later, no_deployment
    ]  # fmt: skip


def pages(store: Store, f: AlertFilter, gap_s: float) -> list[list[list[int]]]:
    """Every page of 7 encounters, as the seqs of their members."""
    out: list[list[list[int]]] = []
    before: int | None = None
    with store.db.session() as session:
        while True:
            page = list_encounters(session, f, gap_s=gap_s, limit=7, before_seq=before)
            out.append([[m.seq for m in e.members] for e in page.items])
            if not page.more:
                return out
            before = page.items[-1].newest.seq


@pytest.mark.slow
def test_stored_keys_group_as_the_rule_does_with_true_totals(store: Store) -> None:
    rng = random.Random(15)
    clock = dict.fromkeys(((s, c, d) for s in ("s1", "s2", "s3") for c in ("cam1", "cam2") for d in ("d1", "d2")), 0.0)
    for _ in range(240):
        subject, camera, deployment = rng.choice(sorted(clock))
        clock[(subject, camera, deployment)] += rng.choice((0.5, 1, 2, 4.9, 6, 30))
        put(store, subject, clock[(subject, camera, deployment)], source=camera, deployment=deployment)
    with store.db.session() as session:  # s3 erased: its alerts are kept, never grouped
        session.execute(update(AlertRecord).where(AlertRecord.subject_id == "s3").values(subject_id=None))
    filters = [
        AlertFilter(),
        AlertFilter(source="cam2"),
        AlertFilter(subject_id="s1", deployment_id="d2"),
        AlertFilter(since=T0 + timedelta(minutes=60)),
    ]
    for f in filters:
        stored = pages(store, f, DEFAULT_GAP_S)  # the stored keys (the fast path)
        grouped = pages(store, f, DEFAULT_GAP_S + 1e-9)  # grouped in Python from every row (the rule)
        assert stored == grouped, f
        with store.db.session() as session:
            fast = list_encounters(session, f, gap_s=DEFAULT_GAP_S, limit=5)
            slow = list_encounters(session, f, gap_s=DEFAULT_GAP_S + 1e-9, limit=5)
        assert (fast.total, fast.alerts, fast.more) == (slow.total, slow.alerts, slow.more)
    assert sum(len(page) for page in pages(store, AlertFilter(), DEFAULT_GAP_S)) > 60  # a real mix of encounters


def test_the_migration_gives_alerts_stored_before_it_their_keys(store: Store) -> None:
    ids = [put(store, "s1", m) for m in (0, 1, 10)] + [put(store, "s2", 10.5), put(store, "s1", 11)]
    expected = keys(store)
    assert expected == [ids[0], ids[0], ids[2], ids[3], ids[2]]
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with store.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0300")
    with store.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    assert keys(store) == expected
