"""Derive the default ``lfr watch`` threshold of a model from in-the-wild impostor scores.

Embeds every usable image of a labelled folder (default: ../shared/data/faces/lfw_dev), scores all
impostor pairs (different identities) and prints the score exceeded by a given fraction of them
(the false-accept rate, FAR), plus the genuine-pair acceptance at that score. See docs/PIPELINE.md
for how the constant in ``openlfr.pipeline.thresholds`` was chosen from these figures.

    .venv/bin/python benchmarks/calibrate_watch_threshold.py [DATASET]
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

from openlfr.config.models import Settings
from openlfr.engine import FaceEngine
from openlfr.eval.dataset import embed_dataset, scan_dataset
from openlfr.eval.metrics import threshold_at_rate
from openlfr.eval.verify import all_pair_scores

FARS = (1e-3, 1e-4, 1e-5, 1e-6)


def main() -> None:
    default = Path(os.environ.get("LFR_SHARED_DATA", "../shared/data")) / "faces" / "lfw_dev"
    dataset = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    engine = FaceEngine.from_settings(Settings())
    data = embed_dataset(engine, scan_dataset(dataset))
    pairs = all_pair_scores(data)
    rows = {}
    for far in FARS:
        threshold = threshold_at_rate(pairs.impostor, far)
        rows[f"{far:g}"] = {
            "threshold": round(threshold, 4),
            "genuine_accept": round(float(np.mean(pairs.genuine >= threshold)), 4),
            "expected_impostor_errors": round(far * pairs.impostor.size, 1),
        }
    report = {
        "dataset": str(dataset),
        "model": data.contract.as_dict(),
        "images": len(data.images),
        "impostor_pairs": int(pairs.impostor.size),
        "genuine_pairs": int(pairs.genuine.size),
        "impostor_max": round(float(pairs.impostor.max()), 4),
        "at_far": rows,
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
