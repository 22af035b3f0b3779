from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers.data import shared_data

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
