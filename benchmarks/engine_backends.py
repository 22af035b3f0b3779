"""Why the engine runs YuNet and SFace with onnxruntime rather than OpenCV's DNN API.

Times both runtimes on the same real image and checks they agree (boxes, embeddings), then prints a
Markdown table. Run: `.venv/bin/python benchmarks/engine_backends.py [--data ../shared/data]`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import cv2
import numpy as np

from openlfr.bench.engine import machine_info, median_ms
from openlfr.config.models import Settings
from openlfr.embed.align import align_faces
from openlfr.engine import FaceEngine
from openlfr.imaging.decode import load_image
from openlfr.models.files import SFACE_FILE, YUNET_FILE, bundled_model
from openlfr.types import as_image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("LFR_SHARED_DATA", "../shared/data")))
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    cv2.setNumThreads(2)  # same core budget as the onnxruntime sessions
    engine = FaceEngine.from_settings(Settings())
    frame = as_image(cv2.resize(load_image(args.data / "scenes" / "selfie-many-people.jpg"), (640, 480)))

    opencv_detector = cv2.FaceDetectorYN.create(str(bundled_model(YUNET_FILE)), "", (640, 480), 0.6, 0.3, 5000)
    opencv_recogniser = cv2.FaceRecognizerSF.create(str(bundled_model(SFACE_FILE)), "")
    ours = engine.detector.detect(frame).sorted_by_area()
    _, theirs = opencv_detector.detect(frame)
    largest = theirs[np.argmax(theirs[:, 2] * theirs[:, 3])]
    box_diff = float(np.abs(ours.boxes[0] - [*largest[:2], *(largest[:2] + largest[2:4])]).max())
    crop = align_faces(frame, ours.landmarks[:1])
    opencv_crop = opencv_recogniser.alignCrop(frame, largest)
    ours_vec = engine.embedder.embed_aligned(crop)[0]
    theirs_vec = opencv_recogniser.feature(opencv_crop).reshape(-1)
    cosine = float(ours_vec @ theirs_vec / np.linalg.norm(theirs_vec))

    rows = [
        (
            "YuNet 640x480 frame",
            median_ms(lambda: engine.detector.detect(frame), args.repeat),
            median_ms(lambda: opencv_detector.detect(frame), args.repeat),
        ),
        (
            "SFace one face",
            median_ms(lambda: engine.embedder.embed_aligned(crop), args.repeat),
            median_ms(lambda: opencv_recogniser.feature(opencv_crop), args.repeat),
        ),
    ]
    print(f"machine: {machine_info()}")
    print(
        f"agreement: faces {len(ours)} vs {len(theirs)}, largest box max |diff| {box_diff:.3f} px, "
        f"embedding cosine {cosine:.6f}"
    )
    print("| stage | onnxruntime (ms) | OpenCV DNN (ms) |\n|---|---|---|")
    for name, ort_ms, cv_ms in rows:
        print(f"| {name} | {ort_ms:.2f} | {cv_ms:.2f} |")


if __name__ == "__main__":
    main()
