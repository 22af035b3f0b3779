"""The control plane's own limits, on a real PostgreSQL server (issue 16): how many alerts per second it can
persist, and how long a persisted alert takes to reach the last of N live-stream (SSE) clients.

Both parts run against the real service: the app of ``openlfr.api.factory`` (its lifespan opens the database,
the alert bus, the recognition supervisor, the scheduler, retention and http), served by uvicorn on a local
port. Alerts are persisted exactly as a camera pipeline persists them in ``lfr serve``: an ``AlertDispatcher``
over a ``DbAlertStore(deployment_id=…, check_subjects=True)`` (media written and fsynced first, encrypted with a
media key; then the row, with its subject locked against a concurrent erasure) whose sink is the service's alert
bus. Storing an alert writes no audit entry in this code base (the alert row is the record; its later views and
decisions are audited), so none is timed.

1. Persist rate: P producer threads, each with its own dispatcher (as each live deployment has), store A alerts
   as fast as they can; alerts/s over the whole run and per-alert store time (p50/p95).
2. SSE fan-out: a separate client process opens N streams (``GET /api/alerts/stream``, one signed-in session);
   once all are open, alerts are persisted one at a time; each alert's time from its commit (stamped by a sink
   ahead of the bus) to its arrival at the first and at the last of the N clients. The next alert is sent when
   the last client has the previous one (no overlap). Both processes read the same wall clock.

    scripts/with-postgres .venv/bin/python benchmarks/control_plane.py --json
    .venv/bin/python benchmarks/control_plane.py --database-url postgresql+psycopg://… --clients 1,10,100

Everything lives in a temporary data folder and the given database (its alert and subject tables gain the
benchmark's rows: use a throwaway database). Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from openlfr.alerts.db_store import DbAlertStore
from openlfr.alerts.dispatch import AlertDispatcher
from openlfr.alerts.event import AlertEvent
from openlfr.alerts.sinks import AlertBus, Record
from openlfr.api.factory import ServiceRuntime
from openlfr.auth.passwords import default_hasher
from openlfr.auth.users import bootstrap_user
from openlfr.config.models import ApiConfig, Settings
from openlfr.store.models import Subject

POSTGRES_URL_ENV = "LFR_TEST_POSTGRES_URL"
SUBJECTS = 40
DEPLOYMENT = "c" * 32
PASSWORD = secrets.token_urlsafe(18)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(POSTGRES_URL_ENV),
        help=f"URL of a throwaway PostgreSQL database (default ${POSTGRES_URL_ENV}, set by scripts/with-postgres)",
    )
    parser.add_argument("--producers", default="1,4,16", help="comma-separated producer thread counts")
    parser.add_argument("--alerts", type=int, default=200, help="alerts per producer-count run (split between them)")
    parser.add_argument("--clients", default="1,10,100", help="comma-separated SSE client counts")
    parser.add_argument("--fanout-alerts", type=int, default=20, help="alerts sent per client count")
    parser.add_argument(
        "--context-width", type=int, default=1920, help="width of each alert's context frame (0: alerts without one)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--sse-client-process", nargs=3, metavar=("URL", "COOKIE", "N"), help=argparse.SUPPRESS)
    return parser.parse_args(list(argv))


# -- the alerts -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlertImages:
    """JPEG bytes like the pipeline's: a face crop and a (blanked) context frame. Each alert appends its own
    id after the JPEG's end, so no two alerts share a media file (the store is content-addressed)."""

    probe: bytes
    context: bytes | None

    @classmethod
    def render(cls, context_width: int) -> AlertImages:
        import cv2
        import numpy as np

        from openlfr.pipeline.alerting import encode_jpeg

        rng = np.random.default_rng(16)
        width = max(context_width, 160)
        height = width * 9 // 16
        coarse = rng.integers(0, 256, size=(height // 8, width // 8, 3), dtype=np.uint8)
        frame = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
        return cls(probe=encode_jpeg(frame[:160, :160]), context=encode_jpeg(frame) if context_width else None)


def alert(images: AlertImages, producer: int, n: int) -> AlertEvent:
    alert_id = uuid.uuid4().hex
    now = time.time()
    unique = alert_id.encode()
    return AlertEvent(
        alert_id=alert_id, mode="production", source=f"cam{producer:02d}", track_id=n,
        subject_id=f"s{(producer * 7 + n) % SUBJECTS:02d}", score=0.61, second_score=0.33, evidence=3,
        threshold=0.47, frame_index=n, frame_time_s=n / 25, frame_wall_time=now, decided_at=now, latency_ms=40.0,
        model="benchmark", reference_image="ref", probe_jpeg=images.probe + unique,
        context_jpeg=None if images.context is None else images.context + unique,
    )  # fmt: skip


class StampSink:
    """Notes when each alert was committed: the dispatcher calls its sinks in order after the store returns,
    and this one comes before the bus."""

    name = "stamp"

    def __init__(self) -> None:
        self.committed: dict[int, float] = {}

    def push(self, record: Record) -> None:
        self.committed[int(str(record["seq"]))] = time.time()

    def close(self) -> None:
        return None


class BusForwarder:
    """The bus is the service's: a dispatcher closing must not close it (as the supervisor's forwarder)."""

    name = "bus"

    def __init__(self, bus: AlertBus) -> None:
        self.bus = bus

    def push(self, record: Record) -> None:
        self.bus.push(record)

    def close(self) -> None:
        return None


def dispatcher(runtime: ServiceRuntime, *sinks: Any) -> AlertDispatcher:
    assert runtime.store is not None and runtime.bus is not None
    store = DbAlertStore(runtime.store.db, runtime.store.media, deployment_id=DEPLOYMENT, check_subjects=True)
    return AlertDispatcher(store, [*sinks, BusForwarder(runtime.bus)])


# -- measurements -----------------------------------------------------------------------------------------------


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 1),
        "max_ms": round(ordered[-1], 1),
        "n": len(ordered),
    }


def persist_rate(runtime: ServiceRuntime, images: AlertImages, producers: int, alerts: int) -> dict[str, Any]:
    per_producer = max(1, alerts // producers)
    samples: list[list[float]] = [[] for _ in range(producers)]
    failures: list[BaseException] = []
    start = threading.Barrier(producers + 1)

    def produce(producer: int) -> None:
        own = dispatcher(runtime)
        events = [alert(images, producer, n) for n in range(per_producer)]
        start.wait()
        try:
            for event in events:
                began = time.perf_counter()
                if own.publish(event) is None:
                    raise RuntimeError(f"alert {event.alert_id} was dropped")
                samples[producer].append((time.perf_counter() - began) * 1000)
        except BaseException as exc:  # reported below: a benchmark that lost alerts has no figure
            failures.append(exc)

    threads = [threading.Thread(target=produce, args=(p,), daemon=True) for p in range(producers)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise failures[0]
    stored = producers * per_producer
    return {
        "producers": producers,
        "alerts": stored,
        "seconds": round(elapsed, 3),
        "alerts_per_s": round(stored / elapsed, 1),
        "store_time": percentiles([s for own in samples for s in own]),
    }


def fan_out(runtime: ServiceRuntime, images: AlertImages, url: str, cookie: str, clients: int, alerts: int) -> Any:
    stamp = StampSink()
    own = dispatcher(runtime, stamp)
    command = [sys.executable, __file__, "--sse-client-process", url, cookie, str(clients)]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    try:
        if child.stdout.readline().strip() != "ready":
            raise SystemExit(f"the SSE clients did not connect (exit {child.wait()})")
        for n in range(alerts):
            record = own.publish(alert(images, 99, n))
            assert record is not None
            # The client process says when the last of its clients has this alert: then the next one goes.
            if child.stdout.readline().strip() != f"all {record['seq']}":
                raise SystemExit("the SSE clients lost an alert")
        child.stdin.write("done\n")
        child.stdin.flush()
        arrivals: dict[str, list[float]] = json.loads(child.stdout.readline())
    finally:
        child.stdin.close()
        if child.wait(timeout=60) != 0:
            raise SystemExit(f"the SSE client process failed (exit {child.returncode})")
    first = [(min(times) - stamp.committed[int(seq)]) * 1000 for seq, times in arrivals.items()]
    last = [(max(times) - stamp.committed[int(seq)]) * 1000 for seq, times in arrivals.items()]
    return {
        "clients": clients,
        "alerts": len(arrivals),
        "deliveries": sum(len(times) for times in arrivals.values()),
        "commit_to_first_client": percentiles(first),
        "commit_to_last_client": percentiles(last),
    }


# -- the SSE client process ---------------------------------------------------------------------------------------


async def _stream(url: str, cookie: str, arrivals: dict[int, list[float]], opened: asyncio.Event) -> None:
    """One live-stream client over raw HTTP/1.0 (no chunking: the body is the event stream itself)."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET /api/alerts/stream HTTP/1.0\r\nHost: {host}\r\nCookie: {cookie}\r\n\r\n".encode())
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"stream refused: {status!r}")
    seq = None
    try:
        while line := await reader.readline():
            if line.startswith(b"retry:"):  # the first event: the server subscribed this client to the bus
                opened.set()
            elif line.startswith(b"id: "):
                seq = int(line[4:])
            elif line.startswith(b"data: ") and seq is not None:
                arrivals.setdefault(seq, []).append(time.time())
    finally:
        writer.close()


async def _clients(url: str, cookie: str, count: int) -> None:
    arrivals: dict[int, list[float]] = {}
    opened = [asyncio.Event() for _ in range(count)]
    tasks = [asyncio.create_task(_stream(url, cookie, arrivals, event)) for event in opened]
    for event in opened:
        await event.wait()
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    reported: set[int] = set()
    stdin = loop.run_in_executor(None, sys.stdin.readline)  # "done" from the parent
    while not stdin.done():
        for seq, times in list(arrivals.items()):
            if seq not in reported and len(times) == count:
                reported.add(seq)
                print(f"all {seq}", flush=True)
        failed = [task for task in tasks if task.done()]
        if failed:
            failed[0].result()
            raise RuntimeError("a stream ended early")
        await asyncio.sleep(0.001)  # polls this process's own state: a lost millisecond at most
    print(json.dumps(arrivals), flush=True)
    for task in tasks:
        task.cancel()


# -- the service --------------------------------------------------------------------------------------------------


def serve(runtime: ServiceRuntime) -> tuple[str, Any, threading.Thread]:
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(runtime.app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise SystemExit(f"the service did not start: {runtime.failure}")
        time.sleep(0.05)  # a benchmark waiting for its own server, not a test
    return f"http://127.0.0.1:{port}", server, thread


def sign_in(url: str) -> str:
    """A session cookie (``name=value``) for the supervisor created at start."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    body = json.dumps({"username": "bench", "password": PASSWORD}).encode()
    opener.open(urllib.request.Request(f"{url}/api/auth/login", body, {"Content-Type": "application/json"})).read()
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def prepare(runtime: ServiceRuntime) -> None:
    assert runtime.db is not None
    with runtime.db.session() as session:
        bootstrap_user(session, default_hasher(), "bench", PASSWORD, "supervisor", os_user="benchmark")
        for n in range(SUBJECTS):
            session.add(
                Subject(
                    id=f"s{n:02d}", external_ref=f"S{n:02d}", category="witness", reason="benchmark",
                    image_source="custody_image", added_by="benchmark", review_by=date(2099, 1, 1),
                )
            )  # fmt: skip


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from cryptography.fernet import Fernet

    if not args.database_url:
        raise SystemExit(f"give --database-url or set {POSTGRES_URL_ENV} (scripts/with-postgres does)")
    images = AlertImages.render(args.context_width)
    with tempfile.TemporaryDirectory(prefix="lfr-control-plane-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            database_url=args.database_url,
            media_key=SecretStr(Fernet.generate_key().decode()),
            api=ApiConfig.model_validate({"session_secret": SecretStr(secrets.token_urlsafe(40))}),
        )
        runtime = ServiceRuntime(settings)
        url, server, thread = serve(runtime)
        try:
            prepare(runtime)
            report: dict[str, Any] = {
                "database": runtime.db.engine.dialect.name if runtime.db is not None else None,
                "probe_jpeg_bytes": len(images.probe),
                "context_jpeg_bytes": len(images.context or b""),
                "load_average_1min_before": load_average(),
                "persist": [persist_rate(runtime, images, int(p), args.alerts) for p in args.producers.split(",")],
            }
            cookie = sign_in(url)
            report["fan_out"] = [
                fan_out(runtime, images, url, cookie, int(n), args.fanout_alerts) for n in args.clients.split(",")
            ]
            report["load_average_1min_after"] = load_average()
        finally:
            server.should_exit = True
            thread.join(30)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.sse_client_process:
        url, cookie, count = args.sse_client_process
        asyncio.run(_clients(url, cookie, int(count)))
        return 0
    report = run(args)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name, value in report.items():
            print(f"{name}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
