"""The small parts behind the sources: redaction, backoff, the latest-frame slot, config, spec parsing."""

from __future__ import annotations

import random
import subprocess
import sys
import threading

import numpy as np
import pytest
from pydantic import ValidationError
from tests.helpers.waiting import GENEROUS_S

from openlfr.config.models import SourceConfig
from openlfr.sources import SourceState, redact
from openlfr.sources.backoff import Backoff
from openlfr.sources.live import LatestFrameSlot
from openlfr.sources.stats import HealthTracker
from openlfr.types import Frame


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rtsp://user:pass@10.0.0.5:554/live", "rtsp://***@10.0.0.5:554/live"),
        ("rtsp://admin@cam/x", "rtsp://***@cam/x"),
        ("http://u:p%40ss:w@cam/mjpg?x=1", "http://***@cam/mjpg?x=1"),
        ("error opening rtsp://a:b@h/s: refused", "error opening rtsp://***@h/s: refused"),
        ("http://cam/video.cgi?user=admin&pwd=secret&res=hd", "http://cam/video.cgi?user=***&pwd=***&res=hd"),
        ("http://cam/stream?token=abc123", "http://cam/stream?token=***"),
        ("rtsp://cam.local/stream", "rtsp://cam.local/stream"),
        ("/videos/a@b.mp4", "/videos/a@b.mp4"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_backoff_doubles_to_the_cap_and_resets() -> None:
    backoff = Backoff(0.5, 10.0, jitter=0.0)
    assert [backoff.next_delay() for _ in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert backoff.failures == 7
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_backoff_jitter_stays_in_bounds_and_varies() -> None:
    backoff = Backoff(1.0, 4.0, jitter=0.2, rng=random.Random(7))
    first = [backoff.next_delay() for _ in range(200)]
    assert 0.8 <= first[0] <= 1.2
    assert all(0.8 <= d <= 4.0 for d in first)
    assert len({round(d, 6) for d in first[10:]}) > 10  # jittered, not lockstep
    many = Backoff(1.0, 2.0, jitter=0.0)
    for _ in range(10_000):  # a source down for a very long time cannot overflow
        delay = many.next_delay()
    assert delay == 2.0


def test_backoff_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        Backoff(0, 1)
    with pytest.raises(ValueError):
        Backoff(2, 1)
    with pytest.raises(ValueError):
        Backoff(1, 2, jitter=1.5)


def _frame(index: int) -> Frame:
    return Frame("s", index, np.zeros((2, 2, 3), np.uint8), float(index), float(index))


def test_slot_keeps_only_the_newest_frame() -> None:
    slot = LatestFrameSlot()
    assert slot.put(_frame(0)) is False
    assert slot.put(_frame(1)) is True  # frame 0 was never taken: a drop
    assert slot.put(_frame(2)) is True
    taken = slot.take()
    assert taken is not None and taken.index == 2
    assert slot.put(_frame(3)) is False


def test_slot_take_waits_and_close_wakes_it() -> None:
    slot = LatestFrameSlot()
    results: list[Frame | None] = []
    waiter = threading.Thread(target=lambda: results.append(slot.take()))
    waiter.start()
    waiter.join(0.1)
    assert waiter.is_alive()  # nothing to take yet
    slot.close()
    waiter.join(GENEROUS_S)  # close() wakes it: a hang fails here, however slow the machine
    assert not waiter.is_alive() and results == [None]
    slot.put(_frame(1))
    assert slot.take() is None  # closed for good


def test_health_tracker_counts_and_redacts() -> None:
    tracker = HealthTracker("cam", "rtsp://u:pw@h/s", live=True)
    assert tracker.snapshot().state == SourceState.STARTING
    for i in range(11):
        assert tracker.frame_read(i * 0.1) == i
    assert tracker.snapshot().fps == pytest.approx(10.0)
    tracker.frame_dropped()
    tracker.set_state(SourceState.RECONNECTING, "lost rtsp://u:pw@h/s")
    health = tracker.snapshot()
    assert health.target == "rtsp://***@h/s" and health.last_error == "lost rtsp://***@h/s"
    assert health.fps == 0.0  # nothing arrives while reconnecting
    assert (health.frames_read, health.frames_dropped) == (11, 1)
    tracker.set_state(SourceState.CLOSED)
    tracker.set_state(SourceState.RECONNECTING, "late")
    assert tracker.snapshot().state == SourceState.CLOSED  # closed is final
    assert SourceState.CLOSED == "closed"


def test_source_config_defaults_and_validation() -> None:
    config = SourceConfig()
    assert (config.reconnect_min_s, config.reconnect_max_s) == (0.5, 10.0)
    assert config.max_reconnect_attempts is None
    with pytest.raises(ValidationError):
        SourceConfig(reconnect_min_s=0)
    with pytest.raises(ValidationError):
        SourceConfig.model_validate({"reconnect_min": 1})  # unknown keys are errors


@pytest.mark.slow
def test_importing_the_package_loads_no_decoder() -> None:
    code = "import sys, openlfr.sources; assert 'cv2' not in sys.modules, 'cv2 imported at import time'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
