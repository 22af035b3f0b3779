"""Persist first, then push: the only path an alert takes out of the pipeline."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from openlfr.alerts.event import AlertEvent
from openlfr.alerts.sinks import AlertSink, Record
from openlfr.alerts.store import AlertStore

log = logging.getLogger(__name__)


class AlertDispatcher:
    def __init__(self, store: AlertStore, sinks: Sequence[AlertSink]) -> None:
        self.store = store
        self.sinks = tuple(sinks)
        self.published = 0

    def publish(self, event: AlertEvent) -> Record:
        """Store ``event`` durably, then hand its record to every sink. A store failure raises (and no sink
        hears of the alert); a sink failure is the sink's to log."""
        record = self.store.append(event)
        self.published += 1
        log.info("alert %s: %s on %s (score %.3f)", event.alert_id, event.subject_id, event.source, event.score)
        for sink in self.sinks:
            sink.push(record)
        return record

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()
        self.store.close()
