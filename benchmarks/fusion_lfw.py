"""Fusion rules of a track's faces (``openlfr.alerts.state.Fusion``) compared on ``faces/lfw_dev`` as tracks.

LFW has no video, but it has people photographed more than once. Each identity's photos stand for one track:
the open-set split of ``lfr eval identify --enrol 1`` (identities shuffled by the seed, the first half the
gallery, each enrolling its first image); a gallery identity's other photos (2 of them for the 291 identities
with 3) are one **mated track**, a non-gallery identity's photos (2 or 3) one **non-mated track**. Every photo is
detected, aligned and measured as the live pipeline does (``measure_face`` → ``quality_rank``) and embedded
by the default engine (flip augmentation on); each rule fuses a track's faces into one probe, searched against
the gallery. Reports per rule FNIR at FPIR 10 % and 1 % and rank-1 over the tracks, per seed and the mean
over seeds (one split has only ~145 mated two-face tracks).

The face of each photo is ``--face`` (default centred: a track follows one person, and LFW's largest face is
someone else in ~1 % of photos, which would mix two people into one "track").

    .venv/bin/python benchmarks/fusion_lfw.py [--dataset DIR] [--seeds 10] [--face centred] > fusion.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from openlfr.alerts.rules import FUSIONS, Fusion
from openlfr.alerts.state import FaceSample, TrackEvidence, quality_rank
from openlfr.config.models import Settings
from openlfr.embed.align import align_faces
from openlfr.engine import FaceEngine
from openlfr.eval.dataset import FACE_CHOICES, LabelledImage, chosen_face, scan_dataset
from openlfr.eval.identify import split_dataset
from openlfr.eval.metrics import open_set_identification
from openlfr.quality.metrics import measure_face
from openlfr.types import FloatArray

FPIR_TARGETS = (0.1, 0.01)


def parse_args(argv: list[str]) -> argparse.Namespace:
    default = Path(os.environ.get("LFR_SHARED_DATA", "../shared/data")) / "faces" / "lfw_dev"
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=default)
    parser.add_argument("--seeds", type=int, default=10, help="identity splits (seeds 0..N-1)")
    parser.add_argument("--face", choices=FACE_CHOICES, default="centred")
    return parser.parse_args(argv)


def embed_with_rank(
    engine: FaceEngine, items: list[LabelledImage], face: str, batch: int = 32
) -> dict[Path, tuple[FloatArray, float]]:
    """Each usable photo's embedding and quality rank (photos without a face are left out)."""
    crops, ranks, paths = [], [], []
    for n, item in enumerate(items):
        image = engine.load(item.path)
        detections = engine.detect(image)
        if len(detections) == 0:
            continue
        i = chosen_face(detections, image.shape, "centred" if face == "centred" else "largest")
        aligned = align_faces(image, detections.landmarks[i : i + 1])[0]
        score = float(detections.scores[i])
        ranks.append(
            quality_rank(measure_face(image.shape, detections.boxes[i], detections.landmarks[i], score, aligned))
        )
        crops.append(aligned)
        paths.append(item.path)
        if (n + 1) % 500 == 0:
            print(f"{n + 1}/{len(items)} photos", file=sys.stderr)
    vectors = np.concatenate(
        [engine.embedder.embed_aligned(np.stack(crops[i : i + batch])) for i in range(0, len(crops), batch)]
    )
    return {path: (vector, rank) for path, vector, rank in zip(paths, vectors, ranks, strict=True)}


def fuse(faces: list[tuple[FloatArray, float]], rule: Fusion) -> FloatArray:
    """The pipeline's own fusion (``TrackEvidence.fused``) of these faces."""
    evidence = TrackEvidence(track_id=0, keep=len(faces))
    for vector, rank in faces:
        sample = FaceSample(rank, vector, np.zeros((1, 1, 3), np.uint8), 0, 0.0, 0.0, [])
        evidence.add(sample, threshold=1.0)
    return evidence.fused(rule)


def one_split(
    items: list[LabelledImage], embedded: dict[Path, tuple[FloatArray, float]], seed: int
) -> dict[str, dict[str, Any]]:
    split = split_dataset(items, enrol=1, seed=seed)
    gallery = [item for item in split.enrolment if item.path in embedded]
    names = [item.identity for item in gallery]
    templates = np.stack([embedded[item.path][0] for item in gallery])
    tracks: dict[str, list[LabelledImage]] = defaultdict(list)
    for item in (*split.mated_probes, *split.nonmated_probes):
        if item.path in embedded:
            tracks[item.identity].append(item)
    tracks = {identity: photos for identity, photos in tracks.items() if len(photos) >= 2}
    mated = [i for i in tracks if i in set(names)]
    nonmated = [i for i in tracks if i not in set(names)]
    out: dict[str, dict[str, Any]] = {}
    for rule in FUSIONS:

        def top(identities: list[str], rule: Fusion = rule) -> tuple[np.ndarray, np.ndarray]:
            probes = np.stack([fuse([embedded[p.path] for p in tracks[i]], rule) for i in identities])
            scores = probes @ templates.T
            best = scores.argmax(axis=1)
            return scores[np.arange(len(identities)), best].astype(np.float64), best

        mated_scores, mated_best = top(mated)
        correct = np.array([names[b] == i for b, i in zip(mated_best, mated, strict=True)])
        nonmated_scores, _ = top(nonmated)
        result = open_set_identification(mated_scores, correct, nonmated_scores, FPIR_TARGETS)
        out[rule] = {
            "mated_tracks": len(mated),
            "nonmated_tracks": len(nonmated),
            "rank1": result.rank1,
            "fnir_at_fpir": result.fnir_at_fpir,
            "threshold_at_fpir": result.threshold_at_fpir,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    engine = FaceEngine.from_settings(Settings())
    items = scan_dataset(args.dataset)
    embedded = embed_with_rank(engine, items, args.face)
    splits = {seed: one_split(items, embedded, seed) for seed in range(args.seeds)}
    means: dict[str, dict[str, float]] = {}
    for rule in FUSIONS:
        rows = [splits[s][rule] for s in splits]
        means[rule] = {"rank1": float(np.mean([r["rank1"] for r in rows]))}
        for fpir in rows[0]["fnir_at_fpir"]:
            means[rule][f"fnir_at_fpir_{fpir}"] = float(np.mean([r["fnir_at_fpir"][fpir] for r in rows]))
    report = {
        "dataset": str(args.dataset),
        "face": args.face,
        "model": engine.contract.as_dict(),
        "photos_usable": len(embedded),
        "photos": len(items),
        "seeds": args.seeds,
        "mean_over_seeds": means,
        "per_seed": splits,
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
