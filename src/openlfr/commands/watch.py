"""``lfr watch``: run the live pipeline over one or more sources against an ad hoc watchlist folder.

This is the evaluation tool: alerts are marked ``"mode": "evaluation"``; production runs belong to
authorised deployments. The watchlist folder is enrolled in memory only; alerts (and only alerts) are stored
under ``--store`` before they are printed.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from openlfr.commands.common import settings_from

if TYPE_CHECKING:
    from openlfr.sources.base import FrameSource


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "watch",
        help="run live recognition on video sources against a watchlist folder (evaluation mode)",
        description="Prints one JSON line per alert (stdout or --jsonl) and a summary JSON object on stderr.",
    )
    parser.add_argument(
        "--watchlist", type=Path, required=True, metavar="WL", help="folder WL/<subject_id>/<images> (in memory)"
    )
    parser.add_argument(
        "--source",
        action="append",
        required=True,
        metavar="SRC",
        help="video file, image folder, webcam:N, rtsp://… or http(s)://… (repeat for several cameras)",
    )
    parser.add_argument(
        "--threshold", type=float, default=None, help="alert threshold (default: the model's calibrated one)"
    )
    parser.add_argument("--jsonl", type=Path, default=None, metavar="FILE", help="append alerts here, not stdout")
    parser.add_argument(
        "--store",
        type=Path,
        default=None,
        metavar="DIR",
        help="durable alert store (alerts.jsonl + media of matches only; default: DATA_DIR/watch)",
    )
    parser.add_argument("--webhook", default=None, metavar="URL", help="also POST each alert to this URL")
    parser.add_argument("--realtime", action="store_true", help="play files at their own speed (as a camera would)")
    parser.set_defaults(handler=run_watch)


def run_watch(args: argparse.Namespace) -> int:
    from openlfr.alerts.dispatch import AlertDispatcher
    from openlfr.alerts.sinks import AlertSink, JsonlSink, WebhookSink
    from openlfr.alerts.store import FileAlertStore
    from openlfr.engine import FaceEngine
    from openlfr.errors import SourceError
    from openlfr.pipeline.app import WatchPipeline, pipeline_settings
    from openlfr.pipeline.config import PipelineConfig
    from openlfr.pipeline.gallery import enrol_folder

    settings = pipeline_settings(settings_from(args))
    engine = FaceEngine.from_settings(settings)
    snapshot, skipped = enrol_folder(engine, args.watchlist)
    for item in skipped:
        print(f"lfr watch: skipped reference {item.path}: {item.reason}", file=sys.stderr)
    config = PipelineConfig(threshold=args.threshold)
    sources, failed = _open_sources(args.source, realtime=args.realtime)
    if not sources:
        raise SourceError("no source could be opened: " + "; ".join(f"{f['source']}: {f['error']}" for f in failed))
    sinks: list[AlertSink] = []
    if args.jsonl is not None:
        sinks.append(JsonlSink(args.jsonl.open("a", encoding="utf-8"), owns_stream=True))
    else:
        sinks.append(JsonlSink(sys.stdout))
    if args.webhook:
        sinks.append(WebhookSink(args.webhook))
    store = FileAlertStore(args.store or settings.data_dir / "watch")
    # --realtime plays files as cameras: frames the models cannot keep up with are dropped and counted.
    pipeline = WatchPipeline(
        engine, snapshot, sources, AlertDispatcher(store, sinks), config, drop_when_behind=args.realtime or None
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        summary = pipeline.run(stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    failed += [{"source": reader.source_id, "error": str(reader.error)} for reader in pipeline.readers if reader.error]
    report = {
        "mode": "evaluation",
        "watchlist": {"subjects": snapshot.subjects, "templates": len(snapshot.templates), "skipped": len(skipped)},
        "sources": [s.source_id for s in sources],
        "failed_sources": failed,
        **summary.as_dict(),
    }
    print(json.dumps(report), file=sys.stderr)
    if summary.stopped:
        return 130
    return 1 if failed else 0


def _open_sources(specs: list[str], *, realtime: bool) -> tuple[list[FrameSource], list[dict[str, str]]]:
    """Open every source that can be opened; a broken one is reported (stderr and the summary) and skipped so
    the other cameras still run."""
    from openlfr.errors import SourceError
    from openlfr.sources.factory import open_source
    from openlfr.sources.redact import redact

    sources: list[FrameSource] = []
    failed: list[dict[str, str]] = []
    try:
        for index, spec in enumerate(specs):
            try:
                source = open_source(spec, realtime=realtime)
                if source.source_id in {s.source_id for s in sources}:
                    source.close()
                    source = open_source(spec, source_id=f"{source.source_id}#{index}", realtime=realtime)
            except SourceError as exc:
                print(f"lfr watch: error [source_unavailable]: {exc} (the other sources go on)", file=sys.stderr)
                failed.append({"source": redact(spec), "error": str(exc)})
                continue
            sources.append(source)
    except BaseException:
        for source in sources:
            source.close()
        raise
    return sources, failed
