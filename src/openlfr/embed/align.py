"""5-point similarity-transform alignment to the standard 112×112 ArcFace template.

The transform (rotation, uniform scale, translation) is the least-squares fit of Umeyama (1991) from
the detected landmarks to the template, the same estimate as InsightFace's ``norm_crop`` and
OpenCV's ``FaceRecognizerSF::alignCrop``.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from openlfr.types import ImageBGR

ALIGNED_SIZE = 112
ALIGNMENT_VERSION = "align5-arcface112-v1"

# Right eye, left eye, nose tip, right and left mouth corner (image left-to-right), in a 112×112 crop.
ARCFACE_TEMPLATE_112 = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)


def similarity_transform(source: npt.ArrayLike, target: npt.ArrayLike) -> np.ndarray:
    """2×3 matrix M minimising Σ‖M·[s,1] − t‖² over rotations, uniform scales and translations."""
    src = np.asarray(source, dtype=np.float64)
    dst = np.asarray(target, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    covariance = dst_c.T @ src_c / len(src)
    u, singular, vt = np.linalg.svd(covariance)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:  # a reflection is not a similarity: flip the weakest axis
        d[-1] = -1
    rotation = u @ np.diag(d) @ vt
    variance = (src_c**2).sum() / len(src)
    scale = float((singular * d).sum() / variance) if variance > 0 else 1.0
    translation = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, translation[:, None]])


def align_faces(image: ImageBGR, landmarks: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """Aligned 112×112 BGR crops, shape (N, 112, 112, 3), one per (5, 2) landmark set."""
    landmarks = np.asarray(landmarks, dtype=np.float32).reshape(-1, 5, 2)
    crops = np.empty((landmarks.shape[0], ALIGNED_SIZE, ALIGNED_SIZE, 3), np.uint8)
    for index, points in enumerate(landmarks):
        matrix = similarity_transform(points, ARCFACE_TEMPLATE_112)
        crops[index] = cv2.warpAffine(
            image,
            matrix,
            (ALIGNED_SIZE, ALIGNED_SIZE),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
        )
    return crops
