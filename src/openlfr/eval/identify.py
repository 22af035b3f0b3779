"""Open-set 1:N identification: a deterministic gallery/probe split of a labelled folder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from openlfr.errors import DatasetError
from openlfr.eval.dataset import DatasetEmbeddings, LabelledImage
from openlfr.eval.metrics import OpenSetResult, Scores, open_set_identification
from openlfr.eval.verify import _rate_notes

FPIR_TARGETS = (0.1, 0.01, 0.001)


@dataclass(frozen=True, slots=True)
class Split:
    gallery_identities: tuple[str, ...]
    enrolment: tuple[LabelledImage, ...]
    mated_probes: tuple[LabelledImage, ...]
    nonmated_probes: tuple[LabelledImage, ...]


def split_dataset(items: list[LabelledImage], enrol: int, seed: int) -> Split:
    """Identities shuffled by ``seed``; the first half (rounded up) is the gallery. Each gallery
    identity enrols its first ``enrol`` images by file name; its other images are mated probes.
    Every image of the other half is a non-mated probe."""
    if enrol < 1:
        raise DatasetError("--enrol must be at least 1")
    identities = sorted({item.identity for item in items})
    if len(identities) < 2:
        raise DatasetError("identification needs at least 2 identities")
    order = np.random.default_rng(seed).permutation(len(identities))
    gallery = {identities[i] for i in order[: len(identities) - len(identities) // 2]}
    enrolment, mated, nonmated = [], [], []
    for identity in identities:
        images = sorted((item for item in items if item.identity == identity), key=lambda item: item.path.name)
        if identity in gallery:
            enrolment.extend(images[:enrol])
            mated.extend(images[enrol:])
        else:
            nonmated.extend(images)
    return Split(tuple(sorted(gallery)), tuple(enrolment), tuple(mated), tuple(nonmated))


@dataclass(frozen=True, slots=True)
class ProbeResults:
    mated_top_scores: Scores
    mated_top_correct: np.ndarray
    nonmated_top_scores: Scores
    enrolled_identities: tuple[str, ...]


def search_probes(data: DatasetEmbeddings, split: Split) -> ProbeResults:
    """Rank-1 candidate of every usable probe; an identity's score is its best template's."""
    index = {image.path: row for row, image in enumerate(data.images)}
    enrol_rows = [index[item.path] for item in split.enrolment if item.path in index]
    enrolled = sorted({data.images[row].identity for row in enrol_rows})
    if not enrolled:
        raise DatasetError("no gallery image has a usable face")
    identity_of_template = np.array([enrolled.index(data.images[row].identity) for row in enrol_rows])
    templates = data.vectors[enrol_rows]

    def top1(probes: tuple[LabelledImage, ...]) -> tuple[Scores, np.ndarray]:
        rows = [index[item.path] for item in probes if item.path in index]
        if not rows:
            return np.zeros(0), np.zeros(0, dtype=np.intp)
        scores = data.vectors[rows] @ templates.T
        per_identity = np.full((len(rows), len(enrolled)), -np.inf)
        for identity in range(len(enrolled)):
            per_identity[:, identity] = scores[:, identity_of_template == identity].max(axis=1)
        best = per_identity.argmax(axis=1)
        return per_identity[np.arange(len(rows)), best].astype(np.float64), best

    mated_scores, mated_best = top1(split.mated_probes)
    mated_truth = [
        enrolled.index(i.identity) if i.identity in enrolled else -1 for i in split.mated_probes if i.path in index
    ]
    nonmated_scores, _ = top1(split.nonmated_probes)
    correct = mated_best == np.array(mated_truth, dtype=np.intp)
    return ProbeResults(mated_scores, correct, nonmated_scores, tuple(enrolled))


def identification_report(
    data: DatasetEmbeddings, split: Split, results: ProbeResults, dataset: str, enrol: int, seed: int
) -> dict[str, Any]:
    if results.mated_top_scores.size == 0:
        raise DatasetError(
            f"{dataset}: no mated probes with a usable face; gallery identities need more than --enrol {enrol} images"
        )
    if results.nonmated_top_scores.size == 0:
        raise DatasetError(f"{dataset}: no non-mated probes with a usable face")
    metrics: OpenSetResult = open_set_identification(
        results.mated_top_scores, results.mated_top_correct, results.nonmated_top_scores, FPIR_TARGETS
    )
    usable = {image.path for image in data.images}
    return {
        "dataset": dataset,
        "seed": seed,
        "enrol": enrol,
        "images": len(data.images) + len(data.failures),
        "failed": len(data.failures),
        "failures": [failure.as_dict() for failure in data.failures],
        "gallery_identities": len(results.enrolled_identities),
        "gallery_templates": sum(1 for item in split.enrolment if item.path in usable),
        "mated_probes": int(results.mated_top_scores.size),
        "nonmated_probes": int(results.nonmated_top_scores.size),
        "rank1": metrics.rank1,
        "fnir_at_fpir": metrics.fnir_at_fpir,
        "threshold_at_fpir": metrics.threshold_at_fpir,
        "notes": _rate_notes(FPIR_TARGETS, int(results.nonmated_top_scores.size), "non-mated probes", "FPIR"),
        "model": data.contract.as_dict(),
    }
