"""Where alerts go after they are stored: a JSONL stream, an in-process bus.

A sink never blocks the pipeline for long and never raises into it: a slow bus subscriber loses its oldest
events, not the pipeline's time. There is deliberately no network sink: the system stands alone, and an alert
(personal data of a listed person) leaves the machine only through the authenticated API.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
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
