"""Frame → alert latency of the live pipeline on cameras that actually see listed people.

The crowd clip matches nobody on the shared watchlists, so its runs measure frame latency only. Here the
watchlist is made from the clip itself: the largest faces of one frame become subjects (their crops are
the watchlist's reference images, kept in a temporary folder and deleted afterwards; test data only), and
the clip is played as N real-time cameras. Every listed person who walks on then raises an alert on each
camera, and the report gives the alerts' latency next to the dropped frames.

    .venv/bin/python benchmarks/alert_latency.py --json
    .venv/bin/python benchmarks/alert_latency.py --cameras 2 --subjects 4 --frame 20 --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import cv2

from openlfr.bench.pipeline import bench_pipeline
from openlfr.config.models import Settings
from openlfr.engine import FaceEngine
from openlfr.pipeline.alerting import crop_face


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", type=Path, default=None, help="default: the shared crowd_walk_1080p.mp4")
    parser.add_argument("--cameras", type=int, default=2, help="copies of the video played as real-time cameras")
    parser.add_argument("--subjects", type=int, default=4, help="largest faces of --frame put on the watchlist")
    parser.add_argument("--frame", type=int, default=20, help="frame index the watchlist faces are taken from")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser.parse_args(argv)


def enrol_from_frame(engine: FaceEngine, video: Path, frame_index: int, subjects: int, folder: Path) -> int:
    """Write the ``subjects`` largest faces of one frame as ``folder/<subject>/face.png``; returns how many."""
    capture = cv2.VideoCapture(str(video))
    capture.set(cv2.CAP_PROP_POS_FRAMES, frame_index)
    ok, image = capture.read()
    capture.release()
    if not ok:
        raise SystemExit(f"{video}: no frame {frame_index}")
    detections = engine.detector.detect(image)
    largest = sorted(range(len(detections)), key=lambda i: -float(detections.areas[i]))[:subjects]
    for n, i in enumerate(largest):
        (folder / f"passer_by_{n}").mkdir(parents=True)
        cv2.imwrite(str(folder / f"passer_by_{n}" / "face.png"), crop_face(image, detections.boxes[i], margin=0.6))
    return len(largest)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    data = Path(os.environ.get("LFR_SHARED_DATA", "../shared/data"))
    video = args.video or data / "video" / "crowd_walk_1080p.mp4"
    settings = Settings()
    with tempfile.TemporaryDirectory(prefix="lfr-latency-") as tmp:
        listed = enrol_from_frame(FaceEngine.from_settings(settings), video, args.frame, args.subjects, Path(tmp))
        report: dict[str, Any] = bench_pipeline(
            settings, Path(tmp), [str(video)] * args.cameras, runs=args.runs, realtime=True
        )
    report["watchlist"] = f"{listed} faces of frame {args.frame} of {video.name}"
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        keys = ("fps", "dropped_all_runs", "alerts", "alert_latency_p50_ms", "alert_latency_p95_ms", "latency_p95_ms")
        print(", ".join(f"{k} {report[k]}" for k in keys))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
