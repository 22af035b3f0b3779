"""Persist first, then push: the only path an alert takes out of the pipeline.

Erasure: ``forget(subject_ids)`` makes the dispatcher drop every later alert about those subjects, stored
or pushed nowhere. ``publish`` holds a lock from its check to its last push, and ``forget`` takes the same
lock, so when ``forget`` returns no alert about a forgotten subject is being stored or pushed, and none will
be (``openlfr.watchlists.erase`` calls it, through the pipelines, before ``erase_subject`` returns). A store
that refuses an alert because its subject is gone (``SubjectGoneError``: erased by another process) is
treated the same way: dropped, and the subject forgotten.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence

from openlfr.alerts.event import AlertEvent
from openlfr.alerts.sinks import AlertSink, Record
from openlfr.alerts.store import AlertStore, SubjectGoneError

log = logging.getLogger(__name__)


class AlertDispatcher:
    def __init__(self, store: AlertStore, sinks: Sequence[AlertSink]) -> None:
        self.store = store
        self.sinks = tuple(sinks)
        self.published = 0
        self.dropped_erased = 0
        """alerts dropped because their subject was erased meanwhile"""
        self._forgotten: set[str] = set()
        self._lock = threading.Lock()

    def forget(self, subject_ids: Iterable[str]) -> None:
        """Drop every alert about ``subject_ids`` from now on; returns once no publish is in progress."""
        with self._lock:
            self._forgotten.update(subject_ids)

    def publish(self, event: AlertEvent) -> Record | None:
        """Store ``event`` durably, then hand its record to every sink; None (nothing stored, nobody told) when
        its subject was erased. A store failure raises (and no sink hears of the alert); a sink failure is the
        sink's to log."""
        with self._lock:
            if event.subject_id in self._forgotten:
                self._drop(event)
                return None
            try:
                record = self.store.append(event)
            except SubjectGoneError:
                self._forgotten.add(event.subject_id)
                self._drop(event)
                return None
            self.published += 1
            log.info("alert %s: %s on %s (score %.3f)", event.alert_id, event.subject_id, event.source, event.score)
            for sink in self.sinks:
                sink.push(record)
            return record

    def _drop(self, event: AlertEvent) -> None:
        self.dropped_erased += 1
        log.info("alert %s dropped: its subject was erased", event.alert_id)

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()
        self.store.close()
