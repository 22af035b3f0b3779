"""``lfr eval verify|identify DATASET``: reproducible accuracy figures for the configured engine."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from openlfr.commands.common import add_face_flag, add_progress_flag, embed_labelled_folder, print_json


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("eval", help="evaluate accuracy on a labelled face folder")
    sub = parser.add_subparsers(dest="eval_command", metavar="KIND", required=True)

    verify = sub.add_parser("verify", help="1:1 verification over all genuine and impostor pairs")
    _common_arguments(verify)
    verify.set_defaults(handler=run_verify)

    identify = sub.add_parser("identify", help="open-set 1:N identification (gallery/probe split)")
    _common_arguments(identify)
    identify.add_argument("--enrol", type=int, default=1, metavar="K", help="images enrolled per identity (1)")
    identify.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the identity split (0)")
    identify.add_argument(
        "--groups",
        type=Path,
        metavar="FILE.csv",
        help="CSV with an 'identity' column and group columns (e.g. sex, age_band): per-group FNIR/FPIR",
    )
    identify.add_argument(
        "--threshold",
        type=float,
        help="threshold for the per-group rates (default: the overall threshold at FPIR 0.01)",
    )
    identify.set_defaults(handler=run_identify)


def _common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", type=Path, metavar="DATASET", help="folder laid out DATASET/<identity>/<image>")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--plot", type=Path, metavar="FILE.png", help="draw the DET curve to this PNG file")
    add_face_flag(parser)
    add_progress_flag(parser)


def run_verify(args: argparse.Namespace) -> int:
    from openlfr.eval.metrics import error_curve
    from openlfr.eval.plot import plot_det
    from openlfr.eval.verify import all_pair_scores, verification_report

    _, data = embed_labelled_folder(args)
    pairs = all_pair_scores(data)
    report = verification_report(data, pairs, str(args.dataset))
    report["face"] = args.face
    if args.plot:
        plot_det(
            {args.dataset.name: error_curve(pairs.genuine, pairs.impostor)},
            args.plot,
            x_label="false accept rate (FAR)",
            y_label="false reject rate (FRR)",
            title=f"DET, verification: {args.dataset.name}",
        )
        report["plot"] = str(args.plot)
    _emit(args, report, _verify_summary)
    return 0


def run_identify(args: argparse.Namespace) -> int:
    from openlfr.eval.identify import identification_report, search_probes, split_dataset
    from openlfr.eval.metrics import open_set_curve
    from openlfr.eval.plot import plot_det

    items, data = embed_labelled_folder(args)
    split = split_dataset(items, args.enrol, args.seed)
    results = search_probes(data, split)
    report = identification_report(data, split, results, str(args.dataset), args.enrol, args.seed)
    report["face"] = args.face
    group_curves = _add_groups(args, report, data, split, results) if args.groups else {}
    if args.plot and group_curves:
        for attribute, curves in group_curves.items():
            path = args.plot if len(group_curves) == 1 else args.plot.with_name(f"{args.plot.stem}-{attribute}.png")
            plot_det(
                curves,
                path,
                x_label="false positive identification rate (FPIR)",
                y_label="false negative identification rate (FNIR)",
                title=f"DET by {attribute}: {args.dataset.name}",
            )
            report["groups"][attribute]["plot"] = str(path)
    elif args.plot:
        curve = open_set_curve(results.mated_top_scores, results.mated_top_correct, results.nonmated_top_scores)
        plot_det(
            {args.dataset.name: curve},
            args.plot,
            x_label="false positive identification rate (FPIR)",
            y_label="false negative identification rate (FNIR)",
            title=f"DET, open-set identification: {args.dataset.name}",
        )
        report["plot"] = str(args.plot)
    _emit(args, report, _identify_summary)
    return 0


def _add_groups(args: argparse.Namespace, report: dict[str, Any], data: Any, split: Any, results: Any) -> Any:
    from openlfr.eval.equity import group_report, probe_identities, read_groups

    threshold = args.threshold if args.threshold is not None else report["threshold_at_fpir"]["0.01"]
    probes = probe_identities(split, {image.path for image in data.images})
    groups, curves = group_report(read_groups(args.groups), probes, results, threshold)
    report["group_threshold"] = threshold
    report["groups"] = groups
    return curves


def _emit(args: argparse.Namespace, report: dict[str, Any], summary: Any) -> None:
    if args.json:
        print_json(report)
        return
    print(summary(report))
    for failure in report["failures"]:
        print(f"  skipped {failure['path']}: {failure['reason']}", file=sys.stderr)
    for note in report["notes"]:
        print(f"  note: {note}", file=sys.stderr)
    for attribute, result in report.get("groups", {}).items():
        print(f"by {attribute} at threshold {report['group_threshold']:.4f}:")
        for group, rates in result["groups"].items():
            fnir, fpir = rates["fnir"], rates["fpir"]
            print(f"  {group:<16} FNIR {_rate(fnir)}  FPIR {_rate(fpir)}")
        for flag in result["flags"]:
            print(f"  FLAG: {flag}")


def _rate(rate: dict[str, Any]) -> str:
    if rate["rate"] is None:
        return "n/a (no probes)"
    low, high = rate["ci95"]
    return f"{rate['rate']:.4f} [{low:.4f}, {high:.4f}] n={rate['n']}"


def _verify_summary(r: dict[str, Any]) -> str:
    lines = [
        f"{r['dataset']}: {r['images']} images, {r['identities']} identities, {r['failed']} without a usable face",
        f"pairs: {r['genuine_pairs']} genuine, {r['impostor_pairs']} impostor",
        f"AUC {r['auc']:.5f}   EER {r['eer']:.4f} (threshold {r['eer_threshold']:.4f})",
    ]
    lines += [
        f"TAR @ FAR {far}: {tar:.4f} (threshold {r['threshold_at_far'][far]:.4f})"
        for far, tar in r["tar_at_far"].items()
    ]
    return "\n".join(lines)


def _identify_summary(r: dict[str, Any]) -> str:
    lines = [
        f"{r['dataset']}: gallery {r['gallery_identities']} identities ({r['gallery_templates']} templates), "
        f"{r['mated_probes']} mated and {r['nonmated_probes']} non-mated probes, {r['failed']} failed",
        f"rank-1 {r['rank1']:.4f}",
    ]
    lines += [
        f"FNIR @ FPIR {fpir}: {fnir:.4f} (threshold {r['threshold_at_fpir'][fpir]:.4f})"
        for fpir, fnir in r["fnir_at_fpir"].items()
    ]
    return "\n".join(lines)
