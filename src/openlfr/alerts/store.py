"""Durable alert persistence: the ``AlertStore`` protocol and an append-only file implementation.

An alert is on disk (fsynced) before any sink hears of it: an operator must never be shown an alert the
system cannot produce afterwards. ``openlfr.alerts.db_store.DbAlertStore`` implements it on the database.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from openlfr.alerts.event import AlertEvent
from openlfr.errors import OpenLFRError


class SubjectGoneError(OpenLFRError):
    """The store refused an alert because its subject no longer exists (erased): nothing of it was kept."""

    code = "subject_erased"


@runtime_checkable
class AlertStore(Protocol):
    def append(self, event: AlertEvent) -> dict[str, object]:
        """Persist ``event`` durably; return its record (with references to stored media). Raises on failure;
        SubjectGoneError when the store knows the subject and it has been erased (nothing stored then)."""
        ...

    def close(self) -> None: ...


def _write_durably(path: Path, data: bytes) -> None:
    # Write to a temporary name, fsync, then rename: a crash leaves either nothing or the whole file.
    partial = path.with_name(path.name + ".part")
    with partial.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileAlertStore:
    """``DIR/alerts.jsonl`` (one record per line, append-only) and ``DIR/media/<alert_id>-{probe,context}.jpg``.

    Only alerts reach this store, i.e. faces that matched a watchlist subject; nothing of a non-match does.
    Media are written and fsynced before the record line that refers to them, and the line before ``append``
    returns.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.media = directory / "media"
        self._lock = threading.Lock()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._log: BinaryIO | None = None  # opened on the first alert: a run without alerts leaves no file

    def append(self, event: AlertEvent) -> dict[str, object]:
        record = event.as_record()
        with self._lock:
            self.media.mkdir(exist_ok=True)
            probe = self.media / f"{event.alert_id}-probe.jpg"
            _write_durably(probe, event.probe_jpeg)
            record["probe_image"] = str(probe)
            if event.context_jpeg is not None:
                context = self.media / f"{event.alert_id}-context.jpg"
                _write_durably(context, event.context_jpeg)
                record["context_image"] = str(context)
            _fsync_dir(self.media)
            if self._log is None:
                self._log = (self.directory / "alerts.jsonl").open("ab")
            self._log.write(json.dumps(record, sort_keys=False).encode() + b"\n")
            self._log.flush()
            os.fsync(self._log.fileno())
        return record

    def close(self) -> None:
        with self._lock:
            if self._log is not None:
                self._log.close()
                self._log = None

    def records(self) -> list[dict[str, object]]:
        """Every stored record, oldest first."""
        path = self.directory / "alerts.jsonl"
        if not path.exists():
            return []
        with path.open("rb") as handle:
            return [json.loads(line) for line in handle if line.strip()]
