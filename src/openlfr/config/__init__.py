"""One strict configuration tree (pydantic, ``extra="forbid"``), loaded from YAML and ``LFR_*`` env vars."""

from openlfr.config.loader import load_settings
from openlfr.config.models import (
    DetectorConfig,
    EmbedderConfig,
    EngineConfig,
    FakeDetectorConfig,
    FakeEmbedderConfig,
    Settings,
)
from openlfr.config.pipeline import PipelineConfig
from openlfr.config.quality import QualityThresholds

__all__ = [
    "DetectorConfig",
    "EmbedderConfig",
    "EngineConfig",
    "FakeDetectorConfig",
    "FakeEmbedderConfig",
    "PipelineConfig",
    "QualityThresholds",
    "Settings",
    "load_settings",
]
