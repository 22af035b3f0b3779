"""Cost of flip test-time augmentation per face: SFace with and without it, side by side (alternating runs).

Aligned faces come from ../shared/data/faces/lfw_dev (the first N images' largest faces); each run embeds them
in batches of ``--batch`` (the live pipeline embeds 2 faces per round by default, enrolment 32).

    .venv/bin/python benchmarks/flip_cost.py [--faces 128] [--batch 2] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from openlfr.config.models import EngineConfig, Settings, SFaceConfig
from openlfr.embed.align import align_faces
from openlfr.engine import FaceEngine
from openlfr.eval.dataset import scan_dataset
from openlfr.pipeline.app import pipeline_settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--faces", type=int, default=128)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    dataset = Path(os.environ.get("LFR_SHARED_DATA", "../shared/data")) / "faces" / "lfw_dev"
    engines = {
        flip: FaceEngine.from_settings(
            pipeline_settings(Settings(engine=EngineConfig(embedder=SFaceConfig(flip=flip))))
        )
        for flip in (False, True)
    }
    crops = []
    for item in scan_dataset(dataset)[: args.faces]:
        image = engines[False].load(item.path)
        found = engines[False].detect(image)
        if len(found):
            crops.append(align_faces(image, found.landmarks[:1])[0])
    faces = np.stack(crops)
    per_face: dict[bool, list[float]] = {False: [], True: []}
    for flip in (False, True):  # warm up every batch shape
        engines[flip].embedder.embed_aligned(faces[: args.batch])
    for _ in range(args.runs):
        for flip in (False, True):
            started = time.perf_counter()
            for start in range(0, len(faces), args.batch):
                engines[flip].embedder.embed_aligned(faces[start : start + args.batch])
            per_face[flip].append((time.perf_counter() - started) * 1e3 / len(faces))
    report = {
        "faces": len(faces),
        "batch": args.batch,
        "runs": args.runs,
        "runtime": getattr(engines[False].embedder, "runtime", None) and engines[False].embedder.runtime.label,  # type: ignore[attr-defined]
        "ms_per_face_plain": round(statistics.median(per_face[False]), 2),
        "ms_per_face_flip": round(statistics.median(per_face[True]), 2),
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
