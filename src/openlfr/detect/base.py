"""The detector protocol, the registry keyed by config ``type``, and resolution handling shared by all."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from openlfr.config.models import DetectorConfig
from openlfr.types import FaceDetections, ImageBGR, as_image


class FaceDetector(Protocol):
    """Finds faces and their 5 landmarks in a BGR image, in that image's pixel coordinates.

    ``detect`` may be called from several threads at once (the live pipeline detects on each camera's thread).
    """

    name: str

    def detect(self, image: ImageBGR) -> FaceDetections: ...


DetectorFactory = Callable[[DetectorConfig, Path], FaceDetector]


def _registry() -> dict[str, DetectorFactory]:
    # Imported lazily so that a heavy backend is loaded only when configured.
    from openlfr.detect.fake import make_fake_detector
    from openlfr.detect.scrfd import make_scrfd_detector
    from openlfr.detect.yunet import make_yunet_detector

    return {"yunet": make_yunet_detector, "scrfd_onnx": make_scrfd_detector, "fake": make_fake_detector}


def create_detector(config: DetectorConfig, cache_dir: Path) -> FaceDetector:
    """The backend named by ``config.type``."""
    return _registry()[config.type](config, cache_dir)


def detect_scaled(detector: FaceDetector, image: ImageBGR, max_side: int) -> FaceDetections:
    """Detect on a copy downscaled so its long side is at most ``max_side``; coordinates map back.

    YuNet-class detectors are trained on faces up to ~300 px: a face filling a 2000 px photo is
    missed at full size, and detection cost grows with the pixel count.
    """
    height, width = image.shape[:2]
    scale = max(height, width) / max_side
    if scale <= 1.0:
        return detector.detect(image)
    small = as_image(
        cv2.resize(image, (max(1, round(width / scale)), max(1, round(height / scale))), interpolation=cv2.INTER_AREA)
    )
    factor_x = width / small.shape[1]
    factor_y = height / small.shape[0]
    found = detector.detect(small)
    # Aspect ratio is kept up to rounding, so one factor per axis, averaged, is exact to < 0.5 px.
    return found.scaled((factor_x + factor_y) / 2.0)


def pad_to_multiple(image: ImageBGR, multiple: int) -> ImageBGR:
    """Zero-pad bottom/right so both sides are multiples of ``multiple`` (coordinates are unchanged)."""
    height, width = image.shape[:2]
    pad_h = (-height) % multiple
    pad_w = (-width) % multiple
    if not pad_h and not pad_w:
        return image
    return as_image(cv2.copyMakeBorder(image, 0, pad_h, 0, pad_w, cv2.BORDER_CONSTANT, value=(0, 0, 0)))


def nms(boxes: np.ndarray, scores: np.ndarray, score_threshold: float, iou_threshold: float) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, highest score first."""
    order = np.flatnonzero(scores >= score_threshold)
    order = order[np.argsort(-scores[order], kind="stable")]
    keep: list[int] = []
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    while order.size:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        x1 = np.maximum(boxes[best, 0], boxes[rest, 0])
        y1 = np.maximum(boxes[best, 1], boxes[rest, 1])
        x2 = np.minimum(boxes[best, 2], boxes[rest, 2])
        y2 = np.minimum(boxes[best, 3], boxes[rest, 3])
        inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
        iou = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-9)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, dtype=np.intp)
