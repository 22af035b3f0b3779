"""One reader thread per camera: pulls decoded frames from its source, downscales them, detects faces on the
downscaled frame (boxes mapped back to the full frame) and hands the result to the model runner through a
bounded queue.

Decoding, resizing and detection release the GIL (OpenCV, OpenVINO/onnxruntime), so the cameras' threads
work side by side with the model thread, which keeps the work that needs every camera's state in one place
(tracking, face selection, batched embedding, decisions). The detector is shared (one model in memory); it
serves one call per camera thread at once (``parallel_calls``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass

import cv2

from openlfr.detect.base import FaceDetector
from openlfr.sources.base import FrameSource
from openlfr.types import FaceDetections, Frame, ImageBGR, as_image

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PreparedFrame:
    frame: Frame
    small: ImageBGR
    """the frame downscaled so its long side is at most the detection size"""
    detections: FaceDetections
    """faces found on ``small``, in the coordinates of the full frame"""
    decode_ms: float
    resize_ms: float
    detect_ms: float


class EndOfStream:
    """Queued after a source's last frame."""


END = EndOfStream()


@dataclass(frozen=True, slots=True)
class DetectorFailed:
    """Queued when the shared detector raised: not this camera's fault, so the model loop re-raises it."""

    error: BaseException


QueueItem = PreparedFrame | DetectorFailed | EndOfStream


def downscale(image: ImageBGR, max_side: int) -> tuple[ImageBGR, float]:
    height, width = image.shape[:2]
    scale = max(height, width) / max_side
    if scale <= 1.0:
        return image, 1.0
    size = (max(1, round(width / scale)), max(1, round(height / scale)))
    small = as_image(cv2.resize(image, size, interpolation=cv2.INTER_LINEAR))
    return small, width / small.shape[1]


def prepare(frame: Frame, detector: FaceDetector, max_side: int, *, decode_ms: float = 0.0) -> PreparedFrame:
    """What a camera's thread does to each frame: downscale, detect, map the detections back."""
    started = time.perf_counter()
    small, scale = downscale(frame.image, max_side)
    resized = time.perf_counter()
    detections = detector.detect(small)
    if scale != 1.0:
        detections = detections.scaled(scale)
    done = time.perf_counter()
    return PreparedFrame(
        frame,
        small,
        detections,
        decode_ms=decode_ms,
        resize_ms=(resized - started) * 1e3,
        detect_ms=(done - resized) * 1e3,
    )


class CameraReader:
    def __init__(
        self,
        source: FrameSource,
        detector: FaceDetector,
        *,
        max_side: int,
        queue_size: int,
        drop_when_behind: bool | None = None,
    ) -> None:
        """``drop_when_behind``: when the models fall behind, drop the oldest queued frame (as a camera does)
        instead of waiting; default: only for live sources. A file played in real time sets it to measure what
        a camera would lose."""
        self.source = source
        self.detector = detector
        self.drop_when_behind = source.live if drop_when_behind is None else drop_when_behind
        self.max_side = max_side
        self.queue: queue.Queue[QueueItem] = queue.Queue(maxsize=queue_size)
        self.dropped = 0
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"camera-{source.source_id}", daemon=True)

    @property
    def source_id(self) -> str:
        return self.source.source_id

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self.source.close()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        last: QueueItem = END
        try:
            frames = self.source.frames()
            while not self._stop.is_set():
                started = time.perf_counter()
                frame = next(frames, None)
                if frame is None:
                    break
                decode_ms = (time.perf_counter() - started) * 1e3
                try:
                    prepared = prepare(frame, self.detector, self.max_side, decode_ms=decode_ms)
                except Exception as exc:
                    log.error("camera %s: detection failed: %s", self.source_id, exc)
                    last = DetectorFailed(exc)  # instead of the end marker: the model loop raises it
                    break
                self._put(prepared)
        except Exception as exc:  # a broken source must end its camera, not the process
            log.error("camera %s stopped: %s", self.source_id, exc)
            self.error = exc
        finally:
            self._put(last, force=True)

    def _put(self, item: QueueItem, *, force: bool = False) -> None:
        # Files: wait for room (every frame is processed). Live (and files played as cameras): never wait; drop
        # the oldest queued frame instead, at once, as a camera overwrites its buffer (latency over backlog).
        # When stopping, frames are abandoned but the end marker still gets in (it may displace a frame).
        if self.drop_when_behind:
            self._put_dropping_oldest(item)
            return
        while True:
            try:
                self.queue.put(item, timeout=0.1)
                return
            except queue.Full:
                if not self._stop.is_set():
                    continue
                if not force:
                    return
                self._put_dropping_oldest(item)
                return

    def _put_dropping_oldest(self, item: QueueItem) -> None:
        while True:
            try:
                self.queue.put_nowait(item)
                return
            except queue.Full:
                try:
                    dropped = self.queue.get_nowait()
                except queue.Empty:
                    continue
                if isinstance(dropped, PreparedFrame):
                    self.dropped += 1
