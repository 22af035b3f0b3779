"""The control plane in cluster mode, against the deterministic in-process pool (``openlfr.cluster.fake``): alerts
are stored once and pushed once however often the inbox hands them out; an erasure and a deployment's end reach
the pool before they return; the workers get no database credential; stopping the service detaches instead of
ending the deployments, and the next start reattaches. The same behaviour on a real Ray cluster:
tests/cluster/test_ray_cluster.py."""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from openlfr.alerts.sinks import AlertBus
from openlfr.cluster.fake import FakeWorkerPool
from openlfr.cluster.pool import WorkerPool
from openlfr.cluster.supervisor import ClusterSupervisor
from openlfr.cluster.types import DeploymentPlan
from openlfr.config.models import Settings
from openlfr.deployments.scheduler import DeploymentScheduler
from openlfr.engine import FaceEngine
from openlfr.service.controller import Detachable, GalleryRefresher, RecognitionController
from openlfr.sources.mandate import RecognitionMandate
from openlfr.store.alert_models import AlertRecord
from openlfr.store.context import Store, open_store
from openlfr.store.db import open_database
from openlfr.store.media import MediaStore
from openlfr.watchlists.erase import erase_subject
from tests.api.conftest import FAKE_ENGINE
from tests.deployments.helpers import alert_event
from tests.helpers.accounts import person
from tests.helpers.cameras import register_camera
from tests.helpers.console import enrol_subject, frame_folder, live_deployment, snapshot

SECRET = "s3cret-db-password"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", engine=FAKE_ENGINE)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with open_store(settings) as store:
        yield store


@dataclasses.dataclass
class Live:
    pool: FakeWorkerPool
    supervisor: ClusterSupervisor
    mandate: RecognitionMandate
    alice: str
    bob: str
    image: str
    heard: object


@pytest.fixture
def live(settings: Settings, store: Store, tmp_path: Path) -> Iterator[Live]:
    engine = FaceEngine.from_settings(settings)
    alice, image = enrol_subject(store, engine, 1, "alice")
    bob, _ = enrol_subject(store, engine, 2, "bob")
    snapshot_id = snapshot(store, engine)
    with store.db.session() as session:
        cameras = [
            register_camera(session, f"gate-{i}", str(frame_folder(tmp_path / f"g{i}", i, 2))).id for i in (1, 2)
        ]
    pool = FakeWorkerPool()
    bus = AlertBus()
    heard = bus.subscribe()
    supervisor = ClusterSupervisor(settings, store.db, store.media, bus, pool, take_in_background=False)
    mandate = live_deployment(store, snapshot_id, cameras)
    supervisor.start_recognition(mandate)
    try:
        yield Live(pool, supervisor, mandate, alice, bob, image, heard)
    finally:
        supervisor.stop_all()


def event(live: Live, alert_id: str, subject_id: str) -> object:
    return dataclasses.replace(
        alert_event(alert_id, 0.0), subject_id=subject_id, reference_image=live.image, source="gate-1"
    )


def stored_ids(store: Store) -> list[str]:
    with store.db.session() as session:
        return list(session.scalars(select(AlertRecord.id).order_by(AlertRecord.seq)))


def camera(live: Live) -> str:
    return live.mandate.cameras[0].camera_id


def test_the_cluster_supervisor_is_a_controller_the_scheduler_can_drive(live: Live) -> None:
    assert isinstance(live.pool, WorkerPool)
    assert isinstance(live.supervisor, RecognitionController)
    assert isinstance(live.supervisor, GalleryRefresher) and isinstance(live.supervisor, Detachable)
    assert live.supervisor.active_deployments() == {live.mandate.deployment_id}
    nodes = {c.node_id for c in live.pool.status().cameras}
    assert nodes == {"node-a", "node-b"}  # the fake spreads the two cameras


def test_an_alert_handed_out_twice_is_stored_once_and_pushed_once(live: Live, store: Store) -> None:
    deployment = live.mandate.deployment_id
    first = event(live, "a" * 32, live.alice)
    assert live.pool.emit(deployment, camera(live), first)  # type: ignore[arg-type]
    assert live.supervisor.persist_pending() == 1
    assert stored_ids(store) == ["a" * 32] and not live.pool.inbox
    # The control plane crashed after storing it and before its ack: the inbox hands it out again.
    assert live.pool.emit(deployment, camera(live), first)  # type: ignore[arg-type]
    assert live.supervisor.persist_pending() == 1  # acked again, not stored again
    assert stored_ids(store) == ["a" * 32] and not live.pool.inbox
    assert live.heard.get(timeout=5)["alert_id"] == "a" * 32  # type: ignore[attr-defined]
    assert live.heard.empty()  # type: ignore[attr-defined]
    with store.db.session() as session:
        row = session.get(AlertRecord, "a" * 32)
        assert row is not None and row.deployment_id == deployment


def test_an_erasure_reaches_every_worker_before_it_returns(live: Live, store: Store) -> None:
    deployment = live.mandate.deployment_id
    waiting = event(live, "b" * 32, live.alice)
    assert live.pool.emit(deployment, camera(live), waiting)  # type: ignore[arg-type]
    with store.db.session() as session:
        dpo = person(session, "dpo", "supervisor")
    erase_subject(store, live.alice, by=dpo, reason="erasure request 3")
    assert ("forget", live.alice) in live.pool.calls
    assert all(live.alice in w.forgotten for w in live.pool.workers.values())
    assert live.pool.inbox == {}  # the alert waiting in the inbox was dropped
    assert not live.pool.emit(deployment, camera(live), event(live, "c" * 32, live.alice))  # type: ignore[arg-type]
    assert live.supervisor.persist_pending() == 0
    assert stored_ids(store) == []


def test_an_erasure_made_by_another_process_reaches_every_worker_at_the_next_tick(
    live: Live, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lfr subject erase` in another process while `lfr serve` runs: this process hears nothing of it, but the
    scheduler's next tick (every few seconds) finds the snapshot's erasure count changed and tells the pool."""
    deployment = live.mandate.deployment_id
    assert live.pool.emit(deployment, camera(live), event(live, "g" * 32, live.alice))  # type: ignore[arg-type]
    with store.db.session() as session:
        dpo = person(session, "dpo", "supervisor")
    with monkeypatch.context() as elsewhere:  # this process's listeners hear nothing of it
        elsewhere.setattr("openlfr.watchlists.erase._listeners", [])
        erase_subject(store, live.alice, by=dpo, reason="erased from another process")
    assert ("forget", live.alice) not in live.pool.calls
    DeploymentScheduler(store.db, live.supervisor).tick()  # what `lfr serve`'s scheduler does every interval
    assert ("forget", live.alice) in live.pool.calls
    assert ("forget", live.bob) not in live.pool.calls
    assert all(live.alice in w.forgotten and live.bob not in w.forgotten for w in live.pool.workers.values())
    assert live.pool.inbox == {}  # the alert waiting in the inbox was dropped
    assert not live.pool.emit(deployment, camera(live), event(live, "h" * 32, live.alice))  # type: ignore[arg-type]
    assert live.pool.emit(deployment, camera(live), event(live, "i" * 32, live.bob))  # type: ignore[arg-type]
    assert live.supervisor.persist_pending() == 1
    assert stored_ids(store) == ["i" * 32]
    assert live.heard.get(timeout=5)["alert_id"] == "i" * 32  # type: ignore[attr-defined]
    assert live.heard.empty()  # type: ignore[attr-defined]
    # The next tick, with no further erasure, tells the pool nothing more.
    calls = len(live.pool.calls)
    DeploymentScheduler(store.db, live.supervisor).tick()
    assert [c for c in live.pool.calls[calls:] if c[0] == "forget"] == []


def test_the_end_of_a_deployment_stops_the_workers_and_keeps_what_they_handed_over(live: Live, store: Store) -> None:
    deployment = live.mandate.deployment_id
    assert live.pool.emit(deployment, camera(live), event(live, "d" * 32, live.bob))  # type: ignore[arg-type]
    live.supervisor.stop_recognition(deployment)
    assert ("stop", deployment) in live.pool.calls and live.pool.workers == {}
    assert stored_ids(store) == ["d" * 32]
    assert live.supervisor.active_deployments() == frozenset()


def test_workers_receive_no_database_credential_nor_media_key(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "var",
        engine=FAKE_ENGINE,
        database_url=f"sqlite+pysqlite:///{tmp_path}/{SECRET}.db",  # the URL is what must not travel
        media_key="x" * 43 + "=",
    )
    db = open_database(settings)
    try:
        store = Store(db, MediaStore(settings.data_dir / "media"))
        engine = FaceEngine.from_settings(settings)
        enrol_subject(store, engine, 1, "alice")
        snapshot_id = snapshot(store, engine)
        with db.session() as session:
            camera_id = register_camera(session, "gate", str(frame_folder(tmp_path / "g", 1, 2))).id
        placed: list[DeploymentPlan] = []

        class Recording(FakeWorkerPool):
            def place(self, plan: DeploymentPlan) -> None:
                placed.append(plan)
                super().place(plan)

        supervisor = ClusterSupervisor(settings, db, store.media, AlertBus(), Recording(), take_in_background=False)
        try:
            supervisor.start_recognition(live_deployment(store, snapshot_id, [camera_id]))
        finally:
            supervisor.stop_all()
    finally:
        db.close()
    (plan,) = placed
    shipped = pickle.dumps(plan)
    assert SECRET.encode() not in shipped and b"x" * 43 not in shipped
    assert {f.name for f in dataclasses.fields(plan.config)} == {"engine", "sources", "pipeline", "realtime_files"}


def test_stopping_the_service_detaches_and_the_next_start_reattaches(
    live: Live, settings: Settings, store: Store
) -> None:
    deployment = live.mandate.deployment_id
    workers = dict(live.pool.workers)
    scheduler = DeploymentScheduler(store.db, live.supervisor)
    scheduler.stop()  # `lfr serve` stopping
    assert ("stop", deployment) not in live.pool.calls and live.pool.workers == workers
    assert deployment in live.pool.placed()
    restarted = ClusterSupervisor(settings, store.db, store.media, AlertBus(), live.pool, take_in_background=False)
    try:
        assert DeploymentScheduler(store.db, restarted).tick().started == (deployment,)
        assert live.pool.workers == workers  # the same workers: reattached, not restarted
        assert all(live.pool.workers[k] is w for k, w in workers.items())
        live.pool.emit(deployment, camera(live), event(live, "e" * 32, live.bob))  # type: ignore[arg-type]
        assert restarted.persist_pending() == 1
        assert stored_ids(store) == ["e" * 32]
    finally:
        restarted.stop_all()


def test_an_unreachable_worker_fails_the_erasure_listener_loudly_but_the_store_still_refuses(
    live: Live, store: Store
) -> None:
    live.pool.unreachable = True
    with store.db.session() as session:
        dpo = person(session, "dpo", "supervisor")
    erase_subject(store, live.alice, by=dpo, reason="erasure request 4")  # the listener's failure is logged
    live.pool.unreachable = False
    # A worker that missed the erasure hands over an alert about the subject: the database refuses it.
    live.pool.forgotten.clear()
    for worker in live.pool.workers.values():
        worker.forgotten.clear()
    assert live.pool.emit(live.mandate.deployment_id, camera(live), event(live, "f" * 32, live.alice))  # type: ignore[arg-type]
    live.supervisor.persist_pending()
    with store.db.session() as session:
        assert session.scalar(select(func.count()).select_from(AlertRecord)) == 0


def test_only_the_ray_modules_import_ray() -> None:
    """Ray reads its authentication settings when first imported, and the single-machine mode never needs it:
    only the two modules that ``open_pool`` imports (after setting them) may import it."""
    import ast

    package = Path(__file__).resolve().parents[2] / "src" / "openlfr"
    importers = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n == "ray" or n.startswith("ray.") for n in names):
                importers.add(str(path.relative_to(package)))
    assert importers == {"cluster/ray_pool.py", "cluster/actors.py"}


def test_the_service_and_the_cluster_seams_import_without_ray(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['ray'] = None\n"  # as if the cluster extra were not installed
        "import openlfr.cli, openlfr.api.factory, openlfr.cluster.supervisor, openlfr.cluster.fake, "
        "openlfr.cluster.node\n"
        "from openlfr.api.factory import ServiceRuntime\n"
        "from openlfr.config.models import Settings\n"
        f"ServiceRuntime(Settings(data_dir={str(tmp_path)!r}))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_metrics_carry_the_nodes_and_the_cameras_on_each(live: Live) -> None:
    families = {f.name: f for f in live.supervisor.collect()}
    assert families["openlfr_cluster_nodes_alive"].samples[0].value == 2
    per_node = {s.labels["node"]: s.value for s in families["openlfr_cluster_cameras"].samples}
    assert per_node == {"node-a": 1, "node-b": 1}
    restarts = families["openlfr_cluster_camera_restarts"].samples
    assert {s.labels["camera"] for s in restarts} == {c.camera_id for c in live.mandate.cameras}
