"""``lfr calibrate DATASET``: the threshold for a watchlist size and a tolerated false-alert rate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from openlfr.commands.common import add_progress_flag, embed_labelled_folder, print_json


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "calibrate",
        help="recommend a threshold from impostor scores for a watchlist size and false-alert budget",
        description="From the impostor scores of a labelled folder (DATASET/<identity>/<image>), the threshold "
        "at which a watchlist of N raises at most F false alerts per M passers-by (extreme-value tail model; "
        "assumptions printed with the result), and the true-alert rate to expect there.",
    )
    parser.add_argument("dataset", type=Path, metavar="DATASET")
    parser.add_argument("--watchlist-size", type=int, required=True, metavar="N", help="subjects on the watchlist")
    parser.add_argument("--passers-by", type=int, required=True, metavar="M", help="per this many passers-by …")
    parser.add_argument(
        "--false-alerts", type=float, required=True, metavar="F", help="… at most this many false alerts"
    )
    parser.add_argument("--bootstrap", type=int, default=200, help="resamples for the threshold interval (200)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_progress_flag(parser)
    parser.set_defaults(handler=run_calibrate)


def run_calibrate(args: argparse.Namespace) -> int:
    from openlfr.eval.calibrate import calibrate, calibration_report
    from openlfr.eval.verify import all_pair_scores
    from openlfr.optional import require

    # Before embedding a whole dataset: the tail fit needs scipy (the eval extra).
    require("scipy.stats", extra="eval", purpose="threshold calibration (the impostor tail fit)")
    _, data = embed_labelled_folder(args)
    pairs = all_pair_scores(data)
    result = calibrate(
        pairs.genuine,
        pairs.impostor,
        watchlist_size=args.watchlist_size,
        passers_by=args.passers_by,
        false_alerts=args.false_alerts,
        bootstrap=args.bootstrap,
    )
    report = {
        "dataset": str(args.dataset),
        "watchlist_size": args.watchlist_size,
        "passers_by": args.passers_by,
        "false_alerts": args.false_alerts,
        **calibration_report(result, pairs.impostor, int(pairs.genuine.size)),
        "failed": len(data.failures),
        "model": data.contract.as_dict(),
    }
    if args.json:
        print_json(report)
    else:
        rate = report["expected_true_alert_rate"]
        low, high = report["threshold_ci95"]
        print(
            f"threshold {report['threshold']:.4f} (95% CI {low:.4f}–{high:.4f}) for ≤ {args.false_alerts:g} false "
            f"alerts per {args.passers_by} passers-by with {args.watchlist_size} subjects"
        )
        print(f"expected true-alert rate {rate['rate']:.4f} (95% CI {rate['ci95'][0]:.4f}–{rate['ci95'][1]:.4f})")
    for warning in report["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    return 0
