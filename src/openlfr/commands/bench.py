"""``lfr bench engine``: median timings of the engine's stages on real images."""

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
    engine.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    engine.set_defaults(handler=run_engine_bench)


def run_engine_bench(args: argparse.Namespace) -> int:
    from openlfr.bench.engine import bench_engine
    from openlfr.engine import FaceEngine

    engine = FaceEngine.from_settings(settings_from(args))
    result = bench_engine(engine, args.data, repeat=args.repeat, batch=args.batch)
    if args.json:
        print_json(result)
    else:
        for key, value in result.items():
            print(f"{key:<32} {value}")
    return 0
