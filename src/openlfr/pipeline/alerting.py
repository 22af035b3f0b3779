"""The alert writer: renders an alert's images and hands it to the dispatcher (store durably, then push to
the sinks) on its own thread.

JPEG-encoding a 1080p context frame, blanking the other faces in it and four fsyncs took 13-34 ms per alert
here; on the model thread that is time every camera's queue waits (six listed people walking into two
cameras at once dropped 15 frames). The model thread only decides; this thread writes, in decision order.

Nothing is dropped: ``submit`` waits while the queue (16 alerts, each holding its full frame) is full, and
``close`` writes every queued alert. The first failure to store an alert is raised to the model thread (the
pipeline stops, as a system whose alerts are not being stored must); alerts already queued are still
attempted.

Privacy: the decisive frame (with other people's faces) waits here in memory only; it is written nowhere
until every face but the matched one is blanked (``blur_faces_except``).
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
from dataclasses import dataclass

import cv2
import numpy as np

from openlfr.alerts.dispatch import AlertDispatcher
from openlfr.alerts.event import AlertEvent
from openlfr.errors import AlertStoreError
from openlfr.types import FloatArray, ImageBGR, as_image

log = logging.getLogger(__name__)


def _grown_box(box: FloatArray | list[float], margin: float, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of ``box`` grown by ``margin`` of its size on each side, clipped to the image."""
    height, width = shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    dx, dy = (x2 - x1) * margin, (y2 - y1) * margin
    left, top = max(0, int(x1 - dx)), max(0, int(y1 - dy))
    return left, top, min(width, int(x2 + dx) + 1), min(height, int(y2 + dy) + 1)


def crop_face(image: ImageBGR, box: FloatArray, margin: float = 0.3) -> ImageBGR:
    """The face box grown by ``margin`` on each side, clipped to the image (a copy)."""
    left, top, right, bottom = _grown_box(box, margin, image.shape)
    return as_image(image[top:bottom, left:right].copy())


def blur_faces_except(image: ImageBGR, boxes: FloatArray, keep: int) -> ImageBGR:
    """A copy of ``image`` in which every box but ``keep`` (grown by 20 %) is blanked out."""
    out = image.copy()
    for i, box in enumerate(boxes.tolist()):
        if i == keep:
            continue
        left, top, right, bottom = _grown_box(box, 0.2, image.shape)
        if right <= left or bottom <= top:
            continue
        region = out[top:bottom, left:right]
        # Flat fill with the region's mean colour: pixelation or a moderate blur can leave a face
        # recognisable (or re-identifiable by a model); a flat patch cannot, and still shows where a person was.
        region[:] = region.reshape(-1, 3).mean(axis=0).astype(np.uint8)
    return out


MATCH_BOX_BGR = (0, 0, 255)
"""the frame drawn round the matched face in the stored scene (red, as the console's wall draws alerts)"""


def matched_scene(image: ImageBGR, boxes: FloatArray, keep: int) -> ImageBGR:
    """``image`` with every face but ``keep`` blanked and a red frame drawn round ``keep``, just outside its
    box: the officer sees at once which person in the scene the alert is about, and the face is not drawn over."""
    out = blur_faces_except(image, boxes, keep)
    if not 0 <= keep < len(boxes):
        return out
    x1, y1, x2, y2 = (float(v) for v in boxes[keep].tolist())
    thickness = max(2, round(max(x2 - x1, y2 - y1) / 24))
    gap = thickness // 2 + 2
    height, width = out.shape[:2]
    left, top = max(0, int(x1) - gap), max(0, int(y1) - gap)
    right, bottom = min(width - 1, int(x2) + gap), min(height - 1, int(y2) + gap)
    cv2.rectangle(out, (left, top), (right, bottom), MATCH_BOX_BGR, thickness)
    return out


def encode_jpeg(image: ImageBGR, quality: int = 90) -> bytes:
    """``image`` as JPEG bytes; raises RuntimeError if OpenCV cannot encode it."""
    ok, data = cv2.imencode(".jpg", np.ascontiguousarray(image), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return bytes(data.tobytes())


@dataclass(frozen=True, slots=True)
class AlertContext:
    """The decisive frame and its detections; stored with every face but ``keep`` blanked."""

    image: ImageBGR
    boxes: FloatArray
    keep: int


@dataclass(frozen=True, slots=True)
class _Job:
    event: AlertEvent
    probe: ImageBGR
    context: AlertContext | None


def context_jpeg(context: AlertContext) -> bytes:
    """The scene as stored with the alert: other faces blanked, the matched one boxed, as JPEG."""
    return encode_jpeg(matched_scene(context.image, context.boxes, context.keep))


def render(event: AlertEvent, probe: ImageBGR, context: AlertContext | None) -> AlertEvent:
    """``event`` with its probe crop and (blanked, boxed) context frame encoded as JPEG."""
    scene = context_jpeg(context) if context is not None else None
    return dataclasses.replace(event, probe_jpeg=encode_jpeg(probe), context_jpeg=scene)


class AlertWriter:
    def __init__(self, dispatcher: AlertDispatcher, *, queue_size: int = 16) -> None:
        self.dispatcher = dispatcher
        self.written = 0
        self._queue: queue.Queue[_Job | None] = queue.Queue(maxsize=queue_size)
        self._thread = threading.Thread(target=self._run, name="lfr-alert-writer", daemon=True)
        self._error: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def submit(self, event: AlertEvent, probe: ImageBGR, context: AlertContext | None) -> None:
        """Queue an alert for writing (waits while the queue is full: an alert is never dropped), then raise
        AlertStoreError if an earlier one could not be stored."""
        job = _Job(event, probe, context)
        while True:
            try:
                self._queue.put(job, timeout=1.0)
                break
            except queue.Full:
                if not self._thread.is_alive():  # nobody will ever make room
                    raise AlertStoreError("the alert writer has stopped; alerts cannot be stored") from None
        self.raise_if_failed()

    def raise_if_failed(self) -> None:
        """Raise AlertStoreError if an alert could not be stored."""
        if self._error is not None:
            raise AlertStoreError(f"an alert could not be stored: {self._error}") from self._error

    def close(self) -> None:
        """Write every queued alert, then close the dispatcher (its store and sinks)."""
        try:
            if self._thread.is_alive():
                self._queue.put(None)
                self._thread.join()
        finally:
            self.dispatcher.close()

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            try:
                if self.dispatcher.publish(render(job.event, job.probe, job.context)) is not None:
                    self.written += 1  # not an alert dropped because its subject was erased meanwhile
            except Exception as exc:  # reported to the model thread; later alerts are still attempted
                log.error("alert %s could not be stored: %s", job.event.alert_id, exc)
                if self._error is None:
                    self._error = exc
