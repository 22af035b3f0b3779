"""Fakes for pipeline tests: textured bright squares are faces (FakeDetector), a list is a camera."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from tests.helpers.waiting import GENEROUS_S

from openlfr.config.models import EngineConfig, FakeDetectorConfig, FakeEmbedderConfig, Settings
from openlfr.engine import FaceEngine
from openlfr.pipeline.gallery import WatchlistSnapshot, build_snapshot
from openlfr.sources.base import SourceHealth, SourceState
from openlfr.types import Frame, ImageBGR

FACE = 48
HEIGHT, WIDTH = 240, 320


def texture(seed: int) -> ImageBGR:
    """A 48×48 "face": a 4×4 pattern of grey levels 200/255 (all bright enough to be one fake-detector blob).
    Seeds 0-3 give fake embeddings ≥ 0.99 alike for the same seed and ≤ 0.97 across seeds."""
    pattern = np.random.default_rng(seed).integers(0, 2, (4, 4))
    grey = np.kron(pattern, np.ones((FACE // 4, FACE // 4))) * 55 + 200
    return np.repeat(grey[:, :, None], 3, axis=2).astype(np.uint8)


def scene(faces: Sequence[tuple[int, int, int]]) -> ImageBGR:
    """A dark frame with one textured face per (seed, x, y)."""
    image = np.full((HEIGHT, WIDTH, 3), 30, np.uint8)
    for seed, x, y in faces:
        image[y : y + FACE, x : x + FACE] = texture(seed)
    return image


class ListSource:
    """A FrameSource over a list of images (media time: index / fps); ``endless`` repeats the last one;
    ``passes`` plays the list that many times, the media clock restarting at 0 each time (a looping file)."""

    def __init__(
        self,
        source_id: str,
        images: Sequence[ImageBGR],
        *,
        fps: float = 25.0,
        endless: bool = False,
        passes: int = 1,
    ):
        self._id = source_id
        self._images = list(images) * passes
        self._pass_length = len(images)
        self._fps = fps
        self._endless = endless
        self._closed = threading.Event()
        self.live = endless
        self.delivered = 0
        """frames handed out so far (tests wait on this, not on the clock)"""
        self._progress = threading.Condition()

    def wait_delivered(self, count: int, timeout_s: float = GENEROUS_S) -> bool:
        """Block until ``count`` frames were handed out; the timeout only bounds a hang."""
        with self._progress:
            return self._progress.wait_for(lambda: self.delivered >= count, timeout_s)

    @property
    def source_id(self) -> str:
        return self._id

    def frames(self) -> Iterator[Frame]:
        index = 0
        while not self._closed.is_set():
            if index >= len(self._images) and not self._endless:
                return
            image = self._images[min(index, len(self._images) - 1)]
            with self._progress:
                self.delivered += 1
                self._progress.notify_all()
            yield Frame(self._id, index, image, time.monotonic(), (index % self._pass_length) / self._fps)
            index += 1
            if self._endless:
                time.sleep(0.005)

    def close(self) -> None:
        self._closed.set()

    def health(self) -> SourceHealth:
        state = SourceState.CLOSED if self._closed.is_set() else SourceState.RUNNING
        return SourceHealth(self._id, "list", self.live, state, 0.0, 0, 0, 0, None, None)


@pytest.fixture
def fake_engine(tmp_path: Path) -> FaceEngine:
    config = EngineConfig(detector=FakeDetectorConfig(), embedder=FakeEmbedderConfig())
    return FaceEngine.from_settings(Settings(engine=config, cache_dir=tmp_path / "cache"))


def fake_watchlist(engine: FaceEngine, seeds: Sequence[int]) -> WatchlistSnapshot:
    vectors = []
    for seed in seeds:
        face = engine.analyse(scene([(seed, 100, 80)])).largest
        assert face is not None and face.embedding is not None
        vectors.append(face.embedding.vector)
    return build_snapshot(
        "fake",
        np.stack(vectors),
        [f"s{seed}" for seed in seeds],
        [f"ref/s{seed}.png" for seed in seeds],
        engine.contract,
    )
