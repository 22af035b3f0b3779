"""Is ``PipelineConfig.embed_budget`` (faces embedded per round) right with the embedder's current cost?

The set-up of ``benchmarks/alert_latency.py`` (the crowd clip played as real-time cameras, the largest faces of
one of its frames on a temporary watchlist, so listed people walk on and alert), run for each budget in turn,
the order rotating each round so a change in the shared machine's load falls on every budget alike. Per run:
dropped frames, alerts, alert latency (capture of the decisive frame → decision: how long a listed person waits
for the embedder), frame latency p95, the model thread's median embedding call, tracks left unexamined, CPU;
the machine's 1-minute load average before each run (this host is shared: only comparisons inside one
invocation mean anything).

    .venv/bin/python benchmarks/embed_budget.py [--budgets 1,2,3] [--rounds 3] [--no-flip] > budget.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from alert_latency import enrol_from_frame

from openlfr.bench.pipeline import bench_pipeline
from openlfr.config.models import EngineConfig, Settings, SFaceConfig
from openlfr.engine import FaceEngine

KEYS = (
    "dropped_frames",
    "alerts",
    "alert_latency_p50_ms",
    "alert_latency_p95_ms",
    "alert_latency_max_ms",
    "latency_p95_ms",
    "tracks_unexamined",
    "embedded",
    "cpu_cores_used",
)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path, default=None, help="default: the shared crowd_walk_1080p.mp4")
    parser.add_argument("--cameras", type=int, default=2)
    parser.add_argument("--budgets", default="1,2,3", help="comma-separated budgets to compare (1,2,3)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per budget, interleaved (3)")
    parser.add_argument("--no-flip", action="store_true", help="embedder without flip augmentation (half the cost)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    data = Path(os.environ.get("LFR_SHARED_DATA", "../shared/data"))
    video = args.video or data / "video" / "crowd_walk_1080p.mp4"
    budgets = [int(b) for b in args.budgets.split(",")]
    settings = Settings(engine=EngineConfig(embedder=SFaceConfig(flip=not args.no_flip)))
    runs: dict[int, list[dict[str, Any]]] = {b: [] for b in budgets}
    with tempfile.TemporaryDirectory(prefix="lfr-budget-") as tmp:
        enrol_from_frame(FaceEngine.from_settings(settings), video, 20, 4, Path(tmp))
        for round_ in range(args.rounds):
            for budget in budgets[round_ % len(budgets) :] + budgets[: round_ % len(budgets)]:
                load = os.getloadavg()[0]
                result = bench_pipeline(
                    settings, Path(tmp), [str(video)] * args.cameras, runs=1, realtime=True, embed_budget=budget
                )
                row = {k: result[k] for k in KEYS} | {
                    "embed_call_median_ms": result["stage_median_ms"]["embed"],
                    "load_avg_1min_before": round(load, 2),
                }
                runs[budget].append(row)
                print(f"budget {budget}: {row}", file=sys.stderr)
    summary = {
        str(b): {
            "dropped_frames_per_run": [r["dropped_frames"] for r in rows],
            "alerts_per_run": [r["alerts"] for r in rows],
            "alert_latency_p95_ms_median": _median([r["alert_latency_p95_ms"] for r in rows]),
            "frame_latency_p95_ms_median": _median([r["latency_p95_ms"] for r in rows]),
            "embed_call_median_ms_median": _median([r["embed_call_median_ms"] for r in rows]),
            "tracks_unexamined_per_run": [r["tracks_unexamined"] for r in rows],
        }
        for b, rows in runs.items()
    }
    report = {
        "video": str(video),
        "cameras": args.cameras,
        "flip": not args.no_flip,
        "frames_per_run": "every frame of the clip on each camera",
        "cpus": os.cpu_count(),
        "summary": summary,
        "runs": {str(b): rows for b, rows in runs.items()},
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def _median(values: list[Any]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return round(float(np.median(present)), 1) if present else None


if __name__ == "__main__":
    raise SystemExit(main())
