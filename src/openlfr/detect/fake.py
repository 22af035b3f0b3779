"""A deterministic detector for tests: every bright rectangular blob is a "face".

Landmarks are placed where the 112×112 alignment template puts them inside the blob, so the rest of
the engine (alignment, quality, embedding) behaves as it would with a real frontal face.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from openlfr.config.models import DetectorConfig, FakeDetectorConfig
from openlfr.embed.align import ARCFACE_TEMPLATE_112
from openlfr.types import FaceDetections, ImageBGR


class FakeDetector:
    name = "fake"

    def __init__(self, config: FakeDetectorConfig) -> None:
        self.config = config

    def detect(self, image: ImageBGR) -> FaceDetections:
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        mask = (grey >= self.config.min_brightness).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
        boxes, landmarks = [], []
        for x, y, w, h, _area in stats[1:count]:
            if min(w, h) < self.config.min_size:
                continue
            boxes.append([x, y, x + w, y + h])
            landmarks.append(ARCFACE_TEMPLATE_112 / 112.0 * np.array([w, h]) + np.array([x, y]))
        if not boxes:
            return FaceDetections.empty()
        return FaceDetections(np.array(boxes, np.float32), np.ones(len(boxes), np.float32), np.array(landmarks))


def make_fake_detector(config: DetectorConfig, cache_dir: Path) -> FakeDetector:
    assert isinstance(config, FakeDetectorConfig)
    return FakeDetector(config)
