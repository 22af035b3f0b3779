"""Cluster mode on a real multi-node Ray cluster (head + two worker nodes as separate process groups on
loopback) with a real PostgreSQL database: a deployment's cameras spread over the worker nodes and raise their
alerts, which the control plane stores once each; an erasure and a deployment's end reach every worker before
they return; a worker node that dies has its cameras restarted on the other one, and no alert is lost or stored
twice; a restarted control plane reattaches to the running workers.

Cameras are looping image folders in which one listed person walks past again and again (every pass a new
encounter, so a new alert), recognised by the deterministic fake engine: the tests measure the cluster's
behaviour, not the models'. Everything waits on observable state with generous timeouts, never on the clock.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from openlfr.alerts.sinks import AlertBus
from openlfr.cluster.pool import WorkerPool
from openlfr.cluster.supervisor import ClusterSupervisor, open_pool
from openlfr.config.models import Settings
from openlfr.deployments.scheduler import DeploymentScheduler
from openlfr.engine import FaceEngine
from openlfr.store.alert_models import AlertRecord
from openlfr.store.context import Store, open_store
from openlfr.utc import utcnow
from openlfr.watchlists.erase import erase_subject
from tests.api.conftest import FAKE_ENGINE
from tests.cluster.raycluster import RAY_MISSING, RayCluster, free_port
from tests.helpers.accounts import person
from tests.helpers.cameras import register_camera
from tests.helpers.console import enrol_subject, live_deployment, snapshot
from tests.helpers.subjects import alerts_since
from tests.helpers.waiting import wait_until
from tests.service.test_erasure_live import passing_by

# Ray is imported only once the cluster's token settings are in the environment (open_pool): never here.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(RAY_MISSING is not None, reason=RAY_MISSING or ""),
]

WAIT_S = 300.0


@pytest.fixture(scope="module")
def cluster() -> Iterator[RayCluster]:
    home = Path(tempfile.mkdtemp(prefix="lfrhome"))
    running = RayCluster(free_port(), home)
    try:
        running.start_head()
        running.add_worker(cameras=3)
        running.add_worker(cameras=3)
        yield running
    finally:
        running.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def settings(tmp_path: Path, postgres_database_url: str, cluster: RayCluster) -> Settings:
    assert cluster.head is not None
    token = cluster.head.data_dir / "cluster" / "auth_token"
    return Settings(
        data_dir=tmp_path / "var",
        database_url=postgres_database_url,
        engine=FAKE_ENGINE,
        cluster=cluster.config(auth_token_file=token),
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with open_store(settings) as store:
        yield store


def connect(settings: Settings) -> WorkerPool:
    """The control plane's connection (``open_pool``, as ``lfr serve`` makes it), once the head answers and both
    worker nodes joined."""
    pools: list[WorkerPool] = []

    def attempt() -> bool:
        try:
            pools.append(open_pool(settings))
        except Exception:  # the head is still starting
            import ray

            ray.shutdown()
            return False
        return True

    assert wait_until(attempt, WAIT_S, interval_s=1.0)
    assert wait_until(lambda: sum(n.alive for n in pools[0].status().nodes) >= 3, WAIT_S, interval_s=0.5)
    return pools[0]


@pytest.fixture
def supervisor(settings: Settings, store: Store) -> Iterator[ClusterSupervisor]:
    pool = connect(settings)
    running = ClusterSupervisor(settings, store.db, store.media, AlertBus(), pool, realtime_files=True)
    try:
        yield running
    finally:
        for deployment_id in sorted(running.active_deployments()):
            running.stop_recognition(deployment_id)
        running.stop_all()


def assert_the_others_alert_and_the_erased_never(store: Store, others: list[str], erased: str, since: datetime) -> None:
    """The others go on being recognised (two more alerts each), the erased person never again after ``since``."""
    after = {s: len(stored(store, s)) for s in others}
    assert wait_until(lambda: all(len(stored(store, s)) >= after[s] + 2 for s in others), WAIT_S)
    assert alerts_since(store, erased, since) == []


def stored(store: Store, subject_id: str | None = None) -> list[tuple[str, str, str]]:
    """(alert id, subject, camera) of every stored alert, oldest first."""
    query = select(AlertRecord.id, AlertRecord.subject_id, AlertRecord.source).order_by(AlertRecord.seq)
    if subject_id is not None:
        query = query.where(AlertRecord.subject_id == subject_id)
    with store.db.session() as session:
        return [(r.id, r.subject_id, r.source) for r in session.execute(query)]


def deployment_of_three(store: Store, tmp_path: Path) -> tuple[list[str], list[str], str]:
    """Three listed people, each passing one of three cameras; returns (subject ids, camera names, deployment)."""
    engine = FaceEngine.from_settings(Settings(data_dir=tmp_path / "engine", engine=FAKE_ENGINE))
    subjects = [enrol_subject(store, engine, seed, f"person-{seed}")[0] for seed in (1, 2, 3)]
    snapshot_id = snapshot(store, engine)
    names = [f"gate-{seed}" for seed in (1, 2, 3)]
    with store.db.session() as session:
        camera_ids = [
            register_camera(session, name, str(passing_by(tmp_path / name, seed)), loop=True).id
            for seed, name in zip((1, 2, 3), names, strict=True)
        ]
    return subjects, names, live_deployment(store, snapshot_id, camera_ids)  # type: ignore[return-value]


def test_cameras_spread_over_the_nodes_and_every_camera_alerts(
    supervisor: ClusterSupervisor, store: Store, tmp_path: Path, cluster: RayCluster
) -> None:
    subjects, names, mandate = deployment_of_three(store, tmp_path)
    supervisor.start_recognition(mandate)  # type: ignore[arg-type]
    expected = set(zip(subjects, names, strict=True))
    # Each camera's person is recognised on that camera, stored with the deployment, at least twice.
    assert wait_until(
        lambda: all(sum(1 for _, s, c in stored(store) if (s, c) == pair) >= 2 for pair in expected), WAIT_S
    )
    assert {(s, c) for _, s, c in stored(store)} == expected  # nobody alerted on another's camera
    status = supervisor.cluster_status()
    nodes = {c.node_id for c in status.cameras}
    assert len(status.cameras) == 3 and None not in nodes and len(nodes) == 2, status.cameras
    head_id = next(n.node_id for n in status.nodes if n.cameras_capacity == 0)
    assert head_id not in nodes  # the head (control plane) runs no camera
    with store.db.session() as session:
        rows = session.scalars(select(AlertRecord)).all()
        assert {r.deployment_id for r in rows} == {mandate.deployment_id}  # type: ignore[attr-defined]
    assert list(cluster.home.iterdir()) == []  # Ray wrote nothing to the home folder


def test_an_erasure_reaches_every_worker_before_it_returns(
    supervisor: ClusterSupervisor, store: Store, tmp_path: Path
) -> None:
    subjects, _names, mandate = deployment_of_three(store, tmp_path)
    supervisor.start_recognition(mandate)  # type: ignore[arg-type]
    erased, *others = subjects
    assert wait_until(lambda: len(stored(store, erased)) >= 1, WAIT_S)
    with store.db.session() as session:
        dpo = person(session, "dpo", "supervisor")
    erase_subject(store, erased, by=dpo, reason="erasure request 9")
    returned_at = utcnow()
    assert_the_others_alert_and_the_erased_never(store, others, erased, returned_at)


def test_an_erasure_made_by_another_process_reaches_every_worker_at_the_next_tick(
    supervisor: ClusterSupervisor, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lfr subject erase` in another process while `lfr serve` runs: the service hears nothing of it, and the
    scheduler's next tick (every few seconds) takes the subject out of the head's lease and every worker."""
    import ray

    from openlfr.cluster import actors

    subjects, _names, mandate = deployment_of_three(store, tmp_path)
    supervisor.start_recognition(mandate)  # type: ignore[arg-type]
    erased, *others = subjects
    deployment = mandate.deployment_id  # type: ignore[attr-defined]
    assert wait_until(lambda: len(stored(store, erased)) >= 1, WAIT_S)
    with store.db.session() as session:
        dpo = person(session, "dpo", "supervisor")
    with monkeypatch.context() as elsewhere:  # this process's listeners hear nothing of it
        elsewhere.setattr("openlfr.watchlists.erase._listeners", [])
        erase_subject(store, erased, by=dpo, reason="erased from another process")
    DeploymentScheduler(store.db, supervisor).tick()  # what `lfr serve`'s scheduler does every interval
    caught_up_at = utcnow()
    pool = supervisor.pool
    handles = [ray.get_actor(actors.camera_actor_name(deployment, g.camera_id)) for g in mandate.cameras]  # type: ignore[attr-defined]
    for handle in handles:  # every worker searches for the others only
        assert ray.get(handle.searched_subjects.remote(), timeout=WAIT_S) == frozenset(others)
    lease = actors.fetch_snapshot(pool.control, deployment, mandate.revision)  # type: ignore[attr-defined]
    assert lease is not None and set(lease.subject_ids) == set(others)  # what a restarted worker would get
    assert_the_others_alert_and_the_erased_never(store, others, erased, caught_up_at)


def test_the_end_of_a_deployment_stops_every_worker_before_it_returns(
    supervisor: ClusterSupervisor, store: Store, tmp_path: Path
) -> None:
    _subjects, _, mandate = deployment_of_three(store, tmp_path)
    supervisor.start_recognition(mandate)  # type: ignore[arg-type]
    assert wait_until(lambda: len(stored(store)) >= 3, WAIT_S)
    supervisor.stop_recognition(mandate.deployment_id)  # type: ignore[attr-defined]
    import ray

    names = [e["name"] for e in ray.util.list_named_actors(all_namespaces=True)]
    assert [n for n in names if n.startswith(f"camera/{mandate.deployment_id}/")] == []  # type: ignore[attr-defined]
    assert supervisor.pool.placed() == frozenset()
    assert supervisor.pool.take_alerts(0.0) == ()  # everything handed over before the end was stored
    count = len(stored(store))
    counts = supervisor.deployment_counts(mandate.deployment_id)  # type: ignore[attr-defined]
    assert counts is not None and counts.frames > 0
    assert len(stored(store)) == count


def test_a_dead_worker_node_moves_its_cameras_and_loses_no_alert(
    supervisor: ClusterSupervisor, store: Store, tmp_path: Path, cluster: RayCluster
) -> None:
    subjects, _names, mandate = deployment_of_three(store, tmp_path)
    supervisor.start_recognition(mandate)  # type: ignore[arg-type]
    assert wait_until(lambda: len({s for _, s, _ in stored(store)}) == 3, WAIT_S)
    before = supervisor.cluster_status()
    victim_id = before.cameras[0].node_id
    moved = {c.camera_id for c in before.cameras if c.node_id == victim_id}
    victim = next(w for w in cluster.workers if _node_id(w.data_dir) == victim_id)
    acked_before = {a for a, _, _ in stored(store)}
    victim.kill()
    try:

        def moved_and_running() -> bool:
            cameras = supervisor.cluster_status().cameras
            return all(
                c.state == "running" and c.node_id not in (None, victim_id) and c.restarts >= 1
                for c in cameras
                if c.camera_id in moved
            )

        assert wait_until(moved_and_running, WAIT_S, interval_s=0.5)
        counts_at_move = {s: len(stored(store, s)) for s in subjects}
        # Every camera, moved or not, goes on alerting.
        assert wait_until(lambda: all(len(stored(store, s)) >= counts_at_move[s] + 2 for s in subjects), WAIT_S)
    finally:
        cluster.workers.remove(victim)
        cluster.add_worker(cameras=3)  # the next test gets two worker nodes again
    supervisor.stop_recognition(mandate.deployment_id)  # type: ignore[attr-defined]
    ids = [a for a, _, _ in stored(store)]
    assert len(ids) == len(set(ids))
    assert acked_before <= set(ids)  # nothing stored before the death went missing
    # Every alert the workers handed over, before and after the death, is stored, once.
    import ray

    accepted = ray.get(supervisor.pool.control.accepted.remote(mandate.deployment_id))  # type: ignore[attr-defined]
    assert accepted == len(ids)


def _node_id(data_dir: Path) -> str | None:
    """The Ray node id of the node whose temp folder is under ``data_dir``."""
    import ray

    for node in ray.nodes():
        if str(node.get("ObjectStoreSocketName", "")).startswith(str(data_dir)):
            return str(node["NodeID"])
    return None


def test_a_restarted_control_plane_reattaches_to_the_running_workers(
    supervisor: ClusterSupervisor, settings: Settings, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subjects, _, mandate = deployment_of_three(store, tmp_path)
    supervisor.start_recognition(mandate)  # type: ignore[arg-type]
    assert wait_until(lambda: len({s for _, s, _ in stored(store)}) == 3, WAIT_S)
    before = {c.camera_id: c for c in supervisor.cluster_status().cameras}
    # `lfr serve` stops (the scheduler detaches a cluster supervisor) and starts again; meanwhile another
    # process erases a subject.
    supervisor.detach()
    supervisor.stop_all()
    erased, *others = subjects
    with store.db.session() as session:
        dpo = person(session, "dpo", "supervisor")
    with monkeypatch.context() as elsewhere:  # no listener in this process hears of it
        elsewhere.setattr("openlfr.watchlists.erase._listeners", [])
        erase_subject(store, erased, by=dpo, reason="erased while the control plane was down")
    count = len(stored(store))
    restarted = ClusterSupervisor(settings, store.db, store.media, AlertBus(), connect(settings), realtime_files=True)
    try:
        restarted.start_recognition(mandate)  # type: ignore[arg-type]
        import ray

        from openlfr.cluster import actors

        for grant in mandate.cameras:  # type: ignore[attr-defined]
            handle = ray.get_actor(actors.camera_actor_name(mandate.deployment_id, grant.camera_id))  # type: ignore[attr-defined]
            assert ray.get(handle.searched_subjects.remote(), timeout=WAIT_S) == frozenset(others)
        after = {c.camera_id: c for c in restarted.cluster_status().cameras}
        assert after.keys() == before.keys()
        for camera_id, camera in after.items():
            # The same workers, on the same nodes, not restarted: their counters went on from where they were.
            assert camera.node_id == before[camera_id].node_id and camera.restarts == 0
            assert camera.status is not None and before[camera_id].status is not None
            assert camera.status.frames >= before[camera_id].status.frames  # type: ignore[union-attr]
        assert wait_until(lambda: all(len(stored(store, s)) >= 2 for s in others) and len(stored(store)) > count)
        ids = [a for a, _, _ in stored(store)]
        assert len(ids) == len(set(ids))
    finally:
        restarted.stop_recognition(mandate.deployment_id)  # type: ignore[attr-defined]
        restarted.stop_all()


def test_workers_end_themselves_at_the_deployments_end_and_refuse_to_run_without_a_lease(
    supervisor: ClusterSupervisor, store: Store, tmp_path: Path
) -> None:
    import ray

    from openlfr.cluster import actors

    engine = FaceEngine.from_settings(Settings(data_dir=tmp_path / "engine", engine=FAKE_ENGINE))
    enrol_subject(store, engine, 1, "alice")
    snapshot_id = snapshot(store, engine)
    with store.db.session() as session:
        camera_id = register_camera(session, "gate", str(passing_by(tmp_path / "gate", 1)), loop=True).id
    # A window that ends 30 s from now: long enough to place the camera, short enough to wait for.
    mandate = live_deployment(store, snapshot_id, [camera_id], hours=30 / 3600)
    supervisor.start_recognition(mandate)
    name = actors.camera_actor_name(mandate.deployment_id, camera_id)

    def named() -> bool:
        return any(e["name"] == name for e in ray.util.list_named_actors(all_namespaces=True))

    assert named()
    assert wait_until(lambda: not named(), WAIT_S, interval_s=0.5)  # ended by itself, never stopped from here
    # A worker started for that deployment now, after its end, refuses to run (nothing is restarted either).
    plan = supervisor_plan(supervisor, mandate)
    worker = ray.remote(actors.CameraWorker).options(resources={"openlfr_camera": 1}).remote(plan, camera_id)
    with pytest.raises(ray.exceptions.RayActorError, match="no live lease"):
        ray.get(worker.ready.remote(), timeout=WAIT_S)


def supervisor_plan(supervisor: ClusterSupervisor, mandate: object) -> object:
    from openlfr.cluster.types import DeploymentPlan, SnapshotPayload, WorkerConfig
    from openlfr.service.supervisor import load_snapshot

    with supervisor.db.session() as session:
        snap = load_snapshot(session, mandate.snapshot_id)  # type: ignore[attr-defined]
    config = WorkerConfig(supervisor.settings.engine, supervisor.settings.sources, supervisor.settings.pipeline)
    return DeploymentPlan(mandate, SnapshotPayload.of(snap).emptied(), config)  # type: ignore[arg-type]


PINNED = re.compile(r"NodeManagerService\.grpc_server\.PinObjectIDs - (\d+) total")


def objects_put_in_the_object_stores(cluster: RayCluster) -> int:
    """How many objects were ever put in the object stores of the cluster's nodes (in shared memory, or in files
    when it is full): every argument or return value too large to travel inside its call is put in the caller's
    or the callee's node store and pinned there by the node's raylet, which counts the requests (PinObjectIDs)
    in the state it dumps every second. Waits for a dump of every node written after this call began."""
    total = 0
    for node in cluster.nodes():
        dump = node.data_dir / "ray" / "session_latest" / "logs" / "debug_state.txt"
        written = dump.stat().st_mtime_ns if dump.exists() else 0
        texts: list[str] = []

        def fresh(dump: Path = dump, written: int = written, texts: list[str] = texts) -> bool:
            if not dump.exists() or dump.stat().st_mtime_ns <= written:
                return False
            text = dump.read_text()
            texts.append(text)
            return "Event stats:" in text and "ObjectManager:" in text  # a whole dump, not one being written

        assert wait_until(fresh, WAIT_S, interval_s=0.2)
        match = PINNED.search(texts[-1])
        total += int(match.group(1)) if match else 0
    return total


def test_templates_travel_inline_and_never_enter_the_object_store(
    supervisor: ClusterSupervisor, store: Store, tmp_path: Path, cluster: RayCluster
) -> None:
    """A watchlist many times Ray's inline limit (100 KiB): placing it and starting its worker puts nothing
    larger than one chunk in any node's object store (shared memory, or files when it is full), and the
    worker, built from the chunks, alerts on the listed person."""
    import numpy as np

    from openlfr.cluster.types import RAY_INLINE_LIMIT_BYTES, DeploymentPlan, SnapshotPayload, WorkerConfig
    from openlfr.service.supervisor import load_snapshot

    engine = FaceEngine.from_settings(Settings(data_dir=tmp_path / "engine", engine=FAKE_ENGINE))
    alice, _ = enrol_subject(store, engine, 1, "alice")
    snapshot_id = snapshot(store, engine)
    with store.db.session() as session:
        camera_id = register_camera(session, "gate", str(passing_by(tmp_path / "gate", 1)), loop=True).id
        listed = SnapshotPayload.of(load_snapshot(session, snapshot_id))
    mandate = live_deployment(store, snapshot_id, [camera_id])
    # Unit vectors nobody in the clip resembles, one per (unstored) subject: 16 x Ray's inline limit.
    count = 16 * RAY_INLINE_LIMIT_BYTES // listed.templates.nbytes
    filler = np.random.default_rng(7).standard_normal((count, listed.templates.shape[1])).astype(np.float32)
    filler /= np.linalg.norm(filler, axis=1, keepdims=True)
    large = SnapshotPayload(
        listed.name,
        np.vstack([listed.templates, filler]),
        listed.subject_ids + tuple(f"filler-{i}" for i in range(count)),
        listed.references + ("",) * count,
        listed.contract,
    )
    assert large.nbytes >= 16 * RAY_INLINE_LIMIT_BYTES
    config = WorkerConfig(supervisor.settings.engine, supervisor.settings.sources, supervisor.settings.pipeline)
    before = objects_put_in_the_object_stores(cluster)
    supervisor.pool.place(DeploymentPlan(mandate, large, config))
    try:
        assert wait_until(lambda: len(stored(store, alice)) >= 1, WAIT_S)  # the worker searches the whole list
        # Nothing went through an object store: every chunk travelled inside its call.
        assert objects_put_in_the_object_stores(cluster) == before
    finally:
        supervisor.pool.stop(mandate.deployment_id)


def test_lfr_cluster_status_lists_the_nodes_and_the_cameras_on_each(
    supervisor: ClusterSupervisor, settings: Settings, store: Store, tmp_path: Path
) -> None:
    import json
    import os
    import subprocess
    import sys

    import yaml

    _, _, mandate = deployment_of_three(store, tmp_path)
    supervisor.start_recognition(mandate)  # type: ignore[arg-type]
    config = tmp_path / "lfr.yaml"
    assert settings.cluster is not None
    config.write_text(
        yaml.safe_dump(
            {
                "data_dir": str(settings.data_dir),
                "cluster": {
                    "address": settings.cluster.address,
                    "auth_token_file": str(settings.cluster.auth_token_file),
                },
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}  # the command sets its own
    done = subprocess.run(
        [sys.executable, "-m", "openlfr", "--config", str(config), "cluster", "status", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=WAIT_S,
        check=True,
    )
    report = json.loads(done.stdout)
    workers = [n for n in report["nodes"] if n["camera_capacity"] > 0 and n["alive"]]
    assert len(workers) == 2 and sum(len(n["cameras"]) for n in workers) == 3
    assert all(0 < n["load"] <= 1 for n in workers)
    deployment = mandate.deployment_id  # type: ignore[attr-defined]
    assert {c["deployment"] for c in report["cameras"]} == {deployment}


@pytest.mark.model
def test_real_models_on_shared_video_alert_on_every_camera(
    settings: Settings, store: Store, tmp_path: Path, cluster: RayCluster
) -> None:
    """Two cameras playing the Hamilton clip (the listed performer on stage), on two nodes, with the real
    YuNet/SFace models loaded on each worker: both cameras raise alerts about him."""
    from openlfr.watchlists.enrol import Enroller, EnrolRequest
    from openlfr.watchlists.snapshots import create_snapshot
    from openlfr.watchlists.subjects import add_member, create_watchlist, get_subject
    from openlfr.watchlists.types import Category, Outcome, SubjectInfo
    from tests.helpers.data import shared_data

    real = settings.model_copy(update={"engine": Settings().engine})
    engine = FaceEngine.from_settings(real)
    video = shared_data() / "video"
    reference = video / "hamilton_refs" / "lin_manuel_miranda" / "lin-manuel-miranda.png"
    info = SubjectInfo(
        "LMM-1", Category.SUSPECTED_OFFENCE, "test", "other", "sue", date(2099, 1, 1), "LMM",
        image_source_note="public photograph",
    )  # fmt: skip
    with store.db.session() as session:
        sgt = person(session, "sgt", "supervisor")
    result = Enroller(store, engine, 0.9).enrol(
        EnrolRequest("LMM-1", reference.read_bytes(), "ref.png", info=info, by=sgt)
    )
    assert result.outcome is Outcome.ENROLLED
    with store.db.session() as session:
        add_member(session, create_watchlist(session, "stage", by=sgt), get_subject(session, "LMM-1"), by=sgt)
        snapshot_id = create_snapshot(session, "stage", engine.contract, date.today(), by=sgt).id
        cameras = [register_camera(session, f"stage-{i}", str(video / "hamilton_short.mp4")).id for i in (1, 2)]
    mandate = live_deployment(store, snapshot_id, cameras, threshold=0.47)
    pool = connect(real)
    # Files played as fast as they decode (nothing dropped): the same frames on any machine.
    running = ClusterSupervisor(real, store.db, store.media, AlertBus(), pool, realtime_files=False)
    try:
        running.start_recognition(mandate)
        nodes = {c.node_id for c in running.cluster_status().cameras}
        assert len(nodes) == 2
        assert wait_until(lambda: {c for _, _, c in stored(store)} == {"stage-1", "stage-2"}, WAIT_S)
        with store.db.session() as session:
            listed = get_subject(session, "LMM-1").id
        assert {s for _, s, _ in stored(store)} == {listed}
    finally:
        running.stop_recognition(mandate.deployment_id)
        running.stop_all()
