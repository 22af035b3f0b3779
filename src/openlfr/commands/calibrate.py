"""``lfr calibrate DATASET``: the threshold for a watchlist size and a tolerated false-alert rate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from openlfr.commands.common import add_face_flag, add_progress_flag, embed_labelled_folder, print_json


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
    parser.add_argument(
        "--groups",
        type=Path,
        metavar="FILE.csv",
        help="CSV with an 'identity' column and group columns (as `lfr eval identify --groups`): also report the "
        "range of thresholds at which no group differential is significant (equity_range)",
    )
    parser.add_argument(
        "--equity-attribute",
        metavar="COLUMN",
        default=None,
        help="the group column the equity_range is for (default: the first group column of --groups)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_face_flag(parser)
    add_progress_flag(parser)
    parser.set_defaults(handler=run_calibrate)


def run_calibrate(args: argparse.Namespace) -> int:
    from openlfr.eval.calibrate import calibrate, calibration_report
    from openlfr.eval.verify import all_pair_scores
    from openlfr.optional import require

    # Before embedding a whole dataset: the tail fit needs scipy (the eval extra).
    require("scipy.stats", extra="eval", purpose="threshold calibration (the impostor tail fit)")
    groups = _read_groups(args) if args.groups is not None else None  # a bad file fails before the long work
    items, data = embed_labelled_folder(args)
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
        "face": args.face,
        "model": data.contract.as_dict(),
    }
    if groups is not None:
        report.update(_equity(args, groups, items, data, result.threshold))
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
        if args.groups is not None:
            print(_equity_line(report))
    for warning in report["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _read_groups(args: argparse.Namespace) -> dict[str, dict[str, str]]:
    from openlfr.errors import DatasetError
    from openlfr.eval.equity import read_groups

    groups = read_groups(args.groups)
    if args.equity_attribute is not None and args.equity_attribute not in groups:
        raise DatasetError(f"{args.groups}: no column {args.equity_attribute!r} (columns: {', '.join(groups)})")
    return groups


def _equity(
    args: argparse.Namespace, groups: dict[str, dict[str, str]], items: Any, data: Any, threshold: float
) -> dict[str, Any]:
    """``equity_range`` (the chosen attribute) and ``equity_ranges`` (every attribute) on the open-set split of
    ``lfr eval identify DATASET --enrol 1 --seed 0`` (same --face)."""
    from openlfr.eval.equity import equity_range, probe_identities
    from openlfr.eval.identify import search_probes, split_dataset

    attribute = args.equity_attribute or next(iter(groups))
    split = split_dataset(items, 1, 0)
    results = search_probes(data, split)
    probes = probe_identities(split, {image.path for image in data.images})
    dataset = str(args.dataset)
    ranges = {name: equity_range(name, assignment, probes, results) for name, assignment in groups.items()}
    chosen = ranges[attribute]
    block = chosen.as_dict(dataset)
    return {
        "equity_range": block,
        "equity_ranges": {name: r.as_dict(dataset) for name, r in ranges.items()},
        "equity_evaluation": {
            "protocol": f"lfr eval identify {dataset} --enrol 1 --seed 0 --face {args.face} --groups {args.groups}",
            "test": "a differential is significant where two groups' Wilson 95 % intervals of FNIR or FPIR do not "
            "overlap",
            "threshold_inside_range": chosen.contains(threshold) if block is not None else False,
        },
    }


def _equity_line(report: dict[str, Any]) -> str:
    block = report["equity_range"]
    if block is None:
        return "equity: a group differential is significant at every threshold scanned"
    inside = report["equity_evaluation"]["threshold_inside_range"]
    return (
        f"no {block['attribute']} differential significant at thresholds {block['low']:.3f}–{block['high']:.3f} "
        f"(the widest such range); the recommended threshold is {'inside' if inside else 'OUTSIDE'} the ranges "
        "without a differential"
    )
