"""``lfr bench engine``: median timings of the engine's stages on real images.
``lfr bench search``: exact vs FAISS gallery search latency and recall on random vectors."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from openlfr.commands.common import print_json, settings_from


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("bench", help="speed benchmarks")
    sub = parser.add_subparsers(dest="bench_command", metavar="WHAT", required=True)
    engine = sub.add_parser("engine", help="decode, detection, alignment and embedding timings")
    engine.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("LFR_SHARED_DATA", "../shared/data")),
        help="sample data folder with scenes/ (default: $LFR_SHARED_DATA or ../shared/data)",
    )
    engine.add_argument("--repeat", type=int, default=30, help="timed repetitions per stage (30)")
    engine.add_argument("--batch", type=int, default=16, help="faces per batch for batched embedding (16)")
    engine.add_argument(
        "--runtime",
        choices=["auto", "onnxruntime", "openvino"],
        default=None,
        help="override the detector's and embedder's configured runtime (YuNet/SFace)",
    )
    engine.add_argument(
        "--precision", choices=["auto", "f32", "bf16"], default=None, help="override the configured precision"
    )
    engine.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    engine.set_defaults(handler=run_engine_bench)
    _register_search(sub)
    _register_pipeline(sub)


def _register_search(sub: Any) -> None:
    search = sub.add_parser("search", help="gallery search latency and FAISS recall@1 (random unit vectors)")
    search.add_argument("--gallery", type=int, required=True, help="templates in the gallery, e.g. 10000")
    search.add_argument("--probes", type=int, default=1000, help="probes, half mated, half random (1000)")
    search.add_argument("--dimension", type=int, default=128, help="vector dimension (128)")
    search.add_argument("--templates-per-subject", type=int, default=1, help="templates per subject (1)")
    search.add_argument("--seed", type=int, default=0, help="random seed (0)")
    search.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    search.set_defaults(handler=run_search_bench)


def run_engine_bench(args: argparse.Namespace) -> int:
    from openlfr.bench.engine import bench_engine, with_runtime
    from openlfr.engine import FaceEngine

    settings = with_runtime(settings_from(args), runtime=args.runtime, precision=args.precision)
    engine = FaceEngine.from_settings(settings)
    result = bench_engine(engine, args.data, repeat=args.repeat, batch=args.batch)
    if args.json:
        print_json(result)
    else:
        for key, value in result.items():
            print(f"{key:<32} {value}")
    return 0


def run_search_bench(args: argparse.Namespace) -> int:
    from openlfr.bench.search import bench_search

    result = bench_search(
        args.gallery,
        args.probes,
        dimension=args.dimension,
        templates_per_subject=args.templates_per_subject,
        seed=args.seed,
    )
    if args.json:
        print_json(result)
    else:
        for key, value in result.items():
            print(f"{key:<32} {value}")
    return 0


def _register_pipeline(sub: Any) -> None:
    data = Path(os.environ.get("LFR_SHARED_DATA", "../shared/data"))
    pipeline = sub.add_parser("pipeline", help="the live pipeline on a video: fps, stage timings, latency, CPU, RSS")
    pipeline.add_argument(
        "--source",
        action="append",
        default=None,
        metavar="VIDEO",
        help="video file(s), one camera each (default: crowd_walk_1080p.mp4 of the shared data)",
    )
    pipeline.add_argument(
        "--watchlist",
        type=Path,
        default=data / "faces" / "knn",
        metavar="WL",
        help="watchlist folder WL/<subject>/<images> (default: the shared faces/knn)",
    )
    pipeline.add_argument("--runs", type=int, default=3, help="runs; the report is the median run by fps (3)")
    pipeline.add_argument(
        "--threshold", type=float, default=None, help="alert threshold (default: the model's calibrated one)"
    )
    pipeline.add_argument(
        "--realtime",
        action="store_true",
        help="play the files at their own speed as cameras (late frames are dropped and counted)",
    )
    pipeline.add_argument(
        "--embed-budget",
        type=int,
        default=None,
        metavar="N",
        help="faces embedded per round (default: the pipeline's, 2; docs/BENCHMARKS.md measures it)",
    )
    pipeline.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    pipeline.set_defaults(handler=run_pipeline_bench)


def run_pipeline_bench(args: argparse.Namespace) -> int:
    from openlfr.bench.pipeline import bench_pipeline
    from openlfr.errors import ConfigError

    data = Path(os.environ.get("LFR_SHARED_DATA", "../shared/data"))
    sources = args.source or [str(data / "video" / "crowd_walk_1080p.mp4")]
    if args.embed_budget is not None and args.embed_budget < 1:
        raise ConfigError("--embed-budget must be at least 1")
    result = bench_pipeline(
        settings_from(args),
        args.watchlist,
        sources,
        runs=args.runs,
        threshold=args.threshold,
        realtime=args.realtime,
        embed_budget=args.embed_budget,
    )
    if args.json:
        print_json(result)
    else:
        for key, value in result.items():
            print(f"{key:<32} {value}")
    return 0
