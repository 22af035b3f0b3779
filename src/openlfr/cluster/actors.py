"""The Ray actors of cluster mode (imported only when the ``cluster`` settings section is set).

``ClusterControl`` (one, detached, named, on the head node next to ``lfr serve``) holds what must outlive a
worker: the leases of live deployments, each with its snapshot's templates in memory (a worker restarted on
another node fetches them from here: they are never written to disk, and an erased subject is gone from them),
and the alert inbox. Templates cross in chunks of ``SNAPSHOT_CHUNK_BYTES``, each inline in one call (upload:
``stage`` then ``grant``; fetch: ``fetch_snapshot``), so none ever enters Ray's object store, whose overflow
goes to files. A worker hands each alert to the inbox and waits for it to be held there; the control plane
persists it with insert-if-absent (its id, made on the worker, is the idempotency key), tells the console, then
acks. So an alert is never lost to a worker that dies after handing it over, nor stored twice.

``CameraWorker`` (one per camera of a live deployment, detached, named ``camera/<deployment>/<camera>``,
restarted by Ray on another node when its node dies) runs the camera's pipeline (``openlfr.pipeline.app``). It
refuses to start without a valid lease and a valid mandate, stops when the lease is revoked (deployment ended,
or withdrawn) and ends itself at the mandate's end. It holds no database credential: alerts go to the inbox.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import ray

from openlfr.alerts.dispatch import AlertDispatcher
from openlfr.alerts.event import AlertEvent
from openlfr.alerts.store import SubjectGoneError
from openlfr.cluster.types import CameraReport, DeploymentPlan, InboxAlert, SnapshotPayload
from openlfr.config.models import Settings
from openlfr.engine import FaceEngine
from openlfr.pipeline.app import WatchPipeline, pipeline_settings
from openlfr.sources.factory import open_source
from openlfr.sources.mandate import RecognitionNotAuthorisedError
from openlfr.utc import as_utc, utcnow

log = logging.getLogger(__name__)

CONTROL_NAME = "openlfr-control"
CAMERA_PREFIX = "camera/"
LEASE_CHECK_S = 1.0
"""how often a worker checks that its deployment's lease still holds"""
_CALL_TIMEOUT_S = 30.0
CHUNK_WINDOW = 16
"""snapshot chunks in flight at once, uploading or fetching (the control actor serves up to 32 calls at once)"""


def camera_actor_name(deployment_id: str, camera_id: str) -> str:
    return f"{CAMERA_PREFIX}{deployment_id}/{camera_id}"


@dataclass(frozen=True, slots=True)
class Lease:
    revision: int
    not_after: datetime
    snapshot: SnapshotPayload
    chunks: tuple[bytes, ...]
    """``snapshot.to_chunks()``: what a worker fetches, one chunk per call"""
    version: int
    """changes whenever the templates do (an erasure): a worker fetching meanwhile starts again"""

    def valid(self, revision: int, now: datetime) -> bool:
        return revision == self.revision and as_utc(now) < self.not_after


class ClusterControl:
    """The head node's side of the link (see the module docstring). A threaded actor: a blocking ``take`` does
    not hold up a worker's ``submit``."""

    def __init__(self) -> None:
        self._leases: dict[str, Lease] = {}
        self._staged: dict[tuple[str, int], dict[int, bytes]] = {}
        """(deployment, revision) → the chunks of its snapshot uploaded so far, until ``grant``"""
        self._versions = 0
        self._inbox: OrderedDict[str, InboxAlert] = OrderedDict()
        self._forgotten: set[str] = set()
        self._accepted: dict[str, int] = {}
        """per deployment: alerts the inbox took in (each id once), for the count a run's figures are checked by"""
        self._changed = threading.Condition()

    # -- leases ---------------------------------------------------------------------------------------------

    def stage(self, deployment_id: str, revision: int, index: int, chunk: bytes) -> None:
        """One chunk of the snapshot the next ``grant`` of this deployment revision carries."""
        with self._changed:
            self._staged.setdefault((deployment_id, revision), {})[index] = chunk

    def grant(self, deployment_id: str, revision: int, not_after: datetime, chunks: int) -> tuple[str, ...]:
        """Grant the lease with the snapshot whose ``chunks`` chunks were staged (put together here, in this
        actor's memory). Returns the subjects the lease this replaces (same revision: a control plane that
        restarted and reattaches) held and the new snapshot does not: erased while no control plane was
        attached, they are forgotten here, and the running workers must forget them too."""
        with self._changed:
            staged = self._staged.pop((deployment_id, revision), {})
            if sorted(staged) != list(range(chunks)):
                raise ValueError(f"deployment {deployment_id}: {len(staged)} of {chunks} snapshot chunks arrived")
            snapshot = SnapshotPayload.from_chunks([staged[i] for i in range(chunks)])
            previous = self._leases.get(deployment_id)
            dropped: set[str] = set()
            if previous is not None and previous.revision == revision:
                dropped = set(previous.snapshot.subject_ids) - set(snapshot.subject_ids)
            for subject_id in dropped:
                self._forget(subject_id)
            gone = self._forgotten & set(snapshot.subject_ids)
            self._leases[deployment_id] = self._lease(revision, as_utc(not_after), _without(snapshot, gone))
            return tuple(sorted(dropped))

    def _lease(self, revision: int, not_after: datetime, snapshot: SnapshotPayload) -> Lease:
        self._versions += 1
        return Lease(revision, not_after, snapshot, snapshot.to_chunks(), self._versions)

    def revoke(self, deployment_id: str) -> None:
        with self._changed:
            self._leases.pop(deployment_id, None)
            for key in [k for k in self._staged if k[0] == deployment_id]:
                del self._staged[key]

    def lease_valid(self, deployment_id: str, revision: int) -> bool:
        with self._changed:
            lease = self._leases.get(deployment_id)
        return lease is not None and lease.valid(revision, utcnow())

    def snapshot_parts(self, deployment_id: str, revision: int) -> tuple[int, int] | None:
        """(version, number of chunks) of the deployment's templates (less every erased subject) while its
        lease holds; None otherwise."""
        with self._changed:
            lease = self._leases.get(deployment_id)
        if lease is None or not lease.valid(revision, utcnow()):
            return None
        return lease.version, len(lease.chunks)

    def snapshot_part(self, deployment_id: str, revision: int, version: int, index: int) -> bytes | None:
        """One chunk of the templates at ``version``; None once the lease no longer holds or they changed."""
        with self._changed:
            lease = self._leases.get(deployment_id)
        if lease is None or lease.version != version or not lease.valid(revision, utcnow()):
            return None
        return lease.chunks[index]

    def leases(self) -> dict[str, int]:
        """deployment id → revision of every lease granted and not revoked."""
        with self._changed:
            return {d: lease.revision for d, lease in self._leases.items()}

    # -- erasure --------------------------------------------------------------------------------------------

    def forget(self, subject_id: str) -> None:
        """Refuse every later alert about the subject, drop those waiting, and take it out of every lease's
        templates (a worker restarted from now on never searches for it)."""
        with self._changed:
            self._forget(subject_id)

    def _forget(self, subject_id: str) -> None:
        """``forget``, the lock held."""
        self._forgotten.add(subject_id)
        for alert_id in [i for i, a in self._inbox.items() if a.event.subject_id == subject_id]:
            del self._inbox[alert_id]
        for deployment_id, lease in list(self._leases.items()):
            remaining = _without(lease.snapshot, {subject_id})
            if remaining is not lease.snapshot:
                self._leases[deployment_id] = self._lease(lease.revision, lease.not_after, remaining)

    # -- the inbox ------------------------------------------------------------------------------------------

    def submit(self, alert: InboxAlert, revision: int) -> bool:
        """Hold ``alert`` until the control plane acks it (the same id twice is held once); False when it is
        refused: its subject was erased, or its deployment's lease does not hold."""
        with self._changed:
            lease = self._leases.get(alert.deployment_id)
            if alert.event.subject_id in self._forgotten or lease is None or not lease.valid(revision, utcnow()):
                return False
            if alert.event.alert_id not in self._inbox:
                self._inbox[alert.event.alert_id] = alert
                self._accepted[alert.deployment_id] = self._accepted.get(alert.deployment_id, 0) + 1
            self._changed.notify_all()
            return True

    def take(self, timeout_s: float, limit: int = 64) -> tuple[InboxAlert, ...]:
        with self._changed:
            self._changed.wait_for(lambda: bool(self._inbox), timeout=timeout_s)
            return tuple(list(self._inbox.values())[:limit])

    def ack(self, alert_ids: tuple[str, ...]) -> None:
        with self._changed:
            for alert_id in alert_ids:
                self._inbox.pop(alert_id, None)

    def accepted(self, deployment_id: str) -> int:
        """How many alerts the inbox took in for the deployment (an id handed over twice while it waited
        counts once)."""
        with self._changed:
            return self._accepted.get(deployment_id, 0)

    def pending(self) -> int:
        with self._changed:
            return len(self._inbox)


def _without(snapshot: SnapshotPayload, subject_ids: set[str]) -> SnapshotPayload:
    if not subject_ids & set(snapshot.subject_ids):
        return snapshot
    keep = [i for i, s in enumerate(snapshot.subject_ids) if s not in subject_ids]
    return SnapshotPayload(
        snapshot.name,
        snapshot.templates[keep],
        tuple(snapshot.subject_ids[i] for i in keep),
        tuple(snapshot.references[i] for i in keep),
        snapshot.contract,
    )


def fetch_snapshot(control: ray.actor.ActorHandle, deployment_id: str, revision: int) -> SnapshotPayload | None:
    """The deployment's templates from the head's control actor, chunk by chunk (each chunk comes back inline
    in its call's reply, into this process's memory: never through the object store), put together here; None
    while no lease holds. Starts again if an erasure changed the templates meanwhile."""
    while True:
        parts = ray.get(control.snapshot_parts.remote(deployment_id, revision), timeout=_CALL_TIMEOUT_S)
        if parts is None:
            return None
        version, count = parts
        chunks: list[bytes] = []
        for start in range(0, count, CHUNK_WINDOW):
            calls = [
                control.snapshot_part.remote(deployment_id, revision, version, index)
                for index in range(start, min(count, start + CHUNK_WINDOW))
            ]
            window: list[bytes | None] = ray.get(calls, timeout=_CALL_TIMEOUT_S)
            if any(chunk is None for chunk in window):
                break  # changed (or revoked) meanwhile: ask again
            chunks.extend(chunk for chunk in window if chunk is not None)
        else:
            return SnapshotPayload.from_chunks(chunks)


class InboxAlertStore:
    """The worker's ``AlertStore``: hands the alert to the control plane's inbox and returns once it is held
    there. Refused (erased subject, lease gone): ``SubjectGoneError``, so the dispatcher drops it."""

    def __init__(self, control: ray.actor.ActorHandle, deployment_id: str, camera_id: str, revision: int) -> None:
        self.control = control
        self.deployment_id = deployment_id
        self.camera_id = camera_id
        self.revision = revision

    def append(self, event: AlertEvent) -> dict[str, object]:
        alert = InboxAlert(self.deployment_id, self.camera_id, event)
        held = ray.get(self.control.submit.remote(alert, self.revision), timeout=_CALL_TIMEOUT_S)
        if not held:
            raise SubjectGoneError(f"alert {event.alert_id} refused by the control plane (erased, or not live)")
        return event.as_record()

    def close(self) -> None:
        return None


def _worker_settings(plan: DeploymentPlan) -> Settings:
    """Settings for the engine on this node: the control plane's engine section, this node's data folder (set by
    `lfr cluster start`) for converted models."""
    data_dir = Path(os.environ.get("LFR_DATA_DIR", "var"))
    return pipeline_settings(Settings(engine=plan.config.engine, data_dir=data_dir))


class CameraWorker:
    """One camera of one live deployment (see the module docstring)."""

    def __init__(self, plan: DeploymentPlan, camera_id: str) -> None:
        mandate = plan.mandate
        self.deployment_id = mandate.deployment_id
        self.camera_id = camera_id
        self.revision = mandate.revision
        self.control = ray.get_actor(CONTROL_NAME)
        payload = fetch_snapshot(self.control, self.deployment_id, self.revision)
        if payload is None or not mandate.valid_at(utcnow()):
            raise RecognitionNotAuthorisedError(
                f"deployment {self.deployment_id} holds no live lease: camera {camera_id} does not run"
            )
        grant = next(g for g in mandate.cameras if g.camera_id == camera_id)
        engine = FaceEngine.from_settings(_worker_settings(plan))
        source = open_source(
            grant.source,
            source_id=grant.name,
            realtime=plan.config.realtime_files,
            loop=grant.loop,
            config=plan.config.sources,
            mandate=mandate,
            now=utcnow(),
        )
        store = InboxAlertStore(self.control, self.deployment_id, camera_id, self.revision)
        config = plan.config.pipeline.model_copy(update={"threshold": mandate.threshold})
        self.pipeline = WatchPipeline(
            engine, payload.build(), [source], AlertDispatcher(store, []), config, mode="production", mandate=mandate
        )
        self.restarts = int(ray.get_runtime_context().was_current_actor_reconstructed)
        self.node_id = ray.get_runtime_context().get_node_id()
        self.error: str | None = None
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"camera-{camera_id}", daemon=True)
        self.thread.start()
        threading.Thread(target=self._watch_lease, name="lease", daemon=True).start()
        log.info("deployment %s: camera %s runs on node %s", self.deployment_id, camera_id, self.node_id)

    def _run(self) -> None:
        try:
            self.pipeline.run(self.stop_event)
        except Exception as exc:  # reported through report(); the control plane shows it
            log.exception("camera %s failed", self.camera_id)
            self.error = str(exc) or type(exc).__name__
        if self.pipeline.halted == "mandate_expired":
            # The deployment's window ended: the worker ends itself (no restart).
            ray.get_runtime_context().current_actor.exit.remote()

    def _watch_lease(self) -> None:
        while not self.stop_event.wait(LEASE_CHECK_S):
            try:
                valid = ray.get(
                    self.control.lease_valid.remote(self.deployment_id, self.revision), timeout=_CALL_TIMEOUT_S
                )
            except Exception:  # the head is unreachable: fail closed
                log.exception("lease check failed: camera %s stops", self.camera_id)
                valid = False
            if not valid:
                self.stop_event.set()

    # -- what the control plane calls -----------------------------------------------------------------------

    def ready(self) -> int:
        return self.revision

    def forget_subject(self, subject_id: str) -> bool:
        """Returns once no alert about the subject is being handed over, and none will be."""
        self.pipeline.forget_subject(subject_id)
        return True

    def searched_subjects(self) -> frozenset[str]:
        """The subjects this worker's pipeline searches for now."""
        return self.pipeline.searched_subjects()

    def stop(self) -> CameraReport:
        self.stop_event.set()
        self.thread.join(_CALL_TIMEOUT_S)
        return self.report()

    def report(self) -> CameraReport:
        running = self.thread.is_alive()
        state = "running" if running else ("failed" if self.error else "ended")
        return CameraReport(
            self.deployment_id,
            self.camera_id,
            self.node_id,
            state,
            self.pipeline.status(),
            restarts=self.restarts,
            halted=self.pipeline.halted,
            error=self.error,
        )

    def exit(self) -> None:
        self.stop_event.set()
        ray.actor.exit_actor()
