"""``CameraView``: what the model thread made of one camera frame, for the live camera wall.

The frame, EVERY face found in it (inside the camera's zone or not), and per face its track and the subject
its track was alerted for. It is handed to an in-memory callback only (``openlfr.service.wall``), which blurs
every face but those of alerted matches before anything leaves the server; nothing in it is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from openlfr.types import FloatArray, ImageBGR


@dataclass(frozen=True, slots=True)
class CameraView:
    source_id: str
    frame_index: int
    image: ImageBGR
    """the full-resolution frame (shared with the pipeline: read only)"""
    boxes: FloatArray
    """(N, 4) every face detected in the frame, full-frame pixels"""
    track_ids: tuple[int, ...]
    """per face: its confirmed track, or -1 (outside the zone, not yet confirmed)"""
    alerted: tuple[str | None, ...]
    """per face: the subject its track raised an alert for (an alerted match), else None"""
