"""Plays media timestamps back at wall-clock speed (``realtime=True`` file sources)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# Behind schedule by more than this (a slow consumer, a paused debugger): restart the clock from now
# rather than burst through the missed frames to catch up.
_MAX_LAG_S = 1.0


class Pacer:
    def __init__(self, stop: threading.Event, clock: Callable[[], float] = time.monotonic) -> None:
        """``clock``: monotonic seconds (tests inject one; waiting goes through ``stop.wait``)."""
        self._stop = stop
        self._clock = clock
        self._origin: tuple[float, float] | None = None  # (wall monotonic, media time) pair

    def wait_until(self, media_time_s: float) -> float:
        """Sleep until ``media_time_s`` is due; returns early when the stop event is set. Returns the seconds
        of wall-clock time given up when the consumer had fallen more than ``_MAX_LAG_S`` behind and the clock
        restarted (0.0 otherwise): a live camera would have gone on sending frames through them."""
        now = self._clock()
        if self._origin is None or media_time_s < self._origin[1]:  # first frame, or a loop restarted
            self._origin = (now, media_time_s)
            return 0.0
        due = self._origin[0] + (media_time_s - self._origin[1])
        lag = now - due
        if lag > _MAX_LAG_S:
            self._origin = (now, media_time_s)
            return lag
        if due > now:
            self._stop.wait(due - now)
        return 0.0
