"""File sources: a video file (mp4/mkv/avi/animated GIF…, via FFmpeg) and a folder of still images.

They yield every frame, as fast as the consumer takes them, or at the media's own speed with
``realtime=True``. A file that cannot be opened raises SourceError at open time; a file that stops
decoding well before its container says it should raises SourceError from ``frames()``.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2

from openlfr.errors import ImageDecodeError, SourceError
from openlfr.imaging.decode import load_image
from openlfr.sources.base import SourceHealth, SourceState
from openlfr.sources.capture import Capture, open_file, read_frame
from openlfr.sources.pacing import Pacer
from openlfr.sources.stats import HealthTracker
from openlfr.types import Frame, ImageBGR

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pnm"})
DEFAULT_FPS = 25.0  # for media that declare no usable rate (image folders, some GIFs/AVIs)
# Containers whose declared frame count is worth comparing with what decoded: MP4/MOV index every sample,
# Matroska's duration × rate is a close estimate. AVI counts the empty "drop" chunks of variable-rate
# sources and GIF declares nothing, so an early end there cannot be told from a normal one.
_COUNTED_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".3gp", ".mkv", ".webm"})
# Slack for estimated counts before an early end is called "truncated".
_COUNT_SLACK_FRAMES = 2
_COUNT_SLACK_FRACTION = 0.02


def _usable_fps(value: float) -> float | None:
    return value if math.isfinite(value) and 0.5 <= value <= 1000 else None


class VideoFileSource:
    """Frames of one video file, decoded by FFmpeg through OpenCV."""

    live = False

    def __init__(self, path: Path, *, source_id: str, realtime: bool = False, loop: bool = False) -> None:
        if not path.is_file():
            raise SourceError(f"{path}: no such video file")
        if path.stat().st_size == 0:
            raise SourceError(f"{path}: empty file (0 bytes)")
        self._path = path
        self._source_id = source_id
        self._realtime = realtime
        self._loop = loop
        self._stop = threading.Event()
        self._lock = threading.Lock()  # guards the capture: close() may come from another thread mid-read
        self._health = HealthTracker(source_id, str(path), live=False)
        self._iterated = False
        self._capture: Capture | None = open_file(str(path))
        self.native_fps = _usable_fps(float(self._capture.get(cv2.CAP_PROP_FPS))) or DEFAULT_FPS
        declared = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self.declared_frames = declared if declared > 0 and path.suffix.lower() in _COUNTED_SUFFIXES else 0
        # Decode the first frame now, so a file FFmpeg can open but not decode fails here, at open time.
        first = read_frame(self._capture)
        if first is None:
            self._release()
            raise SourceError(f"{path}: opened but no frame could be decoded (corrupt or unsupported video)")
        self._pending: tuple[ImageBGR, float] | None = (first, self._position_s(0))

    @property
    def source_id(self) -> str:
        return self._source_id

    def health(self) -> SourceHealth:
        return self._health.snapshot()

    def close(self) -> None:
        self._stop.set()
        self._health.set_state(SourceState.CLOSED)
        with self._lock:  # waits for at most one read in progress
            self._release()

    def frames(self) -> Iterator[Frame]:
        if self._iterated:
            raise RuntimeError(f"source {self._source_id}: frames() can be iterated only once")
        self._iterated = True
        return self._generate()

    def _generate(self) -> Iterator[Frame]:
        pacer = Pacer(self._stop) if self._realtime else None
        in_pass = 0  # frames decoded since the file was (re)opened
        try:
            while not self._stop.is_set():
                item = self._next_image(in_pass)
                if item is None:
                    self._check_complete(in_pass)
                    if not self._loop or not self._reopen():
                        break
                    in_pass = 0
                    continue
                image, media_time_s = item
                in_pass += 1
                if pacer is not None:
                    self._health.frames_missed(pacer.wait_until(media_time_s), self.native_fps)
                    if self._stop.is_set():
                        break
                captured_at = time.monotonic()
                index = self._health.frame_read(captured_at)
                yield Frame(self._source_id, index, image, captured_at, media_time_s)
            self._health.set_state(SourceState.ENDED)
        finally:
            with self._lock:
                self._release()

    def _next_image(self, in_pass: int) -> tuple[ImageBGR, float] | None:
        with self._lock:
            if self._pending is not None:
                item, self._pending = self._pending, None
                return item
            if self._capture is None:
                return None
            image = read_frame(self._capture)
            return None if image is None else (image, self._position_s(in_pass))

    def _position_s(self, in_pass: int) -> float:
        """Timestamp of the frame just read; the container's when sane, else derived from its index."""
        assert self._capture is not None
        msec = float(self._capture.get(cv2.CAP_PROP_POS_MSEC))
        if math.isfinite(msec) and msec >= 0 and (msec > 0 or in_pass == 0):
            return msec / 1000.0
        return in_pass / self.native_fps

    def _check_complete(self, decoded: int) -> None:
        if self._stop.is_set() or self.declared_frames == 0:
            return
        missing = self.declared_frames - decoded
        if missing > max(_COUNT_SLACK_FRAMES, self.declared_frames * _COUNT_SLACK_FRACTION):
            message = (
                f"{self._path}: video ends early, after {decoded} of {self.declared_frames} frames "
                "(truncated or corrupt file)"
            )
            self._health.set_state(SourceState.FAILED, message)
            raise SourceError(message)

    def _reopen(self) -> bool:
        with self._lock:
            self._release()
            if self._stop.is_set():
                return False
            try:
                self._capture = open_file(str(self._path))
            except SourceError as exc:
                self._health.set_state(SourceState.FAILED, str(exc))
                raise
            return True

    def _release(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


def _natural_key(path: Path) -> tuple[tuple[int, int | str], ...]:
    """frame_2.jpg before frame_10.jpg: digit runs compare as numbers."""
    parts = re.split(r"(\d+)", path.name)
    return tuple((0, int(p)) if p.isdigit() else (1, p.lower()) for p in parts if p)


class ImageFolderSource:
    """The images of one folder in natural name order, one frame each, at ``fps`` for media time."""

    live = False

    def __init__(
        self,
        folder: Path,
        *,
        source_id: str,
        realtime: bool = False,
        fps: float | None = None,
        loop: bool = False,
    ) -> None:
        if not folder.is_dir():
            raise SourceError(f"{folder}: not a folder")
        self._files = sorted(
            (p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES), key=_natural_key
        )
        if not self._files:
            raise SourceError(f"{folder}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in this folder")
        self._source_id = source_id
        self._realtime = realtime
        self._fps = fps or DEFAULT_FPS
        self._loop = loop
        self._stop = threading.Event()
        self._health = HealthTracker(source_id, str(folder), live=False)
        self._iterated = False

    @property
    def source_id(self) -> str:
        return self._source_id

    def health(self) -> SourceHealth:
        return self._health.snapshot()

    def close(self) -> None:
        self._stop.set()
        self._health.set_state(SourceState.CLOSED)

    def frames(self) -> Iterator[Frame]:
        if self._iterated:
            raise RuntimeError(f"source {self._source_id}: frames() can be iterated only once")
        self._iterated = True
        return self._generate()

    def _generate(self) -> Iterator[Frame]:
        pacer = Pacer(self._stop) if self._realtime else None
        while not self._stop.is_set():
            decoded = 0
            for position, path in enumerate(self._files):
                if self._stop.is_set():
                    break
                try:
                    image = load_image(path)
                except ImageDecodeError as exc:
                    # One unreadable image in a folder of frames is skipped, not fatal; health says which.
                    log.warning("source %s: skipping %s", self._source_id, exc)
                    self._health.note_error(str(exc))
                    continue
                decoded += 1
                media_time_s = position / self._fps
                if pacer is not None:
                    self._health.frames_missed(pacer.wait_until(media_time_s), self._fps)
                captured_at = time.monotonic()
                index = self._health.frame_read(captured_at)
                yield Frame(self._source_id, index, image, captured_at, media_time_s)
            if decoded == 0:
                message = f"source {self._source_id}: none of the {len(self._files)} images could be decoded"
                self._health.set_state(SourceState.FAILED, message)
                raise SourceError(message)
            if not self._loop:
                break
        self._health.set_state(SourceState.ENDED)
