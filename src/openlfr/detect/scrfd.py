"""SCRFD (InsightFace) detector for a user-supplied ONNX file.

UNTESTED AGAINST REAL WEIGHTS: none ship here (InsightFace's are non-commercial). The decoding follows
InsightFace's ``SCRFD`` class and is tested only for its shape contract with tiny graphs built in the
tests. Conventions: input RGB, (x − 127.5)/128, square ``input_size``; outputs for strides 8, 16, 32
with 2 anchors per cell, ordered [scores×3, boxes×3, landmarks×3] (9 outputs) or [scores×3, boxes×3]
(6 outputs, no landmarks: such a model cannot align faces and is refused). Boxes and landmarks are
distances in stride units from the anchor centre.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from openlfr.config.models import DetectorConfig, ScrfdOnnxConfig
from openlfr.detect.base import nms
from openlfr.errors import ModelLoadError
from openlfr.models.runtime import create_session
from openlfr.types import FaceDetections, ImageBGR

STRIDES = (8, 16, 32)
ANCHORS_PER_CELL = 2


class ScrfdDetector:
    name = "scrfd_onnx"

    def __init__(self, config: ScrfdOnnxConfig) -> None:
        self.config = config
        if not config.model_path.is_file():
            raise ModelLoadError(f"SCRFD model file not found: {config.model_path}")
        self._session = create_session(config.model_path, config.threads)
        outputs = self._session.get_outputs()
        if len(outputs) != 9:
            raise ModelLoadError(
                f"{config.model_path}: expected 9 outputs (scores, boxes, landmarks for 3 strides), "
                f"got {len(outputs)}; only SCRFD models with landmarks can be used"
            )
        self._input_name = self._session.get_inputs()[0].name

    def detect(self, image: ImageBGR) -> FaceDetections:
        size = self.config.input_size
        height, width = image.shape[:2]
        scale = size / max(height, width)  # letterbox: fit, keep aspect, pad bottom/right
        resized = cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))))
        canvas = np.zeros((size, size, 3), np.uint8)
        canvas[: resized.shape[0], : resized.shape[1]] = resized
        blob = ((canvas[:, :, ::-1].astype(np.float32) - 127.5) / 128.0).transpose(2, 0, 1)[None]
        outputs = self._session.run(None, {self._input_name: blob})
        found = decode_scrfd(outputs, size, self.config.score_threshold, self.config.nms_threshold)
        return found.scaled(1.0 / scale)


def anchor_centres(size: int, stride: int) -> np.ndarray:
    cells = size // stride
    ys, xs = np.mgrid[:cells, :cells]
    centres = (np.stack([xs, ys], axis=-1).reshape(-1, 2) * stride).astype(np.float32)
    return np.repeat(centres, ANCHORS_PER_CELL, axis=0)


def decode_scrfd(outputs: list[np.ndarray], size: int, score_threshold: float, nms_threshold: float) -> FaceDetections:
    boxes, scores, landmarks = [], [], []
    for level, stride in enumerate(STRIDES):
        level_scores = outputs[level].reshape(-1)
        distances = outputs[level + 3].reshape(-1, 4) * stride
        points = outputs[level + 6].reshape(-1, 5, 2) * stride
        centres = anchor_centres(size, stride)
        if centres.shape[0] != level_scores.shape[0]:
            raise ModelLoadError(
                f"SCRFD output for stride {stride} has {level_scores.shape[0]} anchors, "
                f"expected {centres.shape[0]} for input {size}"
            )
        keep = np.flatnonzero(level_scores >= score_threshold)
        c = centres[keep]
        d = distances[keep]
        boxes.append(np.concatenate([c - d[:, :2], c + d[:, 2:]], axis=1))
        scores.append(level_scores[keep])
        landmarks.append(c[:, None, :] + points[keep])
    all_boxes = np.concatenate(boxes)
    all_scores = np.concatenate(scores)
    keep_idx = nms(all_boxes, all_scores, score_threshold, nms_threshold)
    return FaceDetections(all_boxes[keep_idx], all_scores[keep_idx], np.concatenate(landmarks)[keep_idx])


def make_scrfd_detector(config: DetectorConfig, cache_dir: Path) -> ScrfdDetector:
    assert isinstance(config, ScrfdOnnxConfig)
    return ScrfdDetector(config)
