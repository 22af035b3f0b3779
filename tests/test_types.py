from __future__ import annotations

import numpy as np
import pytest

from openlfr.errors import ContractMismatchError
from openlfr.types import Embedding, FaceDetections, ModelContract, l2_normalise, stack_embeddings

CONTRACT = ModelContract("m", "a" * 64, 3, "p1")


def _detections(n: int) -> FaceDetections:
    boxes = np.array([[0, 0, 10 * (i + 1), 10 * (i + 1)] for i in range(n)], np.float32)
    return FaceDetections(boxes, np.linspace(0.5, 0.9, n), np.zeros((n, 5, 2)))


def test_detections_are_shape_checked() -> None:
    with pytest.raises(ValueError, match="scores"):
        FaceDetections(np.zeros((2, 4)), np.zeros(3), np.zeros((2, 5, 2)))
    with pytest.raises(ValueError, match="landmarks"):
        FaceDetections(np.zeros((2, 4)), np.zeros(2), np.zeros((2, 4, 2)))


def test_detections_are_read_only_and_filterable() -> None:
    found = _detections(3)
    with pytest.raises(ValueError):
        found.boxes[0, 0] = 5
    assert len(found[found.scores > 0.6]) == 2
    assert len(found[1]) == 1 and found[-1].boxes[0, 2] == 30
    assert found.largest().boxes[0, 2] == 30
    assert found.sorted_by_area().boxes[:, 2].tolist() == [30, 20, 10]
    assert len(FaceDetections.empty().largest()) == 0


def test_scaled_maps_boxes_and_landmarks() -> None:
    found = FaceDetections(np.array([[1, 2, 3, 4]]), np.array([0.9]), np.ones((1, 5, 2)))
    scaled = found.scaled(2.0)
    assert scaled.boxes.tolist() == [[2, 4, 6, 8]] and scaled.landmarks.max() == 2 and scaled.scores[0] == 0.9


def test_embeddings_of_different_contracts_never_compare() -> None:
    a = Embedding(l2_normalise(np.array([1.0, 2.0, 2.0])), CONTRACT)
    same_space = Embedding(l2_normalise(np.array([1.0, 2.0, 2.0])), CONTRACT)
    other = Embedding(a.vector, ModelContract("m", "a" * 64, 3, "p2"))
    assert a.similarity(same_space) == pytest.approx(1.0)
    with pytest.raises(ContractMismatchError, match="different models"):
        a.similarity(other)
    with pytest.raises(ContractMismatchError):
        stack_embeddings([a, other])
    matrix, contract = stack_embeddings([a, same_space])
    assert matrix.shape == (2, 3) and contract == CONTRACT


def test_embedding_dimension_must_match_contract() -> None:
    with pytest.raises(ValueError, match="contract says 3"):
        Embedding(np.ones(4, np.float32), CONTRACT)


def test_l2_normalise_keeps_zero_rows_finite() -> None:
    out = l2_normalise(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert np.allclose(out, [[0.6, 0.8], [0.0, 0.0]])
