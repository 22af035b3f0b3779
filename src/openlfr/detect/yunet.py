"""YuNet (libfacedetection, MIT; OpenCV Zoo 2023mar int8bq) run by onnxruntime or OpenVINO.

Decoding follows OpenCV's ``FaceDetectorYN`` for this model: per stride s ∈ {8,16,32} and grid cell
(r, c): score = sqrt(cls·obj); centre = ((c, r) + bbox[:2])·s; size = exp(bbox[2:])·s;
landmark k = ((c, r) + kps[2k:2k+2])·s. Input is BGR 0..255 float, padded to a multiple of 32.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from openlfr.config.models import DetectorConfig, YuNetConfig
from openlfr.detect.base import nms, pad_to_multiple
from openlfr.models.files import YUNET_FILE, bundled_model
from openlfr.models.onnx_convert import converted_model_path
from openlfr.models.runtime import RuntimeChoice, create_runner
from openlfr.types import FaceDetections, ImageBGR

STRIDES = (8, 16, 32)


class YuNetDetector:
    name = "yunet"

    def __init__(self, config: YuNetConfig, cache_dir: Path) -> None:
        self.config = config
        source = config.model_path or bundled_model(YUNET_FILE)
        path = converted_model_path(source, cache_dir, [(2, "H"), (3, "W")], [(1, "A")])
        self._runner = create_runner(
            path,
            config.threads,
            config.runtime,
            config.precision,
            what="YuNet detector",
            parallel_calls=config.parallel_calls,
        )

    @property
    def runtime(self) -> RuntimeChoice:
        return self._runner.choice

    def detect(self, image: ImageBGR) -> FaceDetections:
        padded = pad_to_multiple(image, 32)
        height, width = padded.shape[:2]
        outputs = dict(zip(self._runner.output_names, self._runner.run_images(padded[None]), strict=True))
        return decode_yunet(outputs, width, height, self.config.score_threshold, self.config.nms_threshold)


def decode_yunet(
    outputs: dict[str, np.ndarray], width: int, height: int, score_threshold: float, nms_threshold: float
) -> FaceDetections:
    boxes, scores, landmarks = [], [], []
    for stride in STRIDES:
        cols, rows = width // stride, height // stride
        cls = np.clip(outputs[f"cls_{stride}"].reshape(-1), 0, 1)
        obj = np.clip(outputs[f"obj_{stride}"].reshape(-1), 0, 1)
        bbox = outputs[f"bbox_{stride}"].reshape(-1, 4)
        kps = outputs[f"kps_{stride}"].reshape(-1, 5, 2)
        score = np.sqrt(cls * obj)
        keep = np.flatnonzero(score >= score_threshold)
        if keep.size == 0:
            continue
        grid = np.stack([keep % cols, keep // cols], axis=1).astype(np.float32)
        assert rows * cols == cls.shape[0], "output size does not match the input grid"
        centre = (grid + bbox[keep, :2]) * stride
        size = np.exp(bbox[keep, 2:]) * stride
        boxes.append(np.concatenate([centre - size / 2, centre + size / 2], axis=1))
        scores.append(score[keep])
        landmarks.append((grid[:, None, :] + kps[keep]) * stride)
    if not boxes:
        return FaceDetections.empty()
    all_boxes = np.concatenate(boxes)
    all_scores = np.concatenate(scores)
    keep_idx = nms(all_boxes, all_scores, score_threshold, nms_threshold)
    return FaceDetections(all_boxes[keep_idx], all_scores[keep_idx], np.concatenate(landmarks)[keep_idx])


def make_yunet_detector(config: DetectorConfig, cache_dir: Path) -> YuNetDetector:
    assert isinstance(config, YuNetConfig)
    return YuNetDetector(config, cache_dir)
