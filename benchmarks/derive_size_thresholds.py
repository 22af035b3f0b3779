"""Derive the watchlist-size dependent default thresholds of ``openlfr.pipeline.thresholds``.

For each watchlist size N the threshold is the one ``lfr calibrate`` recommends (``openlfr.eval.calibrate``:
generalised Pareto tail of the impostor scores, independence over the N comparisons) for the NPL/Met
operating point — at most one false alert per 6,000 passers-by — on the in-the-wild impostor scores of
``faces/lfw_dev`` (5.9 million pairs), embedded by the default engine settings (flip augmentation on). Prints one
JSON object: the table, the fit, the verification figures of the same embeddings (what ``lfr eval verify`` prints
for them) and the commands' inputs; ``pipeline/thresholds.py`` records the numbers next to this derivation.

    .venv/bin/python benchmarks/derive_size_thresholds.py [DATASET] > benchmarks/results_size_thresholds.json
    .venv/bin/python benchmarks/derive_size_thresholds.py --no-flip > benchmarks/results_size_thresholds_no_flip.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from openlfr.config.models import EngineConfig, Settings, SFaceConfig
from openlfr.engine import FaceEngine
from openlfr.eval.calibrate import calibrate
from openlfr.eval.dataset import embed_dataset, scan_dataset
from openlfr.eval.verify import all_pair_scores, verification_report

SIZES = (1, 10, 100, 1_000, 10_000, 100_000)
PASSERS_BY = 6_000
FALSE_ALERTS = 1.0


def main() -> None:
    default = Path(os.environ.get("LFR_SHARED_DATA", "../shared/data")) / "faces" / "lfw_dev"
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path, nargs="?", default=default)
    parser.add_argument("--no-flip", action="store_true", help="the embedder without flip augmentation")
    args = parser.parse_args()
    dataset = args.dataset
    engine = FaceEngine.from_settings(Settings(engine=EngineConfig(embedder=SFaceConfig(flip=not args.no_flip))))
    data = embed_dataset(engine, scan_dataset(dataset))
    pairs = all_pair_scores(data)
    rows = []
    for size in SIZES:
        result = calibrate(
            pairs.genuine, pairs.impostor, watchlist_size=size, passers_by=PASSERS_BY, false_alerts=FALSE_ALERTS
        )
        rows.append(
            {
                "watchlist_size": size,
                "threshold": round(result.threshold, 4),
                "threshold_ci95": [round(v, 4) for v in result.threshold_interval],
                "true_alert_rate": round(result.true_alert_rate, 4),
            }
        )
        print(f"N={size}: {result.threshold:.4f}", file=sys.stderr)
    fit = calibrate(pairs.genuine, pairs.impostor, watchlist_size=1, passers_by=PASSERS_BY, false_alerts=1).fit
    report = {
        "dataset": str(dataset),
        "model": data.contract.as_dict(),
        "impostor_pairs": int(pairs.impostor.size),
        "genuine_pairs": int(pairs.genuine.size),
        "passers_by": PASSERS_BY,
        "false_alerts": FALSE_ALERTS,
        "tail_fit": {"location": fit.location, "shape": fit.shape, "scale": fit.scale, "rate": fit.rate},
        "table": rows,
        "verification": {k: v for k, v in verification_report(data, pairs, str(dataset)).items() if k != "failures"},
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
