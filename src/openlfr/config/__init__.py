"""One strict configuration tree (pydantic, ``extra="forbid"``), loaded from YAML and ``LFR_*`` env vars."""

from openlfr.config.loader import load_settings
from openlfr.config.models import (
    DetectorConfig,
    EmbedderConfig,
    EngineConfig,
    FakeDetectorConfig,
    FakeEmbedderConfig,
    QualityThresholds,
    Settings,
)

__all__ = [
    "DetectorConfig",
    "EmbedderConfig",
    "EngineConfig",
    "FakeDetectorConfig",
    "FakeEmbedderConfig",
    "QualityThresholds",
    "Settings",
    "load_settings",
]
