"""Quality measurements of one detected face.

Sharpness and brightness are measured on the aligned 112×112 crop, so they compare across face sizes.
Pose is *estimated* from the 5 landmarks (no 3-D model): roll from the eye line; yaw from how far the
nose sits from the eye midpoint, relative to half the eye distance; pitch from where the nose sits
between the eye line and the mouth line, against its frontal position in the alignment template.
They are good enough to reject profiles and heads tilted far back, not to measure angles precisely.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from openlfr.embed.align import ARCFACE_TEMPLATE_112

# Where the nose sits between the eye line (0) and the mouth line (1) in a frontal face.
_FRONTAL_NOSE_RATIO = float(
    (ARCFACE_TEMPLATE_112[2, 1] - ARCFACE_TEMPLATE_112[:2, 1].mean())
    / (ARCFACE_TEMPLATE_112[3:, 1].mean() - ARCFACE_TEMPLATE_112[:2, 1].mean())
)


@dataclass(frozen=True, slots=True)
class FaceQuality:
    inter_ocular_px: float
    detector_score: float
    sharpness: float
    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    brightness: float
    contrast: float
    box_inside_image: bool

    def as_dict(self) -> dict[str, float | bool]:
        return {
            "inter_ocular_px": round(self.inter_ocular_px, 2),
            "detector_score": round(self.detector_score, 4),
            "sharpness": round(self.sharpness, 2),
            "yaw_deg": round(self.yaw_deg, 1),
            "pitch_deg": round(self.pitch_deg, 1),
            "roll_deg": round(self.roll_deg, 1),
            "brightness": round(self.brightness, 1),
            "contrast": round(self.contrast, 1),
            "box_inside_image": self.box_inside_image,
        }


def estimate_pose(landmarks: npt.NDArray[np.float32]) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from 5 landmarks (see module docstring for the model)."""
    points = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    right_eye, left_eye = points[0], points[1]
    eye_vector = left_eye - right_eye
    roll = math.degrees(math.atan2(eye_vector[1], eye_vector[0]))
    # Undo roll so yaw/pitch are measured in the face's own frame.
    cos_r, sin_r = math.cos(-math.radians(roll)), math.sin(-math.radians(roll))
    rotation = np.array([[cos_r, -sin_r], [sin_r, cos_r]])
    upright = (points - points[:2].mean(axis=0)) @ rotation.T
    half_iod = max(float(np.linalg.norm(eye_vector)) / 2.0, 1e-6)
    yaw = math.degrees(math.asin(float(np.clip(upright[2, 0] / (half_iod * 1.6), -1.0, 1.0))))
    mouth_y = float(upright[3:, 1].mean())
    if mouth_y <= 1e-6:
        return yaw, 90.0, roll
    nose_ratio = float(upright[2, 1]) / mouth_y
    pitch = math.degrees(math.asin(float(np.clip((nose_ratio - _FRONTAL_NOSE_RATIO) * 2.0, -1.0, 1.0))))
    return yaw, pitch, roll


def measure_face(
    image_shape: tuple[int, ...],
    box: npt.NDArray[np.float32],
    landmarks: npt.NDArray[np.float32],
    score: float,
    aligned_crop: npt.NDArray[np.uint8],
) -> FaceQuality:
    grey = cv2.cvtColor(aligned_crop, cv2.COLOR_BGR2GRAY)
    # Only the central face region: the crop's corners are background or black border.
    centre = grey[16:104, 20:92]
    sharpness = float(cv2.Laplacian(centre, cv2.CV_64F).var())
    yaw, pitch, roll = estimate_pose(landmarks)
    height, width = image_shape[:2]
    inside = bool(box[0] >= 0 and box[1] >= 0 and box[2] <= width and box[3] <= height)
    return FaceQuality(
        inter_ocular_px=float(np.linalg.norm(landmarks[1] - landmarks[0])),
        detector_score=float(score),
        sharpness=sharpness,
        yaw_deg=yaw,
        pitch_deg=pitch,
        roll_deg=roll,
        brightness=float(centre.mean()),
        contrast=float(centre.std()),
        box_inside_image=inside,
    )
