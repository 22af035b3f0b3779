"""Face tracking: one track per person's pass in front of one camera."""

from openlfr.track.tracker import FaceTracker, TrackerConfig, TrackUpdate, iou_matrix

__all__ = ["FaceTracker", "TrackUpdate", "TrackerConfig", "iou_matrix"]
