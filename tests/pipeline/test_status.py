"""The pipeline's public face: ``WatchPipeline.status()`` reports per camera what it counted, as frozen records,
and the run's alert latencies stay bounded however long it runs."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest
from tests.pipeline.conftest import ListSource, fake_watchlist, scene

from openlfr.alerts.dispatch import AlertDispatcher
from openlfr.alerts.store import FileAlertStore
from openlfr.engine import FaceEngine
from openlfr.pipeline.app import WatchPipeline
from openlfr.pipeline.config import PipelineConfig
from openlfr.pipeline.runner import _TIMING_WINDOW, RunnerStats
from openlfr.pipeline.status import CameraStatus, PipelineStatus

CONFIG = PipelineConfig(threshold=0.99, margin=0.005)


def _walk(seed: int, frames: int, y: int) -> list[tuple[int, int, int]]:
    return [(seed, 10 + 4 * i, y) for i in range(frames)]


def test_status_reports_each_camera_and_the_totals(fake_engine: FaceEngine, tmp_path: Path) -> None:
    listed = [scene([a, b]) for a, b in zip(_walk(0, 20, 60), _walk(3, 20, 170), strict=True)]
    empty = [scene([]) for _ in range(5)]
    sources = [ListSource("door", listed), ListSource("yard", empty)]
    pipeline = WatchPipeline(
        fake_engine,
        fake_watchlist(fake_engine, (0, 1)),
        sources,
        AlertDispatcher(FileAlertStore(tmp_path), []),
        CONFIG,
    )
    before = pipeline.status()
    assert isinstance(before, PipelineStatus) and before.frames == 0 and before.frame_latency.count == 0
    assert before.cameras[0].latency_p50_ms is None  # no frame decided yet
    summary = pipeline.run(threading.Event())
    status = pipeline.status()
    door, yard = status.cameras
    assert isinstance(door, CameraStatus) and (door.source_id, yard.source_id) == ("door", "yard")
    assert (door.frames, door.faces, door.alerts) == (20, 40, 1)
    assert door.tracks == 2 and yard.tracks == 0  # two people walked past the door, nobody past the yard
    assert (yard.frames, yard.faces, yard.alerts) == (5, 0, 0)
    assert door.queue_depth == 0 and door.frames_dropped == 0 and door.error is None
    assert door.latency.count == 20 and yard.latency.count == 5
    assert door.latency_p50_ms is not None and door.latency_p50_ms >= 0
    assert str(door.source.state) == "closed" and door.source.source_id == "door"  # the run closed it
    # The totals are the run summary's.
    assert (status.frames, status.faces, status.tracks, status.alerts) == (
        summary.frames,
        summary.faces,
        summary.tracks,
        summary.alerts,
    )
    assert status.tracks_unexamined == summary.tracks_unexamined
    assert status.frame_latency.count == 25 and status.alert_latency.count == 1
    assert status.camera("yard") is yard and status.camera("nowhere") is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        door.frames = 0  # type: ignore[misc]


def test_alert_latencies_are_a_bounded_window() -> None:
    """A deployment runs for weeks: the latencies kept for the run summary must not grow with every alert."""
    stats = RunnerStats()
    for i in range(_TIMING_WINDOW + 10):
        stats.alert_latency_ms.append(float(i))
    assert len(stats.alert_latency_ms) == _TIMING_WINDOW
    assert stats.alert_latency_ms[0] == 10.0  # the oldest went first
