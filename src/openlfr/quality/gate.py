"""The quality gate: measurements + thresholds → pass, or a list of fixed reason codes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from openlfr.config.quality import QualityThresholds
from openlfr.quality.metrics import FaceQuality


class Reason(StrEnum):
    """Stable reason codes (stored, exported and shown to users: never rename one)."""

    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    FACE_TOO_SMALL = "face_too_small"
    LOW_DETECTOR_SCORE = "low_detector_score"
    TOO_BLURRY = "too_blurry"
    EXTREME_POSE = "extreme_pose"
    TOO_DARK = "too_dark"
    TOO_BRIGHT = "too_bright"
    LOW_CONTRAST = "low_contrast"
    FACE_TRUNCATED = "face_truncated"


@dataclass(frozen=True, slots=True)
class QualityVerdict:
    reasons: tuple[Reason, ...]
    quality: FaceQuality | None

    @property
    def passed(self) -> bool:
        return not self.reasons

    def as_dict(self) -> dict[str, object]:
        return {
            "passed": self.passed,
            "reasons": [str(r) for r in self.reasons],
            "quality": self.quality.as_dict() if self.quality else None,
        }


def gate_face(quality: FaceQuality, limits: QualityThresholds) -> tuple[Reason, ...]:
    """Every limit ``quality`` breaks, in a fixed order."""
    checks = [
        (quality.inter_ocular_px < limits.min_inter_ocular_px, Reason.FACE_TOO_SMALL),
        (quality.detector_score < limits.min_detector_score, Reason.LOW_DETECTOR_SCORE),
        (quality.sharpness < limits.min_sharpness, Reason.TOO_BLURRY),
        (
            abs(quality.yaw_deg) > limits.max_yaw_deg
            or abs(quality.pitch_deg) > limits.max_pitch_deg
            or abs(quality.roll_deg) > limits.max_roll_deg,
            Reason.EXTREME_POSE,
        ),
        (quality.brightness < limits.min_brightness, Reason.TOO_DARK),
        (quality.brightness > limits.max_brightness, Reason.TOO_BRIGHT),
        (quality.contrast < limits.min_contrast, Reason.LOW_CONTRAST),
        (not quality.box_inside_image and limits.require_single_face, Reason.FACE_TRUNCATED),
    ]
    return tuple(reason for failed, reason in checks if failed)


def assess_image(faces: list[FaceQuality], limits: QualityThresholds) -> QualityVerdict:
    """Verdict for an image whose faces are ``faces`` (largest first): judges the largest face."""
    if not faces:
        return QualityVerdict((Reason.NO_FACE,), None)
    reasons = list(gate_face(faces[0], limits))
    if limits.require_single_face and len(faces) > 1:
        reasons.insert(0, Reason.MULTIPLE_FACES)
    return QualityVerdict(tuple(reasons), faces[0])
