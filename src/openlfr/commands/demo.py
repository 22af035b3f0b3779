"""``lfr demo``: detect, align and match faces on the sample data and print what happened; ``lfr demo --serve``:
the service with a ready demo (``openlfr.commands.demo_serve``)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from openlfr.commands.common import settings_from


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="engine demo on the sample data in ../shared/data; --serve: the console with a live demo",
        description="Without --serve: detect and match the faces of the sample still images. With --serve: "
        "build a demo in its own data folder (DELETED AND REBUILT ON EVERY RUN; your real data is never "
        "touched) -- a watchlist from the sample data, a camera playing video/hamilton_short.mp4 in a loop, a "
        "deployment authorised and live, accounts with fresh random passwords printed once -- then run the "
        "server as `lfr serve` does, until Ctrl-C.",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("LFR_SHARED_DATA", "../shared/data")),
        help="the shared sample data folder (default: $LFR_SHARED_DATA or ../shared/data)",
    )
    parser.add_argument(
        "--serve", action="store_true", help="run the API and console with a ready demo (see above) until Ctrl-C"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="with --serve: the demo's own data folder, reset on every run; only a folder the demo made, or an "
        "empty one, is accepted (default: .demo)",
    )
    parser.add_argument("--port", type=int, default=None, help="with --serve: TCP port (default: api.port, 8000)")
    parser.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from openlfr.commands.demo_serve import DemoError, run_demo_serve

    if args.serve:
        return run_demo_serve(args)
    if args.data_dir is not None or args.port is not None:
        raise DemoError("--data-dir and --port go with --serve")
    return run_engine_demo(args)


def run_engine_demo(args: argparse.Namespace) -> int:
    import time

    from openlfr.engine import FaceEngine
    from openlfr.errors import DatasetError
    from openlfr.pipeline.thresholds import default_threshold

    gallery_root = args.data / "faces" / "knn"
    scenes = args.data / "scenes"
    if not gallery_root.is_dir() or not scenes.is_dir():
        raise DatasetError(f"{args.data}: expected faces/knn/ and scenes/ (the shared sample data)")
    started = time.perf_counter()
    engine = FaceEngine.from_settings(settings_from(args))
    print(
        f"engine: {engine.detector.name} + {engine.contract.model} ({engine.contract.dimension}-d), "
        f"loaded in {time.perf_counter() - started:.2f} s"
    )
    gallery = {}
    for person in sorted(p for p in gallery_root.iterdir() if p.is_dir()):
        image_path = sorted(person.iterdir())[0]
        analysis = engine.analyse(engine.load(image_path), limits=engine.config.enrolment_quality)
        face = analysis.largest
        status = "ok" if analysis.verdict.passed else "quality: " + ",".join(analysis.verdict.reasons)
        print(f"enrol {person.name:<16} from {image_path.name:<28} {status}")
        if face is not None and face.embedding is not None:
            gallery[person.name] = face.embedding
    # The same calibrated per-model threshold the live pipeline alerts at (docs/PIPELINE.md).
    threshold = default_threshold(engine.contract)
    print(f"threshold: {threshold} (calibrated default for {engine.contract.model})")
    for scene in sorted(scenes.iterdir()):
        image = engine.load(scene)
        analysis = engine.analyse(image)
        print(f"\n{scene.name}: {len(analysis.faces)} face(s)")
        for face in analysis.faces:
            assert face.embedding is not None
            scores = sorted(((face.embedding.similarity(e), name) for name, e in gallery.items()), reverse=True)
            best_score, best_name = scores[0]
            verdict = best_name if best_score >= threshold else "no match"
            x1, y1, x2, y2 = (int(v) for v in face.detection.boxes[0])
            print(
                f"  face at ({x1},{y1})-({x2},{y2}) det {face.quality.detector_score:.2f} "
                f"iod {face.quality.inter_ocular_px:.0f}px → {verdict} (best {best_name} {best_score:.3f})"
            )
    return 0
