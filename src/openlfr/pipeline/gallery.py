"""The watchlist as the pipeline sees it: an immutable, searchable snapshot (index + reference images).

The pipeline takes a snapshot, never a folder or a database: ``lfr watch`` builds one from a folder in
memory; the deployment runner will build one from a stored, authorised watchlist.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openlfr.config.quality import QualityThresholds
from openlfr.engine import FaceEngine
from openlfr.errors import DatasetError, ImageDecodeError
from openlfr.match.index import SearchHit, VectorIndex, build_index
from openlfr.quality.gate import gate_face
from openlfr.types import FloatArray, ModelContract

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm"})


@dataclass(frozen=True, slots=True)
class WatchlistSnapshot:
    name: str
    index: VectorIndex
    templates: FloatArray
    subject_ids: tuple[str, ...]
    references: tuple[str, ...]
    """per template: the reference image it came from (a path here; a media id for stored watchlists)"""

    @property
    def contract(self) -> ModelContract:
        return self.index.contract

    @property
    def subjects(self) -> int:
        return self.index.subjects

    def search(self, probes: FloatArray, k: int = 2) -> list[list[SearchHit]]:
        if probes.shape[0] == 0:
            return []
        return self.index.search(probes, k)

    def reference_for(self, subject_id: str, probe: FloatArray) -> str:
        """The subject's reference image whose template is closest to ``probe``; "" when the subject is not in
        this snapshot (erased between the search and this call: the alert is dropped before it is stored)."""
        rows = [i for i, s in enumerate(self.subject_ids) if s == subject_id]
        if not rows:
            return ""
        best = max(rows, key=lambda i: float(self.templates[i] @ probe))
        return self.references[best]

    def without(self, subject_ids: Collection[str]) -> WatchlistSnapshot | None:
        """This snapshot less every template of ``subject_ids`` (an erasure); itself when none is in it; None
        when nothing would be left to search."""
        gone = set(subject_ids)
        keep = [i for i, s in enumerate(self.subject_ids) if s not in gone]
        if len(keep) == len(self.subject_ids):
            return self
        if not keep:
            return None
        return build_snapshot(
            self.name,
            self.templates[keep],
            [self.subject_ids[i] for i in keep],
            [self.references[i] for i in keep],
            self.contract,
        )


def build_snapshot(
    name: str,
    templates: FloatArray,
    subject_ids: Sequence[str],
    references: Sequence[str],
    contract: ModelContract,
) -> WatchlistSnapshot:
    if not (len(templates) == len(subject_ids) == len(references)):
        raise ValueError("templates, subject_ids and references must have one entry per template")
    if len(templates) == 0:
        raise DatasetError(f"watchlist {name}: no usable reference image")
    index = build_index(np.asarray(templates, np.float32), list(subject_ids), contract)
    return WatchlistSnapshot(name, index, np.asarray(templates, np.float32), tuple(subject_ids), tuple(references))


@dataclass(frozen=True, slots=True)
class Skipped:
    path: Path
    reason: str


def relaxed_gate(strict: QualityThresholds) -> QualityThresholds:
    """The fallback for ad hoc enrolment: strict limits loosened, several faces allowed (largest passing one).

    Half the eye distance and a quarter of the sharpness: frames grabbed from compressed video (≈ 30 px
    between the eyes, Laplacian variance 20–40) are usable references for an evaluation run but fail the
    limits meant for custody photographs.
    """
    return strict.model_copy(
        update={
            "min_inter_ocular_px": strict.min_inter_ocular_px / 2,
            "min_detector_score": min(strict.min_detector_score, 0.6),
            "min_sharpness": strict.min_sharpness / 4,
            "max_yaw_deg": max(strict.max_yaw_deg, 40.0),
            "max_pitch_deg": max(strict.max_pitch_deg, 35.0),
            "max_roll_deg": max(strict.max_roll_deg, 35.0),
            "require_single_face": False,
        }
    )


def enrol_folder(
    engine: FaceEngine, folder: Path, only: Collection[str] | None = None
) -> tuple[WatchlistSnapshot, list[Skipped]]:
    """An in-memory watchlist from ``folder/<subject_id>/<images>`` (nothing is written anywhere); only the
    folders named in ``only`` when given.

    Each image is judged by the engine's enrolment gate; if it fails there, its largest face that passes a
    relaxed gate is used instead; otherwise the image is skipped (and listed with its reasons).
    """
    if not folder.is_dir():
        raise DatasetError(f"{folder}: not a folder (expected WL/<subject_id>/<images>)")
    strict = engine.config.enrolment_quality
    relaxed = relaxed_gate(strict)
    vectors: list[FloatArray] = []
    subjects: list[str] = []
    references: list[str] = []
    skipped: list[Skipped] = []
    for subject in sorted(p for p in folder.iterdir() if p.is_dir() and (only is None or p.name in only)):
        for path in sorted(p for p in subject.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            try:
                analysis = engine.analyse(engine.load(path), limits=strict)
            except ImageDecodeError as exc:
                skipped.append(Skipped(path, str(exc)))
                continue
            chosen = analysis.largest if analysis.verdict.passed else None
            if chosen is None:
                chosen = next((f for f in analysis.faces if not gate_face(f.quality, relaxed)), None)
            if chosen is None or chosen.embedding is None:
                skipped.append(Skipped(path, ",".join(analysis.verdict.reasons) or "no_face"))
                continue
            vectors.append(chosen.embedding.vector)
            subjects.append(subject.name)
            references.append(str(path))
    if not vectors:
        raise DatasetError(f"{folder}: no usable reference image in any subject folder")
    snapshot = build_snapshot(folder.name, np.stack(vectors), subjects, references, engine.contract)
    return snapshot, skipped
