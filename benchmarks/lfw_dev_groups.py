"""The sex differential on ``faces/lfw_dev`` and what lies behind it, from one embedding pass of the default engine.

docs/EVALUATION.md "Demographic differential" quotes this script's output. For every photo: the largest face (the
evaluation default) and the centred one (``--face centred``), each detected, aligned and embedded as ``lfr eval``
does (flip augmentation on by default), and the largest face's quality measures (``measure_face``). Then, on
the open-set split of ``lfr eval identify --enrol 1 --seed 0``, for both face choices:

- per group FNIR / FPIR with Wilson 95 % intervals and flags (``openlfr.eval.equity.group_report``) at the
  threshold of overall FPIR 1 % and at the fixed thresholds of ``--thresholds``;
- (largest face) where the differential comes from: quality medians and 10th percentiles per group, photos with
  several faces, photos whose largest face is not the centred one, misses at FPIR 1 % whose rank-1 candidate is
  wrong, genuine-pair score mean and spread per group, impostor pairs passing the FPIR-1 % threshold per pairing;
- (centred face) the verification figures (all pairs, as ``lfr eval verify --face centred``).

    .venv/bin/python benchmarks/lfw_dev_groups.py [--dataset DIR] [--groups CSV] > groups.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from openlfr.config.models import Settings
from openlfr.embed.align import align_faces
from openlfr.engine import FaceEngine
from openlfr.eval.dataset import DatasetEmbeddings, LabelledImage, chosen_face, scan_dataset
from openlfr.eval.equity import group_report, probe_identities, read_groups
from openlfr.eval.identify import search_probes, split_dataset
from openlfr.eval.metrics import open_set_identification
from openlfr.eval.verify import all_pair_scores, verification_report
from openlfr.quality.metrics import FaceQuality, measure_face

QUALITY_FIELDS = ("inter_ocular_px", "detector_score", "sharpness", "yaw_deg", "pitch_deg", "brightness")


def parse_args(argv: list[str]) -> argparse.Namespace:
    faces = Path(os.environ.get("LFR_SHARED_DATA", "../shared/data")) / "faces"
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=faces / "lfw_dev")
    parser.add_argument("--groups", type=Path, default=faces / "lfw_dev_groups.csv")
    parser.add_argument("--attribute", default="sex", help="group column to analyse (sex)")
    parser.add_argument("--thresholds", default="0.47,0.60,0.63", help="fixed thresholds to report besides FPIR 1 %%")
    return parser.parse_args(argv)


@dataclass(frozen=True, slots=True)
class Photo:
    item: LabelledImage
    quality: FaceQuality
    faces: int
    centred_differs: bool


def embed_both(engine: FaceEngine, items: list[LabelledImage]) -> tuple[list[Photo], np.ndarray, np.ndarray]:
    """Per usable photo: its record, the largest face's embedding and the centred face's."""
    photos: list[Photo] = []
    largest: list[np.ndarray] = []
    centred: dict[int, np.ndarray] = {}
    for n, item in enumerate(items):
        image = engine.load(item.path)
        detections = engine.detect(image)
        if len(detections) == 0:
            continue
        aligned = align_faces(image, detections.landmarks[0:1])[0]
        score = float(detections.scores[0])
        quality = measure_face(image.shape, detections.boxes[0], detections.landmarks[0], score, aligned)
        index = chosen_face(detections, image.shape, "centred")
        if index != 0:
            centred[len(photos)] = align_faces(image, detections.landmarks[index : index + 1])[0]
        photos.append(Photo(item, quality, len(detections), index != 0))
        largest.append(aligned)
        if (n + 1) % 500 == 0:
            print(f"{n + 1}/{len(items)} photos", file=sys.stderr)
    vectors = np.concatenate(
        [engine.embedder.embed_aligned(np.stack(largest[i : i + 32])) for i in range(0, len(largest), 32)]
    )
    centred_vectors = vectors.copy()
    if centred:
        rows = sorted(centred)
        centred_vectors[rows] = engine.embedder.embed_aligned(np.stack([centred[r] for r in rows]))
    return photos, vectors, centred_vectors


def differential(
    data: DatasetEmbeddings, items: list[LabelledImage], groups: dict[str, dict[str, str]], thresholds: list[float]
) -> dict[str, Any]:
    split = split_dataset(items, enrol=1, seed=0)
    results = search_probes(data, split)
    probes = probe_identities(split, {image.path for image in data.images})
    overall = open_set_identification(
        results.mated_top_scores, results.mated_top_correct, results.nonmated_top_scores, (0.1, 0.01, 0.001)
    )
    at_fpir1 = overall.threshold_at_fpir["0.01"]
    rows = {"fpir_0.01": at_fpir1, **{f"{t:.3f}": t for t in thresholds}}
    out: dict[str, Any] = {"rank1": overall.rank1, "fnir_at_fpir": overall.fnir_at_fpir, "at": {}}
    for name, threshold in rows.items():
        report, _ = group_report(groups, probes, results, threshold)
        out["at"][name] = {"threshold": threshold, **report}
    return out | {"_split": (split, results, probes, at_fpir1)}


def causes(photos: list[Photo], data: DatasetEmbeddings, assignment: dict[str, str], split_info: Any) -> dict[str, Any]:
    _split, results, probes, at_fpir1 = split_info
    group_of = np.array([assignment.get(p.item.identity, "unassigned") for p in photos])
    names = sorted(set(group_of.tolist()))
    out: dict[str, Any] = {"photos": {g: int((group_of == g).sum()) for g in names}, "quality": {}}
    for field in QUALITY_FIELDS:
        values = np.array([abs(getattr(p.quality, field)) for p in photos])
        out["quality"][field] = {
            g: {
                "median": round(float(np.median(values[group_of == g])), 2),
                "p10": round(float(np.percentile(values[group_of == g], 10)), 2),
            }
            for g in names
        }
    out["several_faces_share"] = {
        g: float(np.mean([p.faces > 1 for p, k in zip(photos, group_of, strict=True) if k == g])) for g in names
    }
    out["largest_not_centred_share"] = {
        g: float(np.mean([p.centred_differs for p, k in zip(photos, group_of, strict=True) if k == g])) for g in names
    }
    misses = ~(results.mated_top_correct & (results.mated_top_scores >= at_fpir1))
    wrong = ~results.mated_top_correct
    mated_groups = np.array([assignment.get(i, "unassigned") for i in probes.mated])
    out["misses_at_fpir_0.01"] = {
        g: {
            "misses": int((misses & (mated_groups == g)).sum()),
            "wrong_rank1": int((wrong & (mated_groups == g)).sum()),
        }
        for g in names
    }
    labels = np.array(data.labels)
    similarity = data.vectors @ data.vectors.T
    upper = np.triu_indices(len(labels), k=1)
    same = labels[upper[0]] == labels[upper[1]]
    scores = similarity[upper]
    first, second = group_of[upper[0]], group_of[upper[1]]
    out["genuine_scores"] = {
        g: {
            "pairs": int((same & (first == g)).sum()),
            "mean": round(float(scores[same & (first == g)].mean()), 3),
            "sd": round(float(scores[same & (first == g)].std()), 3),
        }
        for g in names
    }
    pairings: dict[str, Any] = {}
    for a in names:
        for b in names:
            if a > b:
                continue
            mask = ~same & (((first == a) & (second == b)) | ((first == b) & (second == a)))
            pairings[f"{a}-{b}"] = {
                "pairs": int(mask.sum()),
                "mean": round(float(scores[mask].mean()), 4),
                "share_at_or_above_fpir_0.01_threshold": float((scores[mask] >= at_fpir1).mean()),
            }
    out["impostor_pairs"] = pairings
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    engine = FaceEngine.from_settings(Settings())
    items = scan_dataset(args.dataset)
    groups = {args.attribute: read_groups(args.groups)[args.attribute]}
    thresholds = [float(t) for t in args.thresholds.split(",")]
    photos, largest, centred = embed_both(engine, items)
    images = tuple(p.item for p in photos)
    report: dict[str, Any] = {
        "dataset": str(args.dataset),
        "model": engine.contract.as_dict(),
        "attribute": args.attribute,
    }
    for name, vectors in (("largest", largest), ("centred", centred)):
        data = DatasetEmbeddings(images, vectors, (), engine.contract)
        result = differential(data, items, groups, thresholds)
        split_info = result.pop("_split")
        report[name] = result
        if name == "largest":
            report["causes"] = causes(photos, data, groups[args.attribute], split_info)
        else:
            verify = verification_report(data, all_pair_scores(data), str(args.dataset))
            report["centred"]["verification"] = {k: v for k, v in verify.items() if k not in ("failures", "model")}
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
