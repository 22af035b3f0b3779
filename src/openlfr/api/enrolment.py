"""Enrolment of uploaded reference images: one at a time, on a face engine built on first use."""

from __future__ import annotations

import threading
from collections.abc import Callable

from openlfr.engine import FaceEngine
from openlfr.store.context import Store
from openlfr.watchlists.enrol import Enroller, EnrolRequest
from openlfr.watchlists.types import EnrolResult


class UploadEnroller:
    def __init__(self, store: Store, engine_factory: Callable[[], FaceEngine], duplicate_threshold: float) -> None:
        self.store = store
        self.engine_factory = engine_factory
        self.duplicate_threshold = duplicate_threshold
        self._engine: FaceEngine | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> FaceEngine:
        if self._engine is None:
            self._engine = self.engine_factory()
        return self._engine

    def enrol(self, request: EnrolRequest) -> EnrolResult:
        # A fresh Enroller per upload: its duplicate-identity gallery then reflects erasures made meanwhile.
        with self._lock:
            return Enroller(self.store, self.engine, self.duplicate_threshold).enrol(request)
