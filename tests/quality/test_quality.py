from __future__ import annotations

import math

import numpy as np
import pytest

from openlfr.config.quality import QualityThresholds
from openlfr.embed.align import ARCFACE_TEMPLATE_112
from openlfr.quality.gate import Reason, assess_image, gate_face
from openlfr.quality.metrics import FaceQuality, estimate_pose, measure_face


def _rotate(points: np.ndarray, degrees: float) -> np.ndarray:
    a = math.radians(degrees)
    rotation = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    centre = points.mean(axis=0)
    return (points - centre) @ rotation.T + centre


def test_frontal_template_has_zero_pose() -> None:
    yaw, pitch, roll = estimate_pose(ARCFACE_TEMPLATE_112)
    assert abs(yaw) < 3 and abs(pitch) < 1 and abs(roll) < 1


def test_roll_follows_the_eye_line_and_leaves_yaw_alone() -> None:
    yaw, pitch, roll = estimate_pose(_rotate(ARCFACE_TEMPLATE_112, 30))
    assert roll == pytest.approx(30, abs=0.5)
    assert abs(yaw) < 3 and abs(pitch) < 1


def test_nose_towards_an_eye_reads_as_yaw() -> None:
    turned = ARCFACE_TEMPLATE_112.copy()
    turned[2, 0] = turned[1, 0]  # nose under the left eye: a strong turn
    yaw, _, _ = estimate_pose(turned)
    assert yaw > 35
    turned[2, 0] = turned[0, 0]
    assert estimate_pose(turned)[0] < -35


def test_nose_near_the_mouth_reads_as_pitch() -> None:
    down = ARCFACE_TEMPLATE_112.copy()
    down[2, 1] = down[3, 1] - 2
    assert estimate_pose(down)[1] > 30


def _quality(**overrides: float | bool) -> FaceQuality:
    values: dict[str, float | bool] = dict(
        inter_ocular_px=60.0,
        detector_score=0.95,
        sharpness=200.0,
        yaw_deg=0.0,
        pitch_deg=0.0,
        roll_deg=0.0,
        brightness=120.0,
        contrast=50.0,
        box_inside_image=True,
    )
    values.update(overrides)
    return FaceQuality(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"inter_ocular_px": 10.0}, Reason.FACE_TOO_SMALL),
        ({"detector_score": 0.3}, Reason.LOW_DETECTOR_SCORE),
        ({"sharpness": 5.0}, Reason.TOO_BLURRY),
        ({"yaw_deg": 70.0}, Reason.EXTREME_POSE),
        ({"pitch_deg": -50.0}, Reason.EXTREME_POSE),
        ({"roll_deg": 80.0}, Reason.EXTREME_POSE),
        ({"brightness": 10.0}, Reason.TOO_DARK),
        ({"brightness": 250.0}, Reason.TOO_BRIGHT),
        ({"contrast": 3.0}, Reason.LOW_CONTRAST),
    ],
)
def test_each_limit_gives_its_reason(overrides: dict[str, float], reason: Reason) -> None:
    limits = QualityThresholds()
    assert gate_face(_quality(), limits) == ()
    assert gate_face(_quality(**overrides), limits) == (reason,)


def test_limits_are_configurable() -> None:
    assert gate_face(_quality(inter_ocular_px=30.0), QualityThresholds(min_inter_ocular_px=40)) == (
        Reason.FACE_TOO_SMALL,
    )


def test_image_verdicts() -> None:
    strict = QualityThresholds(require_single_face=True)
    assert assess_image([], strict).reasons == (Reason.NO_FACE,)
    two = assess_image([_quality(), _quality()], strict)
    assert two.reasons == (Reason.MULTIPLE_FACES,) and not two.passed
    assert assess_image([_quality(), _quality()], QualityThresholds()).passed
    truncated = assess_image([_quality(box_inside_image=False)], strict)
    assert truncated.reasons == (Reason.FACE_TRUNCATED,)
    assert truncated.as_dict()["reasons"] == ["face_truncated"]


def test_measure_face_on_crops() -> None:
    rng = np.random.default_rng(0)
    sharp = rng.integers(0, 255, (112, 112, 3), dtype=np.uint8)
    flat = np.full((112, 112, 3), 20, np.uint8)
    box = np.array([10, 10, 100, 100], np.float32)
    sharp_q = measure_face((200, 200, 3), box, ARCFACE_TEMPLATE_112, 0.9, sharp)
    flat_q = measure_face((200, 200, 3), box, ARCFACE_TEMPLATE_112, 0.9, flat)
    assert sharp_q.sharpness > 1000 and flat_q.sharpness == 0
    assert flat_q.brightness == 20 and flat_q.contrast == 0
    assert sharp_q.inter_ocular_px == pytest.approx(35.24, abs=0.01)
    outside = measure_face((50, 50, 3), box, ARCFACE_TEMPLATE_112, 0.9, flat)
    assert not outside.box_inside_image
