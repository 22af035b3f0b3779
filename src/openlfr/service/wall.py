"""The live camera wall: per running camera, the frames the pipeline processes, as JPEGs with EVERY face
blanked on the server except those of alerted matches, and the zone, tracks and alerts drawn over them.

The model thread hands each processed frame to ``CameraWall.publish`` (an in-memory reference, no copy, no
work); a viewer's thread renders the newest one when it asks (``next_jpeg``), once per frame whoever asks.
Faces are blanked with a flat patch of their mean colour (as in the alert's context image: a blur can leave a
face recognisable, a flat patch cannot), grown by a margin, and the faces of the last few frames are blanked
too, so a face the detector misses for a frame or two is still covered where it just was. Nothing is written
anywhere: a camera's frames are forgotten when its recognition stops.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Final

import cv2
import numpy as np

from openlfr.pipeline.alerting import encode_jpeg
from openlfr.pipeline.camera import downscale
from openlfr.pipeline.view import CameraView
from openlfr.types import ImageBGR
from openlfr.zone import Zone

WALL_MAX_SIDE: Final = 640
MARGIN: Final = 0.25
"""each face box grows by this share of its size on every side before it is blanked"""
REMEMBER: Final = 3
"""frames whose faces are blanked in the newest one (covers a face missed by the detector for a frame or two)"""
_TRACK, _MATCH, _ZONE = (200, 200, 200), (40, 40, 255), (0, 200, 255)


@dataclass(slots=True)
class _Feed:
    zone: Zone | None
    views: deque[CameraView] = field(default_factory=lambda: deque(maxlen=REMEMBER))
    seq: int = 0
    rendered: tuple[int, bytes] | None = None
    render_lock: threading.Lock = field(default_factory=threading.Lock)


class CameraWall:
    def __init__(self, *, max_side: int = WALL_MAX_SIDE, quality: int = 75) -> None:
        self.max_side = max_side
        self.quality = quality
        self._feeds: dict[str, _Feed] = {}
        self._changed = threading.Condition()

    def open(self, source_id: str, zone: Zone | None) -> None:
        """A camera's recognition starts: its feed opens (empty until the first frame)."""
        with self._changed:
            self._feeds[source_id] = _Feed(zone)
            self._changed.notify_all()

    def close(self, source_id: str) -> None:
        """Its recognition stopped: its frames are forgotten; viewers see the feed end."""
        with self._changed:
            self._feeds.pop(source_id, None)
            self._changed.notify_all()

    def is_open(self, source_id: str) -> bool:
        with self._changed:
            return source_id in self._feeds

    def publish(self, view: CameraView) -> None:
        """Called on the model thread for every processed frame: keep it (by reference) and wake viewers."""
        with self._changed:
            feed = self._feeds.get(view.source_id)
            if feed is None:
                return
            feed.views.append(view)
            feed.seq += 1
            self._changed.notify_all()

    def next_jpeg(self, source_id: str, after: int, timeout_s: float) -> tuple[int, bytes] | None:
        """The newest frame after sequence number ``after``, rendered (waits up to ``timeout_s`` for one);
        None when there is none yet or the feed closed (``is_open`` tells which)."""
        with self._changed:
            self._changed.wait_for(
                lambda: source_id not in self._feeds or self._feeds[source_id].seq > after, timeout_s
            )
            feed = self._feeds.get(source_id)
            if feed is None or feed.seq <= after:
                return None
            seq, views, zone = feed.seq, tuple(feed.views), feed.zone
        with feed.render_lock:
            if feed.rendered is None or feed.rendered[0] != seq:
                feed.rendered = (seq, encode_jpeg(render(views, zone, self.max_side), self.quality))
            return feed.rendered


def render(views: tuple[CameraView, ...], zone: Zone | None, max_side: int) -> ImageBGR:
    """The newest of ``views`` downscaled, every face blanked but alerted matches, overlays drawn."""
    newest = views[-1]
    small, scale = downscale(newest.image, max_side)
    out = small.copy()
    height, width = out.shape[:2]
    keep = {i for i, subject in enumerate(newest.alerted) if subject is not None}
    alerted_tracks = {t for t, s in zip(newest.track_ids, newest.alerted, strict=True) if s is not None and t >= 0}
    for view in views:
        current = view is newest
        for i, box in enumerate(view.boxes.tolist()):
            if current and i in keep:
                continue
            if not current and view.track_ids[i] in alerted_tracks:
                continue  # where the alerted match was a frame ago: it is shown now
            _blank(out, [v / scale for v in box])
    if zone is not None:
        corners = np.array([[x * width, y * height] for x, y in zone.points], np.int32)
        cv2.polylines(out, [corners], isClosed=True, color=_ZONE, thickness=2)
    for i, box in enumerate(newest.boxes.tolist()):
        track_id, subject = newest.track_ids[i], newest.alerted[i]
        if track_id < 0:
            continue
        x1, y1, x2, y2 = (int(v / scale) for v in box)
        colour = _MATCH if subject is not None else _TRACK
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, 3 if subject is not None else 1)
        label = f"ALERT #{track_id}" if subject is not None else f"#{track_id}"
        cv2.putText(out, label, (x1, max(12, y1 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
    return out


def _blank(image: ImageBGR, box: list[float]) -> None:
    height, width = image.shape[:2]
    x1, y1, x2, y2 = box
    dx, dy = (x2 - x1) * MARGIN, (y2 - y1) * MARGIN
    left, top = max(0, int(x1 - dx)), max(0, int(y1 - dy))
    right, bottom = min(width, int(x2 + dx) + 1), min(height, int(y2 + dy) + 1)
    if right <= left or bottom <= top:
        return
    region = image[top:bottom, left:right]
    region[:] = region.reshape(-1, 3).mean(axis=0).astype(np.uint8)
