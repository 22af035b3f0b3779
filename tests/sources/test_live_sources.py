"""Live sources against real servers: GStreamer RTSP (subprocess) and an HTTP MJPEG camera (thread)."""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers.data import shared_data
from tests.helpers.streams import MjpegServer, RtspServer, free_port, jpeg_frames, require_gstreamer
from tests.helpers.waiting import wait_until

from openlfr.config.models import SourceConfig
from openlfr.sources import FrameSource, SourceHealth, SourceState, open_source
from openlfr.types import Frame

pytestmark = pytest.mark.slow  # real RTSP and MJPEG servers, real reconnect timeouts

PASSWORD = "s3cr3t-Pa55"
FAST_RETRY = SourceConfig(reconnect_min_s=0.1, reconnect_max_s=0.5, open_timeout_s=3, read_timeout_s=2)


def _take(frames: Iterator[Frame], count: int, timeout: float, source: FrameSource) -> list[Frame]:
    """``count`` frames from a live iterator, or fail after ``timeout`` s (close() unblocks the iterator)."""
    timer = threading.Timer(timeout, source.close)
    timer.start()
    try:
        taken = []
        for frame in frames:
            taken.append(frame)
            if len(taken) == count:
                return taken
    finally:
        timer.cancel()
    pytest.fail(f"only {len(taken)} of {count} frames within {timeout} s; health: {source.health()}")


def _wait_for(source: FrameSource, predicate: object, timeout: float) -> SourceHealth:
    assert callable(predicate)
    matched: list[SourceHealth] = []

    def matches() -> bool:
        health = source.health()
        if predicate(health):
            matched.append(health)
            return True
        return False

    if wait_until(matches, timeout):
        return matched[0]
    pytest.fail(f"health never matched within {timeout} s: {source.health()}")


def _assert_redacted(health: SourceHealth) -> None:
    for text in (health.source_id, health.target, health.last_error or ""):
        assert PASSWORD not in text
    assert "***@" in health.target


@pytest.fixture(scope="module")
def jpegs() -> list[bytes]:
    return jpeg_frames(shared_data() / "video" / "hamilton_short.mp4", 25)


def test_rtsp_stream_survives_a_server_restart(hamilton: Path, caplog: pytest.LogCaptureFixture) -> None:
    require_gstreamer()
    caplog.set_level(logging.DEBUG, logger="openlfr")
    with RtspServer(hamilton) as server:
        source = open_source(server.url_with_credentials("admin", PASSWORD), source_id="door", config=FAST_RETRY)
        try:
            assert source.live and source.source_id == "door"
            frames = source.frames()
            before = _take(frames, 10, 15, source)
            assert before[0].image.shape == (360, 640, 3)
            assert source.health().state == SourceState.RUNNING

            server.kill()  # the camera drops...
            _wait_for(source, lambda h: h.state == SourceState.RECONNECTING, 10)
            server.start()  # ...and comes back on the same port
            after = _take(frames, 10, 20, source)

            assert after[0].index > before[-1].index
            assert after[0].captured_at > before[-1].captured_at
            health = source.health()
            assert health.reconnects >= 1 and health.state == SourceState.RUNNING
            assert health.frames_read >= 20
            _assert_redacted(health)
        finally:
            source.close()
    assert source.health().state == SourceState.CLOSED
    assert PASSWORD not in caplog.text
    assert "reconnect" in caplog.text


def test_rtsp_stream_that_hangs_counts_as_lost_after_the_read_timeout(hamilton: Path) -> None:
    require_gstreamer()
    config = SourceConfig(read_timeout_s=1.0, open_timeout_s=1.5, reconnect_min_s=0.1, reconnect_max_s=0.3)
    with RtspServer(hamilton) as server:
        source = open_source(server.url, config=config)
        try:
            _take(source.frames(), 5, 15, source)
            server.pause()  # the TCP connection stays up; no more data
            health = _wait_for(source, lambda h: h.state == SourceState.RECONNECTING, 15)
            assert health.last_error is not None and "stream lost" in health.last_error
        finally:
            source.close()  # the reader may be inside a blocking open against the hung server
            reader_stopped = not source._thread.is_alive()  # close() waits only as long as FFmpeg's own timeouts
            server.resume()
    assert reader_stopped  # ended within close()'s bounded join, not abandoned still blocked


def test_mjpeg_stream_over_http(jpegs: list[bytes]) -> None:
    with MjpegServer(jpegs, fps=25) as server:
        source = open_source(server.url, config=FAST_RETRY)
        try:
            frames = _take(source.frames(), 25, 10, source)
        finally:
            source.close()
    assert frames[0].image.shape == (360, 640, 3)
    assert [f.media_time_s for f in frames] == sorted(f.media_time_s for f in frames)
    health = source.health()
    assert health.state == SourceState.CLOSED and health.live
    assert 10 < health.fps < 40  # the camera sends 25 fps


def test_mjpeg_reconnects_when_the_camera_ends_a_connection(jpegs: list[bytes]) -> None:
    with MjpegServer(jpegs, fps=50, frames_per_connection=15) as server:
        source = open_source(server.url_with_credentials("viewer", PASSWORD), config=FAST_RETRY)
        try:
            frames = _take(source.frames(), 40, 15, source)
            health = source.health()
        finally:
            source.close()
    assert len(frames) == 40
    assert health.reconnects >= 1 and server.connections >= 2
    _assert_redacted(health)


def test_slow_consumer_gets_the_newest_frame_not_a_backlog(jpegs: list[bytes]) -> None:
    with MjpegServer(jpegs, fps=25) as server:
        source = open_source(server.url, config=FAST_RETRY)
        try:
            frames = source.frames()
            _take(frames, 1, 10, source)
            newest, indices = [], []
            for _ in range(3):
                # The consumer is busy while ten camera frames arrive (the reader counts them).
                read = source.health().frames_read
                _wait_for(source, lambda h, read=read: h.frames_read >= read + 10, 60)
                # The newest frame read so far may still be on its way into the slot: the one before it is there.
                newest.append(source.health().frames_read - 2)
                frame = _take(frames, 1, 60, source)[0]
                indices.append(frame.index)
            health = source.health()
        finally:
            source.close()
    assert all(index >= latest for index, latest in zip(indices, newest, strict=True))  # the newest, no backlog
    assert all(b - a >= 5 for a, b in itertools.pairwise(indices))
    assert health.frames_dropped >= 15


@pytest.mark.parametrize("scheme", ["rtsp", "http"])
def test_dead_url_reports_reconnecting_redacted_and_closes_promptly(
    scheme: str, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="openlfr")
    url = f"{scheme}://admin:{PASSWORD}@127.0.0.1:{free_port()}/stream"  # nothing listens there
    source = open_source(url, config=FAST_RETRY)
    try:
        health = _wait_for(source, lambda h: h.state == SourceState.RECONNECTING and h.last_error, 10)
    finally:
        source.close()
    assert not source._thread.is_alive()  # the reconnect wait was cut short: close() leaves no reader behind
    assert health.frames_read == 0 and health.reconnects == 0 and health.last_frame_at is None
    assert "cannot open" in (health.last_error or "")
    _assert_redacted(health)
    assert list(source.frames()) == []  # a closed source yields nothing and does not block
    # Neither our logs nor FFmpeg/OpenCV's own stderr output may carry the password.
    out, err = capfd.readouterr()
    assert PASSWORD not in out + err + caplog.text


def test_gives_up_after_the_configured_attempts() -> None:
    config = SourceConfig(reconnect_min_s=0.05, reconnect_max_s=0.1, max_reconnect_attempts=2)
    source = open_source(f"rtsp://127.0.0.1:{free_port()}/x", config=config)
    try:
        assert list(source.frames()) == []  # ends by itself once the source has failed (a hang: the test timeout)
        health = source.health()
        assert health.state == SourceState.FAILED
        assert health.last_error is not None and "gave up after 2" in health.last_error
    finally:
        source.close()


def test_a_dead_source_does_not_disturb_a_live_one(jpegs: list[bytes]) -> None:
    with MjpegServer(jpegs, fps=25) as server:
        dead = open_source(f"http://127.0.0.1:{free_port()}/x", config=FAST_RETRY)
        alive = open_source(server.url, config=FAST_RETRY)
        try:
            frames = _take(alive.frames(), 20, 10, alive)
            assert len(frames) == 20
            assert dead.health().state == SourceState.RECONNECTING
        finally:
            dead.close()
            alive.close()


def test_missing_webcam_reports_instead_of_raising() -> None:
    source = open_source("webcam:63", config=FAST_RETRY)
    try:
        health = _wait_for(source, lambda h: h.state == SourceState.RECONNECTING, 10)
        assert health.target == "webcam:63" and "webcam:63" in (health.last_error or "")
    finally:
        source.close()
