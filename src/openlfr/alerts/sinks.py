"""Where alerts go after they are stored: a JSONL stream, a webhook (with retries), an in-process bus.

A sink never blocks the pipeline for long and never raises into it: a slow webhook has its own thread and a
bounded queue; a slow bus subscriber loses its oldest events, not the pipeline's time.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import urllib.error
import urllib.request
from typing import IO, Protocol

log = logging.getLogger(__name__)

Record = dict[str, object]


class AlertSink(Protocol):
    name: str

    def push(self, record: Record) -> None:
        """Deliver (or enqueue) one stored alert record; must not raise."""
        ...

    def close(self) -> None:
        """Flush what is pending (bounded wait) and release resources."""
        ...


class JsonlSink:
    """One JSON object per line to a text stream (stdout, or a file opened in append mode)."""

    name = "jsonl"

    def __init__(self, stream: IO[str], *, owns_stream: bool = False) -> None:
        self._stream = stream
        self._owns = owns_stream
        self._lock = threading.Lock()

    def push(self, record: Record) -> None:
        try:
            with self._lock:
                self._stream.write(json.dumps(record) + "\n")
                self._stream.flush()
        except (OSError, ValueError) as exc:
            log.error("jsonl sink: cannot write alert %s: %s", record.get("alert_id"), exc)

    def close(self) -> None:
        if self._owns:
            self._stream.close()


class WebhookSink:
    """POSTs each record as JSON; retries with doubling back-off on network errors and 5xx/429 answers."""

    name = "webhook"

    def __init__(
        self,
        url: str,
        *,
        retries: int = 3,
        backoff_s: float = 0.5,
        timeout_s: float = 5.0,
        queue_size: int = 256,
    ) -> None:
        self.url = url
        self.retries = retries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.delivered = 0
        self.failed = 0
        self._queue: queue.Queue[Record | None] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-sink", daemon=True)
        self._thread.start()

    def push(self, record: Record) -> None:
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            # The record is already in the store; the webhook misses it, and says so.
            self.failed += 1
            log.error("webhook sink: queue full, alert %s not delivered", record.get("alert_id"))

    def close(self, timeout_s: float = 10.0) -> None:
        if self._thread.is_alive():
            with contextlib.suppress(queue.Full):  # a full queue after timeout_s: give up on the backlog
                self._queue.put(None, timeout=timeout_s)
            self._thread.join(timeout_s)
            self._stop.set()

    def _run(self) -> None:
        while True:
            record = self._queue.get()
            if record is None:
                return
            if self._deliver(record):
                self.delivered += 1
            else:
                self.failed += 1

    def _deliver(self, record: Record) -> bool:
        body = json.dumps(record).encode()
        for attempt in range(self.retries + 1):
            if attempt and self._stop.wait(self.backoff_s * 2 ** (attempt - 1)):
                return False
            request = urllib.request.Request(
                self.url, data=body, method="POST", headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    if 200 <= response.status < 300:
                        return True
            except urllib.error.HTTPError as exc:
                if exc.code < 500 and exc.code != 429:
                    log.error("webhook sink: alert %s refused with HTTP %d", record.get("alert_id"), exc.code)
                    return False
                log.warning("webhook sink: HTTP %d (attempt %d)", exc.code, attempt + 1)
            except (urllib.error.URLError, OSError) as exc:
                log.warning("webhook sink: %s (attempt %d)", exc, attempt + 1)
        log.error("webhook sink: alert %s not delivered after %d attempts", record.get("alert_id"), self.retries + 1)
        return False


class AlertBus:
    """In-process publish/subscribe (the console's live stream listens to it)."""

    name = "bus"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[queue.Queue[Record]] = []
        self._published = 0

    def subscribe(self, maxsize: int = 100) -> queue.Queue[Record]:
        subscriber: queue.Queue[Record] = queue.Queue(maxsize=maxsize)
        with self._lock:
            self._subscribers.append(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: queue.Queue[Record]) -> None:
        with self._lock:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

    def count(self) -> int:
        """Records pushed since the bus was created (inside `lfr serve`: every alert stored)."""
        with self._lock:
            return self._published

    def push(self, record: Record) -> None:
        with self._lock:
            self._published += 1
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            while True:
                try:
                    subscriber.put_nowait(record)
                    break
                except queue.Full:
                    with contextlib.suppress(queue.Empty):  # a slow subscriber loses its oldest event
                        subscriber.get_nowait()

    def close(self) -> None:
        with self._lock:
            self._subscribers.clear()
