"""Thread-safe counters behind ``SourceHealth``: written by the reading side, snapshotted by anyone."""

from __future__ import annotations

import threading
import time
from collections import deque

from openlfr.sources.base import SourceHealth, SourceState
from openlfr.sources.redact import redact

_FPS_WINDOW = 30  # frames; long enough to smooth jitter, short enough to follow a rate change in ~1 s


class HealthTracker:
    def __init__(self, source_id: str, target: str, *, live: bool) -> None:
        self._lock = threading.Lock()
        self._source_id = source_id
        self._target = redact(target)
        self._live = live
        self._state = SourceState.STARTING
        self._times: deque[float] = deque(maxlen=_FPS_WINDOW)
        self._frames_read = 0
        self._frames_dropped = 0
        self._reconnects = 0
        self._last_frame_at: float | None = None
        self._last_error: str | None = None

    @property
    def state(self) -> SourceState:
        with self._lock:
            return self._state

    def frame_read(self, captured_at: float) -> int:
        """Record one decoded frame; returns its 0-based index among all frames read."""
        with self._lock:
            index = self._frames_read
            self._frames_read += 1
            self._times.append(captured_at)
            self._last_frame_at = time.time()
            if self._state in (SourceState.STARTING, SourceState.RECONNECTING):
                self._state = SourceState.RUNNING
            return index

    def frame_dropped(self, count: int = 1) -> None:
        with self._lock:
            self._frames_dropped += count

    def frames_missed(self, seconds: float, fps: float) -> None:
        """A real-time file's reader fell ``seconds`` behind and its pacer moved on (``Pacer.wait_until``): the
        frames a camera at ``fps`` would have sent meanwhile count as dropped, as a live camera's would."""
        if seconds > 0:
            self.frame_dropped(round(seconds * fps))

    def reconnected(self) -> None:
        with self._lock:
            self._reconnects += 1

    def set_state(self, state: SourceState, error: str | None = None) -> None:
        """Move to ``state``; CLOSED is final (a decode thread finishing late must not overwrite it)."""
        with self._lock:
            if self._state is SourceState.CLOSED:
                return
            self._state = state
            if state in (SourceState.RECONNECTING, SourceState.FAILED):
                self._times.clear()  # the measured rate restarts from the next frame, not from before the loss
            if error is not None:
                self._last_error = redact(error)

    def note_error(self, error: str) -> None:
        with self._lock:
            self._last_error = redact(error)

    def snapshot(self) -> SourceHealth:
        with self._lock:
            return SourceHealth(
                source_id=self._source_id,
                target=self._target,
                live=self._live,
                state=self._state,
                fps=self._fps(),
                frames_read=self._frames_read,
                frames_dropped=self._frames_dropped,
                reconnects=self._reconnects,
                last_frame_at=self._last_frame_at,
                last_error=self._last_error,
            )

    def _fps(self) -> float:
        if len(self._times) < 2:
            return 0.0
        span = self._times[-1] - self._times[0]
        return (len(self._times) - 1) / span if span > 0 else 0.0
