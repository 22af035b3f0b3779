"""``lfr bench engine``: the runtime override and the reported runtime/load fields (no timing assertions)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.helpers.data import shared_data

from openlfr.bench.engine import with_runtime
from openlfr.cli import main
from openlfr.config.models import EngineConfig, FakeDetectorConfig, Settings, SFaceConfig


def test_with_runtime_overrides_only_models_that_have_one() -> None:
    settings = Settings(engine=EngineConfig(detector=FakeDetectorConfig(), embedder=SFaceConfig(threads=1)))
    updated = with_runtime(settings, runtime="openvino", precision="f32")
    assert updated.engine.detector == FakeDetectorConfig()
    assert updated.engine.embedder == SFaceConfig(threads=1, runtime="openvino", precision="f32")
    assert with_runtime(settings, runtime=None, precision=None) is settings


@pytest.mark.model
def test_bench_engine_reports_the_runtime_it_ran(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LFR_CACHE_DIR", str(tmp_path))
    data = str(shared_data())
    command = ["bench", "engine", "--data", data, "--repeat", "1", "--batch", "3", "--json"]
    assert main([*command, "--runtime", "onnxruntime"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["detector_runtime"], result["embedder_runtime"]) == ("onnxruntime-f32", "onnxruntime-f32")
    assert result["faces_in_frame"] == 6
    for key in ("load_average_1min_before", "load_average_1min_after", "embed_ms_per_face_batch3"):
        assert key in result
    assert main([*command, "--runtime", "openvino", "--precision", "f32"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["detector_runtime"], result["embedder_runtime"]) == ("openvino-f32", "openvino-f32")
    assert result["machine"]["openvino"]
