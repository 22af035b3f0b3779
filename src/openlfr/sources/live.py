"""Live sources (RTSP/HTTP streams, webcams): decode on their own thread, keep only the newest frame.

A consumer slower than the camera gets the newest frame each time it asks, never a backlog; frames
overwritten unseen count as dropped. A lost or unreachable stream is re-opened with capped exponential
backoff (``SourceConfig``) until ``close()`` or, if configured, too many failures in a row.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

from openlfr.config.models import SourceConfig
from openlfr.errors import SourceError
from openlfr.sources.backoff import Backoff
from openlfr.sources.base import SourceHealth, SourceState
from openlfr.sources.capture import Capture, open_stream, open_webcam, read_frame
from openlfr.sources.redact import redact
from openlfr.sources.stats import HealthTracker
from openlfr.types import Frame

log = logging.getLogger(__name__)

# Extra time close() waits beyond the longest blocking FFmpeg call (open or read timeout).
_JOIN_MARGIN_S = 1.0


class LatestFrameSlot:
    """A one-frame mailbox: ``put`` replaces, ``take`` waits for a frame not yet taken."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._closed = False

    def put(self, frame: Frame) -> bool:
        """Store ``frame``; True when it replaced one nobody had taken (a drop)."""
        with self._cond:
            dropped = self._frame is not None
            self._frame = frame
            self._cond.notify_all()
            return dropped

    def take(self) -> Frame | None:
        """The newest untaken frame, waiting for one; None once closed."""
        with self._cond:
            while self._frame is None and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            frame, self._frame = self._frame, None
            return frame

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._frame = None
            self._cond.notify_all()


class LiveSource:
    """The reading thread and reconnect loop shared by every live backend; ``opener`` opens one capture."""

    live = True

    def __init__(self, opener: Callable[[], Capture], *, target: str, source_id: str, config: SourceConfig) -> None:
        self._opener = opener
        self._target = redact(target)
        self._source_id = source_id
        self._config = config
        self._health = HealthTracker(source_id, target, live=True)
        self._slot = LatestFrameSlot()
        self._stop = threading.Event()
        self._started_at = time.monotonic()
        self._iterated = False
        self._close_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"lfr-source-{self._target}", daemon=True)
        self._thread.start()

    @property
    def source_id(self) -> str:
        return self._source_id

    def health(self) -> SourceHealth:
        return self._health.snapshot()

    def frames(self) -> Iterator[Frame]:
        if self._iterated:
            raise RuntimeError(f"source {self._source_id}: frames() can be iterated only once")
        self._iterated = True
        return self._generate()

    def _generate(self) -> Iterator[Frame]:
        while (frame := self._slot.take()) is not None:
            yield frame

    def close(self) -> None:
        """Stop the thread and wait for it. Prompt unless FFmpeg is inside a blocking open/read, which its
        own timeouts bound (the capture cannot safely be torn down under it from another thread)."""
        with self._close_lock:
            self._stop.set()
            self._health.set_state(SourceState.CLOSED)
            self._slot.close()
            if threading.current_thread() is not self._thread:
                limit = max(self._config.open_timeout_s, self._config.read_timeout_s) + _JOIN_MARGIN_S
                self._thread.join(limit)
                if self._thread.is_alive():
                    log.warning("source %s: reader thread still blocked after %.1f s", self._source_id, limit)

    # --- the reading thread ------------------------------------------------------------------------
    def _run(self) -> None:
        backoff = Backoff(
            self._config.reconnect_min_s,
            max(self._config.reconnect_max_s, self._config.reconnect_min_s),
            self._config.reconnect_jitter,
        )
        connected_before = False
        try:
            while not self._stop.is_set():
                capture = self._try_open()
                if capture is not None:
                    if connected_before:
                        self._health.reconnected()
                        log.info("source %s: reconnected to %s", self._source_id, self._target)
                    connected_before = True
                    if self._pump(capture):
                        backoff.reset()  # only a connection that delivered frames proves the stream is back
                if self._stop.is_set() or self._gave_up(backoff.failures):
                    break
                self._stop.wait(backoff.next_delay())
        except Exception as exc:  # a bug here must mark this source failed, not kill the process quietly
            log.exception("source %s: reader thread crashed", self._source_id)
            self._health.set_state(SourceState.FAILED, f"internal error: {type(exc).__name__}: {redact(str(exc))}")
        finally:
            self._slot.close()

    def _try_open(self) -> Capture | None:
        try:
            return self._opener()
        except SourceError as exc:
            self._health.set_state(SourceState.RECONNECTING, str(exc))
            log.debug("source %s: %s", self._source_id, redact(str(exc)))
            return None

    def _pump(self, capture: Capture) -> bool:
        """Read until the stream fails or stop; True when at least one frame arrived."""
        got_any = False
        try:
            while not self._stop.is_set():
                image = read_frame(capture)
                if image is None:
                    break
                captured_at = time.monotonic()
                index = self._health.frame_read(captured_at)
                if self._slot.put(Frame(self._source_id, index, image, captured_at, captured_at - self._started_at)):
                    self._health.frame_dropped()
                got_any = True
        finally:
            capture.release()
        if not self._stop.is_set():
            reason = "stream lost (ended, closed by the server, or no frame within the read timeout)"
            self._health.set_state(SourceState.RECONNECTING, reason)
            log.warning("source %s: %s; reconnecting", self._source_id, reason)
        return got_any

    def _gave_up(self, failures: int) -> bool:
        limit = self._config.max_reconnect_attempts
        if limit is None or failures < limit:
            return False
        message = f"gave up after {failures} failed reconnect attempts"
        last = self._health.snapshot().last_error
        self._health.set_state(SourceState.FAILED, f"{message}; last error: {last}" if last else message)
        log.error("source %s: %s", self._source_id, message)
        return True


class StreamSource(LiveSource):
    """An RTSP or HTTP(S) stream (MJPEG, or anything FFmpeg demuxes), read through FFmpeg."""

    def __init__(self, url: str, *, source_id: str, config: SourceConfig) -> None:
        super().__init__(
            lambda: open_stream(url, open_timeout_s=config.open_timeout_s, read_timeout_s=config.read_timeout_s),
            target=url,
            source_id=source_id,
            config=config,
        )


class WebcamSource(LiveSource):
    """A local camera by index (``/dev/videoN`` on Linux)."""

    def __init__(self, index: int, *, source_id: str, config: SourceConfig) -> None:
        super().__init__(lambda: open_webcam(index), target=f"webcam:{index}", source_id=source_id, config=config)
