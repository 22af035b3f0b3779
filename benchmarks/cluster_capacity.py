"""Cameras handled versus worker processes on this machine (issue 16, "Measured").

For each number of worker nodes M, a real local Ray cluster is started exactly as ``lfr cluster start`` starts one
(``openlfr.cluster.node.start_command``): a head node and M worker nodes, each a separate ``ray start --block``
process group on loopback, each worker offering the same fixed number of camera slots. For each number of cameras
N, a deployment of N registered cameras, all playing the same clip, is created, authorised and started through the
deployments domain, and its mandate placed on the cluster by the control plane's ``ClusterSupervisor`` (the path
``lfr serve`` takes in cluster mode; alerts are persisted into the benchmark's own database, a SQLite file in a
temporary data folder). Each camera runs on a worker with the real YuNet/SFace models and plays its file in REAL
TIME (``realtime_files=True``, the mode ``lfr serve`` uses for files: a paced reader, frames dropped when the
models fall behind, as with a live camera).

After a warm-up, the counters are read twice through ``ClusterSupervisor.cluster_status()`` (what ``lfr cluster
status`` and /metrics read) and the difference over the window is reported per camera:

- offered: frames the source decoded (``SourceHealth.frames_read``); expected: clip fps x window;
- processed: frames the models processed; dropped: frames dropped because the models were behind, plus the
  frames a paced file could not read in time (a camera would have sent them while its reader was more than 1 s
  behind: ``SourceHealth.frames_dropped``);
- p50/p95 capture→decision latency of the window's frames (difference of the cumulative histograms);
- alerts raised (the clip shows the listed performer; he is enrolled from ``hamilton_refs``);
- CPU: cores used by the worker nodes' processes (each node is a session: its raylet, daemons and camera
  actors; /proc/PID/stat), by each camera actor, the whole machine's busy fraction (/proc/stat, whoever used it)
  and the load average before and after.

A camera is *handled* when it keeps up: at most ``--max-dropped`` (default 5 %) of its offered frames dropped AND
at least 95 % of the expected frames offered (a decoder starved of CPU falls behind the clip). A configuration is
handled when every camera is.

    .venv/bin/python benchmarks/cluster_capacity.py --json > benchmarks/results_cluster_capacity.json
    .venv/bin/python benchmarks/cluster_capacity.py --short

The machine may be shared: the load average is recorded with each run so the figures can be read against it.
Everything lives in temporary folders under /tmp (Ray's socket paths must be short); nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import cv2
from sqlalchemy import func, select

from openlfr.alerts.sinks import AlertBus
from openlfr.auth.passwords import default_hasher
from openlfr.auth.principal import Principal
from openlfr.auth.roles import Role
from openlfr.auth.users import user_principal
from openlfr.cluster.node import TOKEN_FILE, start_command
from openlfr.cluster.supervisor import ClusterSupervisor, open_pool
from openlfr.cluster.types import CameraReport
from openlfr.config.cluster import ClusterConfig
from openlfr.config.governance import GovernanceConfig
from openlfr.config.models import Settings
from openlfr.deployments.mandate import issue_mandate
from openlfr.deployments.notice import record_placement
from openlfr.deployments.service import authorise_deployment, create_deployment, end_deployment, start_deployment
from openlfr.deployments.types import DeploymentPlan, ThresholdReasons
from openlfr.engine import FaceEngine
from openlfr.pipeline.latency import HistogramSnapshot
from openlfr.service.registry import add_camera
from openlfr.sources.mandate import RecognitionMandate
from openlfr.store.alert_models import AlertRecord
from openlfr.store.auth_models import User
from openlfr.store.context import Store
from openlfr.store.db import open_database
from openlfr.store.media import MediaStore
from openlfr.utc import utcnow
from openlfr.watchlists.enrol import Enroller, EnrolRequest
from openlfr.watchlists.snapshots import create_snapshot
from openlfr.watchlists.subjects import add_member, create_watchlist, get_subject
from openlfr.watchlists.types import Category, Outcome, SubjectInfo

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "video"
CLIP = DATA / "hamilton_short.mp4"
REFERENCE = DATA / "hamilton_refs" / "lin_manuel_miranda" / "lin-manuel-miranda.png"
THRESHOLD = 0.47  # as tests/cluster's real-model test: the performer is recognised on this clip
MIN_OFFERED = 0.95
JOIN_WAIT_S = 300.0


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", default="1,2", help="comma-separated worker-node counts M")
    parser.add_argument("--cameras", default="1,2,3,4", help="comma-separated camera counts N")
    parser.add_argument("--slots", type=int, default=4, help="camera slots each worker node offers")
    parser.add_argument("--window", type=float, default=30.0, help="seconds measured per (M, N)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds run before the window starts")
    parser.add_argument("--max-dropped", type=float, default=0.05, help="a camera keeps up at or below this")
    parser.add_argument("--clip", type=Path, default=CLIP)
    parser.add_argument("--short", action="store_true", help="M=1, N=1, a 5 s window (a smoke run)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON (else a table)")
    args = parser.parse_args(argv)
    if args.short:
        args.nodes, args.cameras, args.window, args.warmup = "1", "1", 5.0, 1.0
    args.clip = args.clip.resolve()  # the workers run in their own folders
    args.node_counts = [int(x) for x in str(args.nodes).split(",")]
    args.camera_counts = [int(x) for x in str(args.cameras).split(",")]
    if any(n > m * args.slots for m in args.node_counts for n in args.camera_counts):
        parser.error("a camera count exceeds the slots the nodes offer (--slots)")
    return args


# -- the cluster ------------------------------------------------------------------------------------------------


@dataclass
class LocalCluster:
    """Head + worker nodes on loopback, each its own ``ray start --block`` process group and short data folder."""

    port: int
    token: Path
    """one token for every cluster of the run: Ray reads the token when it is first imported, so the benchmark's
    one driver process can only join clusters that share it"""
    folders: list[Path]
    processes: list[subprocess.Popen[bytes]]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def config(self) -> ClusterConfig:
        return ClusterConfig(address=self.address, auth_token_file=self.token, ack_timeout_s=120.0)

    def spawn(self, *, head: bool, cameras: int) -> None:
        folder = Path(tempfile.mkdtemp(prefix="lfr", dir="/tmp"))
        command = start_command(
            folder,
            self.config(),  # the head creates the token file if it does not exist yet
            head=head,
            address=None if head else self.address,
            port=self.port,
            node_ip="127.0.0.1",
            cameras=cameras,
            cpus=cameras,
        )
        with (folder / "node.log").open("wb") as log:
            process = subprocess.Popen(
                command.argv,
                env={**os.environ, **command.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=folder,
            )
        self.folders.append(folder)
        self.processes.append(process)

    @property
    def worker_sessions(self) -> set[int]:
        """Session ids of the worker nodes (each ``ray start`` leads its own session; its actors inherit it)."""
        return {p.pid for p in self.processes[1:]}

    def stop(self) -> None:
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for folder in self.folders:
            shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def local_cluster(workers: int, slots: int, token: Path) -> Iterator[LocalCluster]:
    cluster = LocalCluster(free_port(), token, [], [])
    try:
        cluster.spawn(head=True, cameras=0)
        for _ in range(workers):
            cluster.spawn(head=False, cameras=slots)
        yield cluster
    finally:
        cluster.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise TimeoutError(f"gave up waiting for {what} after {timeout_s:.0f} s")


def connect(settings: Settings, nodes: int) -> ClusterSupervisor:
    """The control plane's supervisor, once the head answers and every worker node joined."""
    pools = []

    def attempt() -> bool:
        try:
            pools.append(open_pool(settings))
        except Exception:  # the head is still starting
            import ray

            ray.shutdown()
            return False
        return True

    wait_for(attempt, JOIN_WAIT_S, "the head node")
    pool = pools[0]
    wait_for(lambda: sum(n.alive for n in pool.status().nodes) >= nodes + 1, JOIN_WAIT_S, "the worker nodes")
    db = open_database(settings)
    return ClusterSupervisor(settings, db, MediaStore(settings.data_dir / "media"), AlertBus(), pool)


# -- the governed set-up (the deployments domain, as an operator's actions) -------------------------------------


@dataclass(frozen=True)
class People:
    admin: Principal
    supervisor: Principal


# The benchmark is one person's bench run: separation of duties and training records are off for it only.
GOVERNANCE = GovernanceConfig(separation_of_duties=False, require_competence=False)


def people(store: Store) -> People:
    hasher = default_hasher()
    with store.db.session() as session:
        out = []
        for name, role in (("bench-admin", Role.ADMIN), ("bench-sgt", Role.SUPERVISOR)):
            user = User(username=name, password_hash=hasher.hash(os.urandom(16).hex()), role=str(role))
            session.add(user)
            session.flush()
            out.append(user_principal(user))
    return People(*out)


def enrol_performer(store: Store, engine: FaceEngine, who: People) -> None:
    info = SubjectInfo(
        "LMM-1", Category.SUSPECTED_OFFENCE, "benchmark", "other", "bench", date(2099, 1, 1), "LMM",
        image_source_note="public photograph",
    )  # fmt: skip
    result = Enroller(store, engine, 0.9).enrol(
        EnrolRequest("LMM-1", REFERENCE.read_bytes(), "ref.png", info=info, by=who.supervisor)
    )
    if result.outcome is not Outcome.ENROLLED:
        raise RuntimeError(f"the reference did not enrol: {result}")
    with store.db.session() as session:
        listed = create_watchlist(session, "stage", by=who.supervisor)
        add_member(session, listed, get_subject(session, "LMM-1"), by=who.supervisor)


def watchlist_snapshot(store: Store, engine: FaceEngine, who: People) -> str:
    """A new snapshot for each deployment (a snapshot belongs to the deployment that first used it)."""
    with store.db.session() as session:
        return create_snapshot(session, "stage", engine.contract, date.today(), by=who.supervisor).id


def live_deployment(store: Store, who: People, snapshot_id: str, clip: Path, tag: str, n: int) -> RecognitionMandate:
    now = utcnow()
    with store.db.session() as session:
        cameras = [
            add_camera(session, name=f"{tag}-{i}", source=str(clip), by=who.admin, loop=True).id
            for i in range(1, n + 1)
        ]
    plan = DeploymentPlan(
        name=f"capacity {tag}", use_case="benchmark", purpose="benchmark", legal_basis="benchmark",
        justification="benchmark", location="bench", planned_start=now - timedelta(minutes=1),
        planned_end=now + timedelta(hours=2), camera_ids=tuple(cameras), snapshot=snapshot_id,
        threshold=THRESHOLD, signage_confirmed=True,
    )  # fmt: skip
    reasons = ThresholdReasons(override="benchmark on a public clip")
    with store.db.session() as session:
        sgt = who.supervisor
        deployment = create_deployment(session, plan, by=sgt, config=GOVERNANCE, now=now, reasons=reasons)
        authorise_deployment(session, deployment.id, by=sgt, text="benchmark", config=GOVERNANCE, now=now)
        record_placement(session, deployment.id, location="bench", by=sgt, now=now)
        start_deployment(session, deployment.id, by=sgt, now=now)
        return issue_mandate(session, deployment.id, now=now)


# -- measuring --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CameraResult:
    camera: str
    node: str | None
    offered: int
    expected: int
    processed: int
    dropped: int
    dropped_fraction: float
    offered_fraction: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    alerts: int
    """alerts the camera's pipeline raised in the window (counted on the worker)"""
    kept_up: bool


@dataclass(frozen=True)
class RunResult:
    nodes: int
    cameras: int
    slots_per_node: int
    window_s: float
    cpu_busy: float
    """fraction of all the machine's cores busy over the window (/proc/stat), whoever used them"""
    worker_cores: float
    """CPU cores used over the window by every process of the worker nodes (this benchmark's cameras only)"""
    cores_per_camera: tuple[float, ...]
    """CPU cores used by each camera actor process over the window"""
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    cameras_kept_up: int
    handled: bool
    alerts_stored: int
    """alerts of the deployment the control plane stored in its database (whole run, warm-up included)"""
    per_camera: tuple[CameraResult, ...]


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def worker_cpu_seconds(sessions: set[int]) -> tuple[float, dict[int, float]]:
    """CPU seconds used so far by every process of the worker nodes (each node is its own session: its raylet,
    daemons and camera actors), and by each camera actor process (pid → seconds)."""
    total, actors = 0.0, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) not in sessions:  # field 6 of /proc/PID/stat: the session id
            continue
        seconds = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime
        total += seconds
        if name.startswith("ray::CameraWork"):
            actors[int(entry.name)] = seconds
    return total, actors


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def histogram_delta(after: HistogramSnapshot, before: HistogramSnapshot) -> HistogramSnapshot:
    counts = tuple(a - b for a, b in zip(after.cumulative, before.cumulative, strict=True))
    return HistogramSnapshot(after.bounds_s, counts, after.sum_s - before.sum_s)


def camera_result(
    before: CameraReport, after: CameraReport, fps: float, window_s: float, max_dropped: float
) -> CameraResult:
    assert before.status is not None and after.status is not None, "a camera restarted during the window"
    b, a = before.status.cameras[0], after.status.cameras[0]
    offered = a.source.frames_read - b.source.frames_read
    dropped = a.frames_dropped - b.frames_dropped
    expected = round(fps * window_s)
    latency = histogram_delta(a.latency, b.latency)
    p50, p95 = latency.quantile(0.5), latency.quantile(0.95)
    dropped_fraction = dropped / offered if offered else 1.0
    offered_fraction = offered / expected if expected else 0.0
    return CameraResult(
        camera=a.source_id,
        node=after.node_id[:8] if after.node_id else None,
        offered=offered,
        expected=expected,
        processed=a.frames - b.frames,
        dropped=dropped,
        dropped_fraction=round(dropped_fraction, 4),
        offered_fraction=round(offered_fraction, 4),
        latency_p50_ms=None if p50 is None else round(p50 * 1000, 1),
        latency_p95_ms=None if p95 is None else round(p95 * 1000, 1),
        alerts=a.alerts - b.alerts,
        kept_up=dropped_fraction <= max_dropped and offered_fraction >= MIN_OFFERED,
    )


def measure(
    supervisor: ClusterSupervisor, deployment_id: str, args: argparse.Namespace, fps: float, sessions: set[int]
) -> Any:
    def reports() -> dict[str, CameraReport]:
        return {c.camera_id: c for c in supervisor.cluster_status().cameras if c.deployment_id == deployment_id}

    time.sleep(args.warmup)  # models warm, queues settled: the window measures the steady state
    load_before = os.getloadavg()
    busy0, total0 = cpu_times()
    workers0, actors0 = worker_cpu_seconds(sessions)
    started = time.monotonic()
    before = reports()
    time.sleep(args.window)  # the measured window itself (a benchmark, not a test: it waits on the clock)
    after = reports()
    workers1, actors1 = worker_cpu_seconds(sessions)
    elapsed = time.monotonic() - started
    busy1, total1 = cpu_times()
    load_after = os.getloadavg()
    per_camera = tuple(camera_result(before[c], after[c], fps, args.window, args.max_dropped) for c in sorted(after))
    cpu_busy = (busy1 - busy0) / (total1 - total0) if total1 > total0 else 0.0
    worker_cores = round((workers1 - workers0) / elapsed, 3)
    per_actor = tuple(sorted(round((actors1[p] - actors0[p]) / elapsed, 3) for p in actors1.keys() & actors0.keys()))
    return per_camera, round(cpu_busy, 3), worker_cores, per_actor, load_before, load_after


def run_nodes(m: int, args: argparse.Namespace, fps: float, folder: Path) -> list[RunResult]:
    results = []
    with local_cluster(m, args.slots, folder / TOKEN_FILE) as cluster:
        settings = Settings(data_dir=folder / f"m{m}", cluster=cluster.config())
        settings.data_dir.mkdir(parents=True)
        supervisor = connect(settings, m)
        store = Store(supervisor.db, supervisor.media)
        try:
            engine = FaceEngine.from_settings(settings)
            who = people(store)
            enrol_performer(store, engine, who)
            for n in args.camera_counts:
                snapshot_id = watchlist_snapshot(store, engine, who)
                mandate = live_deployment(store, who, snapshot_id, args.clip, f"m{m}n{n}", n)
                supervisor.start_recognition(mandate)  # returns once every worker loaded its models
                try:
                    per_camera, cpu_busy, worker_cores, per_actor, load_before, load_after = measure(
                        supervisor, mandate.deployment_id, args, fps, cluster.worker_sessions
                    )
                finally:
                    supervisor.stop_recognition(mandate.deployment_id)
                    with store.db.session() as session:
                        end_deployment(
                            session, mandate.deployment_id, by=who.supervisor, reason="benchmark over", now=utcnow()
                        )
                kept = sum(c.kept_up for c in per_camera)
                stored = stored_alerts(store, mandate.deployment_id)
                result = RunResult(
                    m, n, args.slots, args.window, cpu_busy, worker_cores, per_actor,
                    tuple(round(x, 2) for x in load_before), tuple(round(x, 2) for x in load_after),  # type: ignore[arg-type]
                    kept, kept == n, stored, per_camera,
                )  # fmt: skip
                print(f"M={m} N={n}: {kept}/{n} cameras kept up", file=sys.stderr)
                results.append(result)
        finally:
            supervisor.stop_all()
            supervisor.db.close()
    return results


def stored_alerts(store: Store, deployment_id: str) -> int:
    with store.db.session() as session:
        query = select(func.count()).where(AlertRecord.deployment_id == deployment_id)
        return int(session.scalar(query) or 0)


def clip_fps(clip: Path) -> float:
    capture = cv2.VideoCapture(str(clip))
    try:
        fps = float(capture.get(cv2.CAP_PROP_FPS))
    finally:
        capture.release()
    if fps <= 0:
        raise RuntimeError(f"{clip}: no frame rate")
    return fps


def table(report: dict[str, Any]) -> str:
    head = f"{'M':>2} {'N':>2} {'camera':>8} {'offered':>8} {'expect':>7} {'proc':>6} {'drop%':>6} "
    head += f"{'p50ms':>7} {'p95ms':>7} {'alerts':>6} {'ok':>3} | "
    head += f"{'cpu%':>5} {'wcores':>6} {'load1':>6} {'stored':>6} handled"
    lines = [head]
    for run in report["runs"]:
        for c in run["per_camera"]:
            lines.append(
                f"{run['nodes']:>2} {run['cameras']:>2} {c['camera']:>8} {c['offered']:>8} {c['expected']:>7} "
                f"{c['processed']:>6} {100 * c['dropped_fraction']:>6.1f} {c['latency_p50_ms'] or 0:>7.0f} "
                f"{c['latency_p95_ms'] or 0:>7.0f} {c['alerts']:>6} {'yes' if c['kept_up'] else 'no':>3} | "
                f"{100 * run['cpu_busy']:>5.0f} {run['worker_cores']:>6.2f} {run['load_after'][0]:>6.2f} "
                f"{run['alerts_stored']:>6} "
                f"{'yes' if run['handled'] else 'no'}"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    fps = clip_fps(args.clip)
    folder = Path(tempfile.mkdtemp(prefix="lfrcap", dir="/tmp"))
    try:
        runs = [r for m in args.node_counts for r in run_nodes(m, args, fps, folder)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report = {
        "benchmark": "cluster_capacity",
        "date": utcnow().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "note": "shared with other users: read the figures against the load"},
        "clip": args.clip.name,
        "clip_fps": round(fps, 2),
        "criterion": f"kept up: dropped <= {args.max_dropped:.0%} of offered and offered >= {MIN_OFFERED:.0%} "
        "of clip fps x window",
        "runs": [asdict(r) for r in runs],
    }
    print(json.dumps(report, indent=2) if args.json else table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
