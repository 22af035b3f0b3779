"""The face engine: detection → alignment → quality → embedding, composed from configured backends.

Everything stays in memory: the engine never writes a crop, an embedding or an image anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from openlfr.config.models import EngineConfig, Settings
from openlfr.config.quality import QualityThresholds
from openlfr.detect.base import FaceDetector, create_detector, detect_scaled
from openlfr.embed.align import align_faces
from openlfr.embed.base import FaceEmbedder, create_embedder
from openlfr.imaging.decode import load_image
from openlfr.quality.gate import QualityVerdict, assess_image
from openlfr.quality.metrics import FaceQuality, measure_face
from openlfr.types import Embedding, FaceDetections, ImageBGR, ModelContract, as_image

SMALL_IMAGE_SIDE = 400


@dataclass(frozen=True, slots=True)
class AnalysedFace:
    """One face of an image: where it is, how good it is, and (if asked for) its embedding."""

    detection: FaceDetections
    quality: FaceQuality
    embedding: Embedding | None


@dataclass(frozen=True, slots=True)
class ImageAnalysis:
    """All faces of one image, largest first, and the gate's verdict on the largest."""

    faces: tuple[AnalysedFace, ...]
    verdict: QualityVerdict

    @property
    def largest(self) -> AnalysedFace | None:
        return self.faces[0] if self.faces else None


class FaceEngine:
    def __init__(self, config: EngineConfig, detector: FaceDetector, embedder: FaceEmbedder) -> None:
        self.config = config
        self.detector = detector
        self.embedder = embedder

    @classmethod
    def from_settings(cls, settings: Settings) -> FaceEngine:
        config = settings.engine
        return cls(
            config,
            create_detector(config.detector, settings.models_cache_dir),
            create_embedder(config.embedder, settings.models_cache_dir),
        )

    @property
    def contract(self) -> ModelContract:
        return self.embedder.contract

    def load(self, path: Path) -> ImageBGR:
        return load_image(path, max_pixels=self.config.max_image_pixels)

    def detect(self, image: ImageBGR) -> FaceDetections:
        """Faces in ``image`` (original coordinates), largest first."""
        found = detect_scaled(self.detector, image, self.config.detection_max_side)
        if len(found) == 0 and self.config.small_image_pad > 0 and max(image.shape[:2]) <= SMALL_IMAGE_SIDE:
            found = self._detect_padded(image)
        return found.sorted_by_area()

    def _detect_padded(self, image: ImageBGR) -> FaceDetections:
        # A tight face chip (the face fills the image) has no context for the detector: give it some.
        height, width = image.shape[:2]
        pad_y, pad_x = round(height * self.config.small_image_pad), round(width * self.config.small_image_pad)
        padded = as_image(cv2.copyMakeBorder(image, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_CONSTANT, value=(0, 0, 0)))
        found = detect_scaled(self.detector, padded, self.config.detection_max_side)
        offset = np.array([pad_x, pad_y], np.float32)
        return FaceDetections(found.boxes - np.tile(offset, 2), found.scores, found.landmarks - offset)

    def embed(self, image: ImageBGR, detections: FaceDetections) -> list[Embedding]:
        """One embedding per detection, computed in one batch."""
        vectors = self.embedder.embed_aligned(align_faces(image, detections.landmarks))
        return [Embedding(vector, self.contract) for vector in vectors]

    def analyse(
        self,
        image: ImageBGR,
        *,
        embed: bool = True,
        largest_only: bool = False,
        limits: QualityThresholds | None = None,
    ) -> ImageAnalysis:
        """Detect, align, measure quality and (optionally) embed every face (or only the largest)."""
        if largest_only and limits is not None and limits.require_single_face:
            raise ValueError("largest_only cannot check require_single_face")
        detections = self.detect(image)
        if largest_only:
            detections = detections[:1]
        crops = align_faces(image, detections.landmarks)
        vectors = self.embedder.embed_aligned(crops) if embed else None
        faces = tuple(
            AnalysedFace(
                detection=detections[i],
                quality=measure_face(
                    image.shape,
                    detections.boxes[i],
                    detections.landmarks[i],
                    float(detections.scores[i]),
                    crops[i],
                ),
                embedding=Embedding(vectors[i], self.contract) if vectors is not None else None,
            )
            for i in range(len(detections))
        )
        verdict = assess_image([f.quality for f in faces], limits or self.config.quality)
        return ImageAnalysis(faces, verdict)
