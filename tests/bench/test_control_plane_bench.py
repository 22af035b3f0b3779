"""``benchmarks/control_plane.py`` in a tiny configuration, so it cannot rot: it runs against the real service
and a real PostgreSQL database, every alert it counts is in the database once, and every SSE client got every
alert. No timing assertions: the figures are the benchmark's to print, not the test's to judge."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import create_engine, func, select

from openlfr.store.alert_models import AlertRecord

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "control_plane.py"


@pytest.mark.postgres
@pytest.mark.slow  # a real service, a client process and PostgreSQL
def test_control_plane_benchmark_persists_every_alert_and_streams_it_to_every_client(
    postgres_database_url: str,
) -> None:
    command = [sys.executable, str(BENCHMARK), "--database-url", postgres_database_url, "--json"]
    options = ["--producers", "1,3", "--alerts", "6", "--clients", "1,4", "--fanout-alerts", "2"]
    options += ["--context-width", "320"]
    done = subprocess.run([*command, *options], check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)

    assert report["database"] == "postgresql"
    assert [(run["producers"], run["alerts"], run["store_time"]["n"]) for run in report["persist"]] == [
        (1, 6, 6),
        (3, 6, 6),
    ]
    assert all(run["alerts_per_s"] > 0 for run in report["persist"])
    assert [(run["clients"], run["alerts"], run["deliveries"]) for run in report["fan_out"]] == [(1, 2, 2), (4, 2, 8)]
    assert all(run["commit_to_last_client"]["n"] == 2 for run in report["fan_out"])

    engine = create_engine(postgres_database_url)
    try:
        with engine.connect() as connection:
            stored = connection.scalar(select(func.count()).select_from(AlertRecord))
            distinct_seq = connection.scalar(select(func.count(func.distinct(AlertRecord.seq))))
    finally:
        engine.dispose()
    assert stored == distinct_seq == 6 + 6 + 2 + 2  # each alert once, each with its own sequence number


def _benchmark_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("control_plane_benchmark", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def test_every_benchmark_alert_has_its_own_images_so_the_media_store_cannot_share_them() -> None:
    """The media store is content-addressed: alerts with identical images would share one file and the
    benchmark would time less work than real alerts cost."""
    bench = _benchmark_module()
    images = bench.AlertImages.render(320)
    alerts = [bench.alert(images, producer, n) for producer in range(2) for n in range(3)]
    assert len({a.probe_jpeg for a in alerts}) == len({a.context_jpeg for a in alerts}) == 6
    assert all(a.probe_jpeg.startswith(b"\xff\xd8") and a.context_jpeg.startswith(b"\xff\xd8") for a in alerts)
    without_context = bench.AlertImages.render(0)
    assert without_context.context is None and bench.alert(without_context, 0, 0).context_jpeg is None
