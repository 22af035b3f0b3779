"""YuNet on OpenVINO (f32 and bf16) agrees with the onnxruntime reference on real photos."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.helpers.data import shared_data

from openlfr.config.models import YuNetConfig
from openlfr.detect.yunet import YuNetDetector
from openlfr.imaging import load_image
from openlfr.models.runtime import cpu_supports_bf16
from openlfr.types import FaceDetections, ImageBGR, as_image

pytestmark = pytest.mark.model

SCENES = ("couple.jpg", "obama_and_biden.jpg", "selfie-many-people.jpg")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def scenes() -> dict[str, ImageBGR]:
    # At detector resolution (long side ≤ 640, as the engine resizes) so differences are in the network's pixels.
    images = {}
    for name in SCENES:
        image = load_image(shared_data() / "scenes" / name)
        scale = max(image.shape[:2]) / 640
        if scale > 1:
            size = (round(image.shape[1] / scale), round(image.shape[0] / scale))
            image = as_image(cv2.resize(image, size, interpolation=cv2.INTER_AREA))
        images[name] = image
    return images


def _detect_all(config: YuNetConfig, cache_dir: Path, images: dict[str, ImageBGR]) -> dict[str, FaceDetections]:
    detector = YuNetDetector(config, cache_dir)
    assert detector.runtime.label == f"{config.runtime}-{config.precision}"
    return {name: detector.detect(image).sorted_by_area() for name, image in images.items()}


@pytest.fixture(scope="module")
def reference(cache_dir: Path, scenes: dict[str, ImageBGR]) -> dict[str, FaceDetections]:
    return _detect_all(YuNetConfig(runtime="onnxruntime", precision="f32"), cache_dir, scenes)


def test_openvino_f32_matches_onnxruntime(
    cache_dir: Path, scenes: dict[str, ImageBGR], reference: dict[str, FaceDetections]
) -> None:
    found = _detect_all(YuNetConfig(runtime="openvino", precision="f32"), cache_dir, scenes)
    for name, expected in reference.items():
        assert len(found[name]) == len(expected), name
        np.testing.assert_allclose(found[name].boxes, expected.boxes, atol=0.01)
        np.testing.assert_allclose(found[name].landmarks, expected.landmarks, atol=0.01)
        np.testing.assert_allclose(found[name].scores, expected.scores, atol=1e-4)


@pytest.mark.skipif(not cpu_supports_bf16(), reason="this CPU has no native bf16")
def test_openvino_bf16_finds_the_same_faces(
    cache_dir: Path, scenes: dict[str, ImageBGR], reference: dict[str, FaceDetections]
) -> None:
    """bf16 moves boxes by a fraction of a pixel; measured worst case on these scenes: a truncated face at the
    edge of the selfie whose landmarks move 7 % of its width (another anchor wins the NMS)."""
    found = _detect_all(YuNetConfig(runtime="openvino", precision="bf16"), cache_dir, scenes)
    relative = []
    for name, expected in reference.items():
        assert len(found[name]) == len(expected), name
        width = (expected.boxes[:, 2] - expected.boxes[:, 0])[:, None]
        relative.append(np.abs(found[name].boxes - expected.boxes) / width)
        relative.append(np.abs(found[name].landmarks - expected.landmarks).max(axis=2) / width)
        np.testing.assert_allclose(found[name].scores, expected.scores, atol=0.01)
    errors = np.concatenate([r.reshape(-1) for r in relative])
    assert float(np.median(errors)) < 0.005
    assert float(errors.max()) < 0.1
