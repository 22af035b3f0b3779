"""``lfr bench pipeline``: the whole live pipeline on video files, as ``lfr watch`` runs it.

Frames/s and faces/s over the run (decode to decision, sources read as fast as the pipeline takes them),
median milliseconds per stage, frame latency (capture → processed) percentiles, CPU cores used and peak RSS.
Alerts of the run go to a temporary store that is deleted afterwards.
"""

from __future__ import annotations

import os
import platform
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openlfr.config.models import Settings


def bench_pipeline(
    settings: Settings,
    watchlist: Path,
    sources: Sequence[str],
    *,
    runs: int = 3,
    threshold: float | None = None,
    realtime: bool = False,
    embed_budget: int | None = None,
) -> dict[str, Any]:
    """``realtime``: play the files at their own speed as cameras (frames the models cannot keep up with are
    dropped and counted); otherwise read them as fast as the pipeline takes them. ``embed_budget``: the
    pipeline's faces embedded per round (default: ``PipelineConfig``'s)."""
    from openlfr.alerts.dispatch import AlertDispatcher
    from openlfr.alerts.store import FileAlertStore
    from openlfr.engine import FaceEngine
    from openlfr.pipeline.app import RunSummary, WatchPipeline, pipeline_settings
    from openlfr.pipeline.config import PipelineConfig
    from openlfr.pipeline.gallery import enrol_folder
    from openlfr.sources.factory import open_source

    settings = pipeline_settings(settings)
    engine = FaceEngine.from_settings(settings)
    snapshot, _ = enrol_folder(engine, watchlist)
    summaries: list[RunSummary] = []
    for _ in range(max(1, runs)):
        with tempfile.TemporaryDirectory(prefix="lfr-bench-") as store:
            opened = [open_source(s, source_id=f"{Path(s).name}#{i}", realtime=realtime) for i, s in enumerate(sources)]
            dispatcher = AlertDispatcher(FileAlertStore(Path(store)), [])
            config = (
                PipelineConfig(threshold=threshold)
                if embed_budget is None
                else PipelineConfig(threshold=threshold, embed_budget=embed_budget)
            )
            pipeline = WatchPipeline(
                engine, snapshot, opened, dispatcher, config, drop_when_behind=True if realtime else None
            )
            summaries.append(pipeline.run())
    summaries.sort(key=lambda s: s.fps)
    median = summaries[len(summaries) // 2]
    return {
        "sources": list(sources),
        "watchlist_subjects": snapshot.subjects,
        "detector": engine.detector.name,
        "model": engine.contract.model,
        "detector_threads": getattr(settings.engine.detector, "threads", None),
        "embedder_threads": getattr(settings.engine.embedder, "threads", None),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "realtime": realtime,
        "embed_budget": PipelineConfig().embed_budget if embed_budget is None else embed_budget,
        "runs": len(summaries),
        "fps_all_runs": [round(s.fps, 2) for s in summaries],
        "dropped_all_runs": [s.dropped_frames for s in summaries],
        **median.as_dict(),
    }
