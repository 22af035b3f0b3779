"""1:1 verification over all genuine and all impostor pairs of a labelled folder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from openlfr.errors import DatasetError
from openlfr.eval.dataset import DatasetEmbeddings
from openlfr.eval.metrics import Scores, auc, equal_error_rate, format_rate, tar_at_far

FAR_TARGETS = (0.01, 0.001, 0.0001)


@dataclass(frozen=True, slots=True)
class PairScores:
    genuine: Scores
    impostor: Scores


def all_pair_scores(data: DatasetEmbeddings) -> PairScores:
    """Cosine scores of every unordered pair of usable images, split by same/different identity."""
    labels = np.array(data.labels)
    similarity = data.vectors @ data.vectors.T
    upper = np.triu_indices(len(labels), k=1)
    same = labels[upper[0]] == labels[upper[1]]
    scores = similarity[upper].astype(np.float64)
    return PairScores(genuine=scores[same], impostor=scores[~same])


def verification_report(data: DatasetEmbeddings, pairs: PairScores, dataset: str) -> dict[str, Any]:
    if pairs.genuine.size == 0 or pairs.impostor.size == 0:
        raise DatasetError(
            f"{dataset}: need at least one genuine and one impostor pair "
            f"(have {pairs.genuine.size} and {pairs.impostor.size}); every identity needs 2+ usable images "
            "for genuine pairs and 2+ identities for impostor pairs"
        )
    eer, eer_threshold = equal_error_rate(pairs.genuine, pairs.impostor)
    tar: dict[str, float] = {}
    thresholds: dict[str, float] = {}
    for far in FAR_TARGETS:
        tar[format_rate(far)], thresholds[format_rate(far)] = tar_at_far(pairs.genuine, pairs.impostor, far)
    return {
        "dataset": dataset,
        "images": len(data.images) + len(data.failures),
        "identities": len({image.identity for image in data.images} | _failed_identities(data)),
        "failed": len(data.failures),
        "failures": [failure.as_dict() for failure in data.failures],
        "genuine_pairs": int(pairs.genuine.size),
        "impostor_pairs": int(pairs.impostor.size),
        "auc": auc(pairs.genuine, pairs.impostor),
        "eer": eer,
        "eer_threshold": eer_threshold,
        "tar_at_far": tar,
        "threshold_at_far": thresholds,
        "notes": _rate_notes(FAR_TARGETS, pairs.impostor.size, "impostor pairs", "FAR"),
        "model": data.contract.as_dict(),
    }


def _failed_identities(data: DatasetEmbeddings) -> set[str]:
    return {failure.path.parent.name for failure in data.failures}


def _rate_notes(targets: tuple[float, ...], negatives: int, what: str, rate_name: str) -> list[str]:
    """Warn where a rate is estimated from fewer than 10 expected errors: the figure is then fragile."""
    return [
        f"{rate_name} {format_rate(t)} rests on {negatives} {what} ({t * negatives:.1f} expected errors): "
        "too few to estimate it reliably"
        for t in targets
        if t * negatives < 10
    ]
