"""Derive the watchlist-size dependent default thresholds of ``openlfr.pipeline.thresholds``.

For each watchlist size N the threshold is the one ``lfr calibrate`` recommends (``openlfr.eval.calibrate``:
generalised Pareto tail of the impostor scores, independence over the N comparisons) for the NPL/Met
operating point — at most one false alert per 6,000 passers-by — on the in-the-wild impostor scores of
``faces/lfw_dev`` (5.9 million pairs). Prints one JSON object: the table, the fit and the commands' inputs;
``pipeline/thresholds.py`` records the numbers next to this derivation.

    .venv/bin/python benchmarks/derive_size_thresholds.py [DATASET] > size_thresholds.json
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from openlfr.config.models import Settings
from openlfr.engine import FaceEngine
from openlfr.eval.calibrate import calibrate
from openlfr.eval.dataset import embed_dataset, scan_dataset
from openlfr.eval.verify import all_pair_scores

SIZES = (1, 10, 100, 1_000, 10_000, 100_000)
PASSERS_BY = 6_000
FALSE_ALERTS = 1.0


def main() -> None:
    default = Path(os.environ.get("LFR_SHARED_DATA", "../shared/data")) / "faces" / "lfw_dev"
    dataset = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    engine = FaceEngine.from_settings(Settings())
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
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
