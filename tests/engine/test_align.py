from __future__ import annotations

import math

import numpy as np
import pytest

from openlfr.embed.align import ALIGNED_SIZE, ARCFACE_TEMPLATE_112, align_faces, similarity_transform


def _similarity(scale: float, angle_deg: float, tx: float, ty: float) -> np.ndarray:
    a = math.radians(angle_deg)
    return np.array([[scale * math.cos(a), -scale * math.sin(a), tx], [scale * math.sin(a), scale * math.cos(a), ty]])


def test_recovers_a_known_similarity_exactly() -> None:
    truth = _similarity(0.37, 23.0, 12.5, -40.0)
    source = np.random.default_rng(1).uniform(0, 500, (5, 2))
    target = source @ truth[:, :2].T + truth[:, 2]
    assert np.allclose(similarity_transform(source, target), truth, atol=1e-9)


def test_never_returns_a_reflection() -> None:
    source = ARCFACE_TEMPLATE_112.astype(np.float64)
    mirrored = source * np.array([-1.0, 1.0])
    matrix = similarity_transform(source, mirrored)
    assert np.linalg.det(matrix[:, :2]) > 0


def test_template_landmarks_map_to_themselves() -> None:
    matrix = similarity_transform(ARCFACE_TEMPLATE_112, ARCFACE_TEMPLATE_112)
    assert np.allclose(matrix, [[1, 0, 0], [0, 1, 0]], atol=1e-9)


def test_aligned_crop_puts_landmarks_on_the_template() -> None:
    # Draw dots at landmarks of a face rotated by 30° and scaled ×2.5 in a big image, then align.
    truth = _similarity(2.5, 30.0, 200.0, 150.0)
    points = ARCFACE_TEMPLATE_112 @ truth[:, :2].T + truth[:, 2]
    image = np.zeros((600, 600, 3), np.uint8)
    for x, y in points:
        image[round(y) - 2 : round(y) + 3, round(x) - 2 : round(x) + 3] = 255
    crops = align_faces(image, points[None].astype(np.float32))
    assert crops.shape == (1, ALIGNED_SIZE, ALIGNED_SIZE, 3) and crops.dtype == np.uint8
    for x, y in ARCFACE_TEMPLATE_112:
        assert crops[0, round(y), round(x)].max() > 100, (x, y)


def test_no_landmarks_give_no_crops() -> None:
    assert align_faces(np.zeros((10, 10, 3), np.uint8), np.zeros((0, 5, 2), np.float32)).shape == (0, 112, 112, 3)


@pytest.mark.parametrize("bad", [np.zeros((5, 3)), np.zeros((4, 2))])
def test_landmark_shape_is_checked(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        align_faces(np.zeros((10, 10, 3), np.uint8), bad.astype(np.float32))
