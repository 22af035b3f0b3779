from __future__ import annotations

from pathlib import Path

import pytest

from openlfr.config import load_settings
from openlfr.config.models import FakeDetectorConfig, ScrfdOnnxConfig, SFaceConfig
from openlfr.errors import ConfigError


def test_defaults_are_the_bundled_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LFR_CONFIG", raising=False)
    settings = load_settings()
    assert settings.engine.detector.type == "yunet" and isinstance(settings.engine.embedder, SFaceConfig)
    assert settings.engine.detection_max_side == 640


def test_yaml_selects_backends_by_type(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "engine:\n  detector: {type: scrfd_onnx, model_path: /models/scrfd.onnx}\n  detection_max_side: 800\n"
    )
    settings = load_settings(path)
    assert isinstance(settings.engine.detector, ScrfdOnnxConfig) and settings.engine.detection_max_side == 800


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("engine:\n  detection_max_side: 800\n  detector: {type: fake}\n")
    monkeypatch.setenv("LFR_ENGINE__DETECTION_MAX_SIDE", "1024")
    settings = load_settings(path)
    assert settings.engine.detection_max_side == 1024 and isinstance(settings.engine.detector, FakeDetectorConfig)


@pytest.mark.parametrize(
    "text",
    [
        "engine:\n  detecton_max_side: 1\n",
        "engine:\n  detector: {type: yunet, score_threshold: 2}\n",
        "[1, 2]\n",
        "engine: {\n",
    ],
)
def test_bad_config_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError):
        load_settings(path)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "nope.yaml")
