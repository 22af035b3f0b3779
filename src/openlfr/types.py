"""Typed, frozen records passed between pipeline stages.

Per-frame detections are one struct-of-arrays record (as in roboflow/supervision): numpy arrays per
field, shape-checked on construction, filterable with a boolean mask or index array.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

import numpy as np
import numpy.typing as npt

from openlfr.errors import ContractMismatchError

FloatArray = npt.NDArray[np.float32]
ImageBGR = npt.NDArray[np.uint8]
"""An 8-bit, 3-channel image in OpenCV's BGR order, shape (H, W, 3), C-contiguous."""


def _readonly(array: npt.NDArray[np.float32]) -> FloatArray:
    array = np.ascontiguousarray(array, dtype=np.float32)
    array.flags.writeable = False
    return array


@dataclass(frozen=True, slots=True)
class FaceDetections:
    """Faces found in one image: ``boxes`` (N,4) x1,y1,x2,y2 px; ``scores`` (N,); ``landmarks`` (N,5,2).

    Landmark order is the InsightFace/OpenCV convention: right eye, left eye (as seen in the
    image: left-most first), nose tip, right and left mouth corners.
    """

    boxes: FloatArray
    scores: FloatArray
    landmarks: FloatArray

    def __post_init__(self) -> None:
        boxes = _readonly(self.boxes).reshape(-1, 4)
        n = boxes.shape[0]
        scores = _readonly(self.scores).reshape(-1)
        landmarks = _readonly(self.landmarks)
        if scores.shape != (n,):
            raise ValueError(f"scores must have shape ({n},), got {scores.shape}")
        if landmarks.size == 0 and n == 0:
            landmarks = landmarks.reshape(0, 5, 2)
        if landmarks.shape != (n, 5, 2):
            raise ValueError(f"landmarks must have shape ({n}, 5, 2), got {landmarks.shape}")
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "scores", scores)
        object.__setattr__(self, "landmarks", landmarks)

    @classmethod
    def empty(cls) -> Self:
        return cls(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), np.zeros((0, 5, 2), np.float32))

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    def __getitem__(self, index: npt.NDArray[np.bool_] | npt.NDArray[np.intp] | slice | int) -> FaceDetections:
        if isinstance(index, int):
            index = slice(index, index + 1 if index != -1 else None)
        return FaceDetections(self.boxes[index], self.scores[index], self.landmarks[index])

    @property
    def areas(self) -> FloatArray:
        wh = np.clip(self.boxes[:, 2:] - self.boxes[:, :2], 0, None)
        areas: FloatArray = (wh[:, 0] * wh[:, 1]).astype(np.float32)
        return areas

    def scaled(self, factor: float) -> FaceDetections:
        """Coordinates multiplied by ``factor`` (maps detections on a resized image back to the original)."""
        return FaceDetections(self.boxes * factor, self.scores, self.landmarks * factor)

    def largest(self) -> FaceDetections:
        """The single largest face (by box area), or empty."""
        if len(self) == 0:
            return self
        return self[int(np.argmax(self.areas))]

    def sorted_by_area(self) -> FaceDetections:
        return self[np.argsort(-self.areas, kind="stable")]


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded video frame. ``captured_at`` (``time.monotonic()`` when the frame was read) is the
    origin of frame→alert latency; ``media_time_s`` is the position in the media (file sources) or
    seconds since the stream was opened (live sources)."""

    source_id: str
    index: int
    image: ImageBGR
    captured_at: float
    media_time_s: float


@dataclass(frozen=True, slots=True)
class ModelContract:
    """Identifies the vector space an embedding lives in; vectors of different contracts never compare."""

    model: str
    weights_sha256: str
    dimension: int
    preprocessing: str

    def as_dict(self) -> dict[str, str | int]:
        return {
            "model": self.model,
            "weights_sha256": self.weights_sha256,
            "dimension": self.dimension,
            "preprocessing": self.preprocessing,
        }

    def require_same(self, other: ModelContract) -> None:
        if self != other:
            raise ContractMismatchError(
                f"embeddings come from different models: {self.model} ({self.weights_sha256[:12]}, "
                f"{self.preprocessing}) vs {other.model} ({other.weights_sha256[:12]}, {other.preprocessing})"
            )


@dataclass(frozen=True, slots=True)
class Embedding:
    """An L2-normalised face embedding and the contract of the model that produced it."""

    vector: FloatArray
    contract: ModelContract = field(compare=False)

    def __post_init__(self) -> None:
        vector = _readonly(self.vector).reshape(-1)
        if vector.shape[0] != self.contract.dimension:
            raise ValueError(f"vector has {vector.shape[0]} values, contract says {self.contract.dimension}")
        object.__setattr__(self, "vector", vector)

    def similarity(self, other: Embedding) -> float:
        """Cosine similarity in [-1, 1]; raises ContractMismatchError across models."""
        self.contract.require_same(other.contract)
        return float(np.dot(self.vector, other.vector))


def stack_embeddings(embeddings: list[Embedding]) -> tuple[FloatArray, ModelContract]:
    """One (N, D) matrix from embeddings that must all share a contract."""
    if not embeddings:
        raise ValueError("no embeddings to stack")
    contract = embeddings[0].contract
    for embedding in embeddings[1:]:
        contract.require_same(embedding.contract)
    return np.stack([e.vector for e in embeddings]).astype(np.float32), contract


def l2_normalise(matrix: npt.NDArray[np.floating]) -> FloatArray:
    """Row-wise L2 normalisation; an all-zero row stays zero instead of becoming NaN."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    normalised: FloatArray = (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
    return normalised


def as_image(array: object) -> ImageBGR:
    """View an OpenCV result (typed ``MatLike``) as an 8-bit image; no copy when it already is one."""
    return np.asarray(array, dtype=np.uint8)
