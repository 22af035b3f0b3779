"""A labelled face folder: ``DATASET/<identity>/<image>``, and one embedding per image (its largest face, or the
face nearest the centre for datasets cropped around their subject, such as LFW)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from openlfr.embed.align import align_faces
from openlfr.engine import FaceEngine
from openlfr.errors import DatasetError, ImageDecodeError
from openlfr.types import FaceDetections, FloatArray, ModelContract

log = logging.getLogger(__name__)

# Files that sit in face folders but are not images (metadata, notes); everything else is tried.
_NOT_IMAGES = {".txt", ".csv", ".json", ".md", ".xml", ".yaml", ".yml"}


@dataclass(frozen=True, slots=True)
class LabelledImage:
    identity: str
    path: Path


@dataclass(frozen=True, slots=True)
class Failure:
    path: Path
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"path": str(self.path), "reason": self.reason}


def scan_dataset(root: Path) -> list[LabelledImage]:
    """Every image file, sorted by identity then file name (the order all evaluation relies on)."""
    if not root.is_dir():
        raise DatasetError(f"{root}: not a directory (expected DATASET/<identity>/<image>)")
    items = [
        LabelledImage(identity_dir.name, path)
        for identity_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        for path in sorted(identity_dir.iterdir(), key=lambda p: p.name)
        if path.is_file() and not path.name.startswith(".") and path.suffix.lower() not in _NOT_IMAGES
    ]
    if not items:
        raise DatasetError(f"{root}: no images found (expected DATASET/<identity>/<image>)")
    return items


FaceChoice = Literal["largest", "centred"]
FACE_CHOICES: tuple[FaceChoice, ...] = ("largest", "centred")


def chosen_face(detections: FaceDetections, shape: tuple[int, ...], face: FaceChoice) -> int:
    """Which detection stands for the image: the largest (``detections`` come largest first), or the one whose
    box centre is nearest the image centre (LFW crops every photo around its subject; the largest face in it is
    sometimes someone else: Kosuke_Kitajima_0002 shows Brendan Hansen larger)."""
    if face == "largest" or len(detections) < 2:
        return 0
    height, width = shape[:2]
    centres = (detections.boxes[:, :2] + detections.boxes[:, 2:]) / 2
    offsets = centres - np.array([width / 2, height / 2], np.float32)
    return int(np.argmin((offsets**2).sum(axis=1)))


@dataclass(frozen=True, slots=True)
class DatasetEmbeddings:
    """One embedding per usable image; ``failures`` lists the rest with reasons."""

    images: tuple[LabelledImage, ...]
    vectors: FloatArray
    failures: tuple[Failure, ...]
    contract: ModelContract

    @property
    def labels(self) -> list[str]:
        return [image.identity for image in self.images]


def embed_dataset(
    engine: FaceEngine,
    items: list[LabelledImage],
    batch_size: int = 32,
    progress: Callable[[Iterable[LabelledImage]], Iterator[LabelledImage]] = iter,
    face: FaceChoice = "largest",
) -> DatasetEmbeddings:
    """Detect and align each image's chosen face (``chosen_face``), embed in batches; a bad file is a Failure,
    not a crash."""
    usable: list[LabelledImage] = []
    crops: list[np.ndarray] = []
    vectors: list[FloatArray] = []
    failures: list[Failure] = []
    for item in progress(items):
        try:
            image = engine.load(item.path)
        except ImageDecodeError as exc:
            failures.append(Failure(item.path, str(exc).removeprefix(f"{item.path}: ")))
            continue
        detections = engine.detect(image)
        if len(detections) == 0:
            failures.append(Failure(item.path, "no_face"))
            continue
        usable.append(item)
        index = chosen_face(detections, image.shape, face)
        crops.append(align_faces(image, detections.landmarks[index : index + 1])[0])
        if len(crops) == batch_size:
            vectors.append(engine.embedder.embed_aligned(np.stack(crops)))
            crops = []
    if crops:
        vectors.append(engine.embedder.embed_aligned(np.stack(crops)))
    for failure in failures:
        log.info("skipped %s: %s", failure.path, failure.reason)
    dimension = engine.contract.dimension
    matrix = np.concatenate(vectors) if vectors else np.zeros((0, dimension), np.float32)
    return DatasetEmbeddings(tuple(usable), matrix, tuple(failures), engine.contract)
