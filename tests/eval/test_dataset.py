"""Which face of a dataset image is its subject."""

from __future__ import annotations

import numpy as np

from openlfr.eval.dataset import chosen_face
from openlfr.types import FaceDetections


def _faces(*boxes: tuple[float, float, float, float]) -> FaceDetections:
    n = len(boxes)
    return FaceDetections(np.array(boxes, np.float32), np.full(n, 0.9, np.float32), np.zeros((n, 5, 2), np.float32))


def test_largest_is_the_first_detection_and_centred_the_nearest_the_middle() -> None:
    # As the engine returns them: largest first. A 250x250 LFW-style image: a big face at the edge, the
    # subject (smaller) in the middle.
    faces = _faces((150, 10, 250, 130), (95, 95, 155, 160), (0, 0, 30, 30))
    assert chosen_face(faces, (250, 250, 3), "largest") == 0
    assert chosen_face(faces, (250, 250, 3), "centred") == 1
    assert chosen_face(_faces((10, 10, 50, 50)), (250, 250, 3), "centred") == 0  # one face: that one
