"""Opening OpenCV captures (FFmpeg backend) with timeouts, and reading them without exceptions leaking."""

from __future__ import annotations

import os
import threading
from typing import Any

import cv2

from openlfr.errors import SourceError
from openlfr.sources.redact import redact
from openlfr.types import ImageBGR, as_image

# FFmpeg reads these options at every open. TCP because RTSP over UDP loses packets (smeared frames)
# on any busy network; a value the operator set in the environment wins.
_FFMPEG_OPTIONS_ENV = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
_DEFAULT_FFMPEG_OPTIONS = "rtsp_transport;tcp"
_env_lock = threading.Lock()

Capture = Any  # cv2.VideoCapture (cv2 ships no usable type stubs)


def open_stream(url: str, *, open_timeout_s: float, read_timeout_s: float) -> Capture:
    """Open a network stream (RTSP/HTTP) or raise SourceError with a credential-free reason."""
    with _env_lock:
        os.environ.setdefault(_FFMPEG_OPTIONS_ENV, _DEFAULT_FFMPEG_OPTIONS)
    params = [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
        int(open_timeout_s * 1000),
        cv2.CAP_PROP_READ_TIMEOUT_MSEC,
        int(read_timeout_s * 1000),
    ]
    return _open(url, cv2.CAP_FFMPEG, params, what=redact(url), why="unreachable, refused, or not a video stream")


def open_file(path: str) -> Capture:
    """Open a video file with FFmpeg or raise SourceError."""
    why = "not a video format FFmpeg reads, or a corrupt or truncated file (e.g. an mp4 cut before its index)"
    return _open(path, cv2.CAP_FFMPEG, [], what=path, why=why)


def open_webcam(index: int) -> Capture:
    """Open a local camera (V4L2 on Linux) or raise SourceError."""
    return _open(index, cv2.CAP_ANY, [], what=f"webcam:{index}", why="no such camera, or it is busy")


def _open(target: str | int, backend: int, params: list[int], *, what: str, why: str) -> Capture:
    try:
        capture = cv2.VideoCapture(target, backend, params)
    except cv2.error as exc:  # OpenCV raises for some malformed targets instead of returning closed
        raise SourceError(f"{what}: cannot open ({redact(str(exc)).strip()})") from None
    if not capture.isOpened():
        capture.release()
        raise SourceError(f"{what}: cannot open ({why})")
    return capture


def read_frame(capture: Capture) -> ImageBGR | None:
    """The next decoded frame as a contiguous BGR uint8 image, or None at end of stream / on error."""
    try:
        ok, image = capture.read()
    except cv2.error:
        return None
    if not ok or image is None or image.size == 0:
        return None
    if image.ndim == 2:  # some webcams / grey codecs
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return as_image(image)
