"""Store, dispatcher and sinks: persistence before push, durable file layout, the bus."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from openlfr.alerts.dispatch import AlertDispatcher
from openlfr.alerts.event import AlertEvent
from openlfr.alerts.sinks import AlertBus, JsonlSink, Record
from openlfr.alerts.store import FileAlertStore
from openlfr.pipeline.thresholds import SFACE_INT8BQ


def event(alert_id: str = "a1", context: bytes | None = b"\xff\xd8context") -> AlertEvent:
    return AlertEvent(
        alert_id=alert_id,
        mode="evaluation",
        source="cam1",
        track_id=7,
        subject_id="alice",
        score=0.61234,
        second_score=0.2,
        evidence=3,
        threshold=SFACE_INT8BQ.threshold,
        frame_index=12,
        frame_time_s=0.48,
        frame_wall_time=1000.0,
        decided_at=1000.1,
        latency_ms=100.0,
        model="fake",
        reference_image="wl/alice/1.jpg",
        probe_jpeg=b"\xff\xd8probe",
        context_jpeg=context,
    )


def test_file_store_writes_media_then_record(tmp_path: Path) -> None:
    store = FileAlertStore(tmp_path / "alerts")
    record = store.append(event())
    store.append(event("a2", context=None))
    store.close()
    assert Path(str(record["probe_image"])).read_bytes() == b"\xff\xd8probe"
    assert Path(str(record["context_image"])).read_bytes() == b"\xff\xd8context"
    records = FileAlertStore(tmp_path / "alerts").records()
    assert [r["alert_id"] for r in records] == ["a1", "a2"]
    assert "context_image" not in records[1]
    assert records[0]["subject_id"] == "alice" and records[0]["mode"] == "evaluation"
    assert not list((tmp_path / "alerts" / "media").glob("*.part"))


class RecordingSink:
    name = "recording"

    def __init__(self, store: FileAlertStore, seen: list[str]) -> None:
        self.store = store
        self.seen = seen

    def push(self, record: Record) -> None:
        # The record must already be readable from the store when a sink hears of it.
        stored = [r["alert_id"] for r in self.store.records()]
        self.seen.append(f"{record['alert_id']}:stored={record['alert_id'] in stored}")

    def close(self) -> None:
        self.seen.append("closed")


def test_dispatcher_persists_before_push(tmp_path: Path) -> None:
    store = FileAlertStore(tmp_path)
    seen: list[str] = []
    dispatcher = AlertDispatcher(store, [RecordingSink(store, seen)])
    dispatcher.publish(event("x"))
    dispatcher.close()
    assert seen == ["x:stored=True", "closed"]


class FailingStore:
    def append(self, event: AlertEvent) -> dict[str, object]:
        raise OSError("disk full")

    def close(self) -> None:
        pass


def test_no_push_when_store_fails() -> None:
    stream = io.StringIO()
    dispatcher = AlertDispatcher(FailingStore(), [JsonlSink(stream)])
    with pytest.raises(OSError, match="disk full"):
        dispatcher.publish(event())
    assert stream.getvalue() == ""


def test_jsonl_sink_one_line_per_alert() -> None:
    stream = io.StringIO()
    sink = JsonlSink(stream)
    sink.push({"alert_id": "a", "score": 0.5})
    sink.push({"alert_id": "b", "score": 0.6})
    assert [json.loads(line)["alert_id"] for line in stream.getvalue().splitlines()] == ["a", "b"]


def test_bus_fans_out_and_drops_oldest_for_slow_subscribers() -> None:
    bus = AlertBus()
    fast = bus.subscribe(maxsize=10)
    slow = bus.subscribe(maxsize=2)
    for i in range(4):
        bus.push({"alert_id": str(i)})
    assert [fast.get_nowait()["alert_id"] for _ in range(4)] == ["0", "1", "2", "3"]
    assert [slow.get_nowait()["alert_id"] for _ in range(2)] == ["2", "3"]
    bus.unsubscribe(fast)
    bus.push({"alert_id": "4"})
    assert fast.empty()
