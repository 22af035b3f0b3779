"""The engine's composition, with the deterministic fake backends (no weights)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openlfr.config.models import EngineConfig, FakeDetectorConfig, FakeEmbedderConfig, Settings
from openlfr.detect.base import detect_scaled
from openlfr.engine import FaceEngine
from openlfr.quality.gate import Reason
from openlfr.types import FaceDetections, ImageBGR


def _scene(*boxes: tuple[int, int, int, int], size: tuple[int, int] = (480, 640)) -> ImageBGR:
    image = np.full((*size, 3), 60, np.uint8)
    rng = np.random.default_rng(7)
    for x1, y1, x2, y2 in boxes:
        # Bright textured patch: found by the fake detector and sharp enough for the quality gate.
        image[y1:y2, x1:x2] = rng.integers(200, 256, (y2 - y1, x2 - x1, 3), dtype=np.uint8)
    return image


def test_detects_largest_first_and_embeds(fake_engine: FaceEngine) -> None:
    image = _scene((10, 10, 60, 70), (200, 100, 400, 340))
    analysis = fake_engine.analyse(image)
    assert len(analysis.faces) == 2
    assert analysis.faces[0].detection.boxes[0].tolist() == [200, 100, 400, 340]
    embedding = analysis.faces[0].embedding
    assert embedding is not None and embedding.contract == fake_engine.contract
    assert embedding.similarity(fake_engine.analyse(image).faces[0].embedding) == pytest.approx(1.0)  # type: ignore[arg-type]


def test_largest_only_and_no_embedding(fake_engine: FaceEngine) -> None:
    analysis = fake_engine.analyse(_scene((10, 10, 60, 70), (200, 100, 400, 340)), largest_only=True, embed=False)
    assert len(analysis.faces) == 1 and analysis.faces[0].embedding is None


def test_no_face_verdict(fake_engine: FaceEngine) -> None:
    analysis = fake_engine.analyse(_scene())
    assert analysis.faces == () and analysis.verdict.reasons == (Reason.NO_FACE,) and analysis.largest is None


def test_strict_limits_need_one_face(fake_engine: FaceEngine) -> None:
    two = _scene((10, 10, 160, 170), (300, 100, 500, 340))
    verdict = fake_engine.analyse(two, limits=fake_engine.config.enrolment_quality).verdict
    assert verdict.reasons[0] == Reason.MULTIPLE_FACES
    with pytest.raises(ValueError):
        fake_engine.analyse(two, largest_only=True, limits=fake_engine.config.enrolment_quality)


class _RecordingDetector:
    name = "recording"

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def detect(self, image: ImageBGR) -> FaceDetections:
        self.shapes.append(image.shape)
        # One face at a fixed place of whatever image it is given.
        return FaceDetections(np.array([[10, 20, 30, 40]]), np.array([0.9]), np.full((1, 5, 2), 25.0))


def test_detect_scaled_downscales_and_maps_back() -> None:
    detector = _RecordingDetector()
    found = detect_scaled(detector, np.zeros((1000, 2000, 3), np.uint8), max_side=500)
    assert detector.shapes == [(250, 500, 3)]
    assert found.boxes[0].tolist() == [40, 80, 120, 160] and found.landmarks[0, 0].tolist() == [100, 100]
    detect_scaled(detector, np.zeros((100, 200, 3), np.uint8), max_side=500)
    assert detector.shapes[-1] == (100, 200, 3)  # small images are never upscaled


class _OnlyWithMargin:
    """Finds the bright square only when it does not touch the image border (like a real detector)."""

    name = "margin"

    def detect(self, image: ImageBGR) -> FaceDetections:
        ys, xs = np.nonzero(image[..., 0] > 128)
        if ys.size == 0 or ys.min() == 0 or xs.min() == 0:
            return FaceDetections.empty()
        box = np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float32)
        return FaceDetections(box, np.array([0.9]), np.tile(box[:, None, :2], (1, 5, 1)))


def test_tight_chips_are_retried_with_a_border(tmp_path: Path) -> None:
    chip = np.full((100, 100, 3), 255, np.uint8)
    engine = FaceEngine(
        EngineConfig(),
        _OnlyWithMargin(),
        FaceEngine.from_settings(
            Settings(
                engine=EngineConfig(detector=FakeDetectorConfig(), embedder=FakeEmbedderConfig()), cache_dir=tmp_path
            )
        ).embedder,
    )
    found = engine.detect(chip)
    assert found.boxes.tolist() == [[0, 0, 100, 100]]  # mapped back into the chip's own coordinates
    no_retry = FaceEngine(EngineConfig(small_image_pad=0), _OnlyWithMargin(), engine.embedder)
    assert len(no_retry.detect(chip)) == 0
