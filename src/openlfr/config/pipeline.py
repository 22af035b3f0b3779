"""Settings of the live pipeline (tracking, face selection, decision rules, queues): the ``pipeline`` section of
the configuration (``LFR_PIPELINE__<FIELD>``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from openlfr.alerts.rules import DecisionPolicy, Fusion
from openlfr.config.quality import QualityThresholds
from openlfr.track.tracker import TrackerConfig


def _match_gate() -> QualityThresholds:
    # Live faces are small, off-axis and often dim: the gate only removes faces that cannot carry identity
    # (tiny, smeared, featureless). Which face of a track is *best* is decided by ranking, not by this gate,
    # and a weak face can only ever add to the evidence of a track that other faces support.
    return QualityThresholds(
        min_inter_ocular_px=8.0,
        min_detector_score=0.6,
        min_sharpness=15.0,
        max_yaw_deg=90.0,
        max_pitch_deg=60.0,
        max_roll_deg=60.0,
        min_brightness=15.0,
        max_brightness=245.0,
        min_contrast=8.0,
    )


class PipelineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    detection_max_side: int = Field(640, ge=64, description="frames are downscaled to this long side for detection")
    queue_size: int = Field(4, ge=1, description="frames buffered per camera between its reader and the models")
    match_quality: QualityThresholds = Field(
        default_factory=_match_gate, description="a face below these limits is tracked but never embedded"
    )
    keep_faces: int = Field(5, ge=1, description="best faces (by quality) kept and fused per track")
    fusion: Fusion = Field(
        "quality",
        description="how the kept faces make the track's probe: quality (mean weighted by quality rank), mean, or "
        "best (the best-ranked face alone); docs/EVALUATION.md has the measurement behind the default",
    )
    improvement: float = Field(
        1.1,
        ge=1.0,
        description="once a track holds min_evidence faces, embed a new face only if its quality rank beats the "
        "track's best face by this factor",
    )
    embed_budget: int = Field(
        1,
        ge=1,
        description="faces embedded per round (one frame from each ready camera) at most; the others wait with "
        "their track, in an order that cannot starve a track (tracks nobody has examined first, ended tracks "
        "before those in view, then the longest wait, cameras in turn), so a crowd walking in at once delays "
        "some decisions by a few frames instead of stalling the cameras, and nobody goes unexamined "
        "(docs/BENCHMARKS.md: with flip augmentation, 1 dropped fewer frames than 2 on two real-time 1080p "
        "cameras on 2 free cores, with the same alerts)",
    )
    give_up_after_s: float = Field(
        5.0,
        gt=0,
        description="real-time cameras (live sources, files played with --realtime): a track that left the view "
        "with faces still waiting for an embedding is given up this long after it ended; one that had none "
        "embedded counts in tracks_unexamined. Files played as fast as possible never give up",
    )
    threshold: float | None = Field(
        None, ge=-1, le=1, description="alert threshold (cosine); None: the calibrated default of the model"
    )
    margin: float = Field(0.05, ge=0, le=2, description="best subject must beat the runner-up by this much")
    min_evidence: int = Field(2, ge=1, description="faces that each put the subject first above the threshold")
    cooldown_s: float = Field(60.0, ge=0, description="per camera and subject: quiet time after an alert")
    scene_cut: float = Field(
        20.0,
        gt=0,
        le=255,
        description="mean absolute grey-level change between consecutive 32x18 thumbnails above which the "
        "scene changed (edited video, a PTZ camera jumping): every track ends there",
    )
    context_frames: bool = Field(
        True, description="store the decisive frame with every other face blurred alongside each alert"
    )
    tracker_high_score: float = Field(0.75, ge=0, le=1, description="detections that may start a track")
    tracker_min_hits: int = Field(2, ge=1, description="detections before a track is confirmed")
    tracker_max_age: int = Field(10, ge=0, description="frames a track survives without a detection")

    def tracker(self) -> TrackerConfig:
        return TrackerConfig(
            high_score=self.tracker_high_score, min_hits=self.tracker_min_hits, max_age=self.tracker_max_age
        )

    def policy(self, threshold: float) -> DecisionPolicy:
        return DecisionPolicy(
            threshold=threshold, margin=self.margin, min_evidence=self.min_evidence, cooldown_s=self.cooldown_s
        )
