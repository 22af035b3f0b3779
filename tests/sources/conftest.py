from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.deployments.helpers import make_snapshot
from tests.helpers.console import live_deployment
from tests.helpers.data import shared_data

from openlfr.config.models import Settings
from openlfr.sources import FrameSource, open_source
from openlfr.store.camera_models import CameraRecord
from openlfr.store.context import open_store
from openlfr.store.models import new_id

SOURCE_THREAD_PREFIX = "lfr-source-"


@pytest.fixture
def video_dir() -> Path:
    return shared_data() / "video"


@pytest.fixture
def hamilton(video_dir: Path) -> Path:
    return video_dir / "hamilton_short.mp4"


@pytest.fixture(autouse=True)
def no_leaked_source_threads() -> Iterator[None]:
    """Every test must leave no reader thread of its own behind (one failed test must not fail the next)."""
    before = set(threading.enumerate())
    yield
    leaked = [t.name for t in set(threading.enumerate()) - before if t.name.startswith(SOURCE_THREAD_PREFIX)]
    assert not leaked, f"source threads still running after the test: {leaked}"


OpenLive = Callable[..., FrameSource]


@pytest.fixture
def open_live(tmp_path_factory: pytest.TempPathFactory) -> OpenLive:
    """``open_source`` for a live spec, under the mandate of a live deployment that names it as a registered
    camera: the only way a live source opens."""

    def opener(spec: str, **kwargs: object) -> FrameSource:
        settings = Settings(data_dir=tmp_path_factory.mktemp("deployment"))
        with open_store(settings) as store:
            with store.db.session() as session:
                snapshot_id = make_snapshot(session).id
                session.add(CameraRecord(name=f"camera-{new_id()[:8]}", source=spec, created_by="test"))
                session.flush()
                camera_ids = [c.id for c in session.scalars(select(CameraRecord).where(CameraRecord.source == spec))]
            mandate = live_deployment(store, snapshot_id, camera_ids)
        return open_source(spec, mandate=mandate, **kwargs)  # type: ignore[arg-type]

    return opener
