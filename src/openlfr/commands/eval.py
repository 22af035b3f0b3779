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

    scenarios = sub.add_parser(
        "scenarios",
        help="the operational test: labelled clips through the live pipeline (TPIR per pass, false alerts per "
        "1,000 passers-by, over a threshold sweep)",
        description="Runs every clip of LABELS.json through the live pipeline against a watchlist folder "
        "(optionally padded with distractor identities to --size subjects) and reports, per threshold, TPIR per "
        "person-pass, false alerts per 1,000 passers-by (tracks) and alerts per person-pass. Labels format: "
        "docs/EVALUATION.md.",
    )
    scenarios.add_argument("labels", type=Path, metavar="LABELS.json", help="clips and who appears in each")
    scenarios.add_argument(
        "--watchlist", type=Path, required=True, metavar="WL", help="folder WL/<subject_id>/<images> (in memory)"
    )
    scenarios.add_argument(
        "--distractors", type=Path, metavar="DATASET", help="DATASET/<identity>/<images>: identities to pad with"
    )
    scenarios.add_argument("--size", type=int, metavar="N", help="pad the watchlist to N subjects (--distractors)")
    scenarios.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the distractor choice (0)")
    scenarios.add_argument(
        "--threshold", type=float, help="the operating threshold reported in detail (default: the model's)"
    )
    scenarios.add_argument(
        "--sweep",
        default="0.30:0.80:0.01",
        metavar="START:STOP:STEP",
        help="thresholds of the sweep (default 0.30:0.80:0.01, both ends included)",
    )
    scenarios.add_argument(
        "--groups",
        type=Path,
        metavar="FILE.csv",
        help="CSV with an 'identity' column (the names used in the labels) and group columns: per-group figures",
    )
    scenarios.add_argument(
        "--fusion",
        choices=("quality", "mean", "best"),  # openlfr.alerts.state.FUSIONS (not imported: the CLI starts fast)
        default="quality",
        help="how a track's kept faces make its probe (default quality: the pipeline's; docs/EVALUATION.md)",
    )
    scenarios.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    scenarios.add_argument("--plot", type=Path, metavar="FILE.png", help="draw the DET curve to this PNG file")
    scenarios.set_defaults(handler=run_scenarios)


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


def _sweep_thresholds(text: str) -> list[float]:
    import numpy as np

    from openlfr.errors import DatasetError

    try:
        start, stop, step = (float(v) for v in text.split(":"))
    except ValueError:
        raise DatasetError(f"--sweep {text!r}: expected START:STOP:STEP, e.g. 0.30:0.80:0.01") from None
    if not (-1 <= start <= stop <= 1 and step > 0):
        raise DatasetError(f"--sweep {text!r}: need -1 <= START <= STOP <= 1 and STEP > 0")
    count = int(np.floor((stop - start) / step + 1e-9)) + 1
    return [round(start + i * step, 6) for i in range(count)]


def run_scenarios(args: argparse.Namespace) -> int:
    from openlfr.commands.common import settings_from
    from openlfr.engine import FaceEngine
    from openlfr.eval.equity import read_groups
    from openlfr.eval.plot import plot_det
    from openlfr.eval.scenarios import (
        build_watchlist,
        det_curve,
        group_scores,
        pass_ceilings,
        per_clip,
        read_labels,
        record,
        score,
    )
    from openlfr.eval.scenarios import sweep as sweep_rows
    from openlfr.pipeline.app import pipeline_settings
    from openlfr.pipeline.config import PipelineConfig
    from openlfr.pipeline.thresholds import default_threshold

    # Everything that can be wrong with the input fails before the long work.
    settings = pipeline_settings(settings_from(args))
    clips = read_labels(args.labels)
    thresholds = _sweep_thresholds(args.sweep)
    groups = read_groups(args.groups) if args.groups is not None else None
    engine = FaceEngine.from_settings(settings)
    watchlist = build_watchlist(engine, args.watchlist, args.distractors, args.size, args.seed)
    config = PipelineConfig(fusion=args.fusion)
    recorded = record(engine, watchlist, clips, config)
    operating = args.threshold if args.threshold is not None else default_threshold(engine.contract)
    policy = config.policy(operating)
    rows = sweep_rows(recorded.run, policy, thresholds)
    report: dict[str, Any] = {
        "labels": str(args.labels),
        "clips": len(clips),
        "frames": recorded.frames,
        "tracks": sum(recorded.run.tracks.values()),
        "tracks_unexamined": recorded.tracks_unexamined,
        "watchlist": {
            "listed": len(watchlist.listed),
            "distractors": watchlist.distractors,
            "subjects": watchlist.snapshot.subjects,
            "templates": len(watchlist.snapshot.templates),
            "skipped_images": watchlist.skipped,
            "distractor_source": str(args.distractors) if args.distractors else None,
            "seed": args.seed,
        },
        "operating_point": score(recorded.run, policy),
        "per_clip": per_clip(recorded.run, policy),
        "sweep": rows,
        "fusion": config.fusion,
        "pass_ceilings": pass_ceilings(recorded.run, policy, thresholds),
        "method": "one pipeline pass with every judgement recorded; the decision rules replayed per threshold",
        "model": engine.contract.as_dict(),
    }
    if groups is not None:
        report["groups"] = group_scores(recorded.run, policy, groups)
    if args.plot:
        plot_det(
            {args.labels.stem: det_curve(rows)},
            args.plot,
            x_label="false alerts per passer-by (track)",
            y_label="missed person-passes (1 - TPIR)",
            title=f"DET, scenarios: {args.labels.name} ({watchlist.snapshot.subjects} subjects)",
        )
        report["plot"] = str(args.plot)
    if args.json:
        print_json(report)
    else:
        print(_scenario_summary(report))
    return 0


def _scenario_summary(r: dict[str, Any]) -> str:
    point = r["operating_point"]
    tpir = "n/a" if point["tpir"] is None else f"{point['tpir']:.3f}"
    per_1000 = point["false_alerts_per_1000_passers_by"]
    lines = [
        f"{r['clips']} clips, {r['frames']} frames, {r['tracks']} tracks ({r['tracks_unexamined']} unexamined); "
        f"watchlist {r['watchlist']['subjects']} subjects ({r['watchlist']['listed']} listed)",
        f"at threshold {point['threshold']:.3f}: TPIR {tpir} ({point['passes_found']}/{point['person_passes']} "
        f"person-passes), {point['false_alerts']} false alerts"
        + ("" if per_1000 is None else f" ({per_1000:.2f} per 1,000 passers-by)"),
    ]
    for clip in r["per_clip"]:
        lines.append(f"  {Path(clip['clip']).name}: appear {clip['people']} alerts {clip['alerts']}")
    return "\n".join(lines)
