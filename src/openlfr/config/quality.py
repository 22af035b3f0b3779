"""The quality gate's limits (shared by enrolment, matching and the live pipeline's settings)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class QualityThresholds(BaseModel):
    """Limits used by the quality gate; each failed limit yields one fixed reason code."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_inter_ocular_px: float = Field(20.0, ge=0, description="eyes closer than this: face_too_small")
    min_detector_score: float = Field(0.6, ge=0, le=1, description="below: low_detector_score")
    min_sharpness: float = Field(
        40.0,
        ge=0,
        description="variance of the Laplacian of the aligned 112x112 grey face; below: too_blurry",
    )
    max_yaw_deg: float = Field(45.0, ge=0, le=90, description="estimated |yaw| above: extreme_pose")
    max_pitch_deg: float = Field(35.0, ge=0, le=90, description="estimated |pitch| above: extreme_pose")
    max_roll_deg: float = Field(45.0, ge=0, le=180, description="|roll| above: extreme_pose")
    min_brightness: float = Field(40.0, ge=0, le=255, description="mean grey level of the face; below: too_dark")
    max_brightness: float = Field(225.0, ge=0, le=255, description="above: too_bright")
    min_contrast: float = Field(15.0, ge=0, description="grey-level standard deviation; below: low_contrast")
    require_single_face: bool = Field(False, description="more than one face in the image: multiple_faces")
