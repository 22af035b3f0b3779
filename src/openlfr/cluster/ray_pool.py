"""``WorkerPool`` on a Ray cluster. Import it only after ``openlfr.cluster.node.prepare_driver`` (Ray reads its
authentication settings when it is first imported): ``openlfr.cluster.supervisor.open_pool`` does both.

``WorkerPool`` on a Ray cluster (see ``openlfr.cluster.actors`` for the two kinds of actor).

The control plane connects as a Ray driver with token authentication (and TLS when configured), and places each
camera as a detached named actor that reserves one unit of the camera resource (and ``cpus_per_camera`` CPUs)
on a worker node, spread over the nodes, restarted without limit (``max_restarts=-1``) on another node when its
node dies. Detached and named, the actors outlive the control plane: placing a deployment whose actors already
run at the same revision reattaches to them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError, RayError

from openlfr.cluster import actors
from openlfr.cluster.node import prepare_driver
from openlfr.cluster.pool import ClusterError
from openlfr.cluster.types import CameraReport, ClusterStatus, DeploymentPlan, InboxAlert, NodeReport
from openlfr.config.cluster import ClusterConfig

log = logging.getLogger(__name__)

_REPORT_TIMEOUT_S = 5.0
_START_TIMEOUT_S = 300.0
"""a camera's worker loads its models before it answers: minutes on a busy machine"""


class RayWorkerPool:
    """Implements ``openlfr.cluster.pool.WorkerPool``."""

    def __init__(self, config: ClusterConfig, data_dir: Path) -> None:
        self.config = config
        prepare_driver(data_dir, config)  # raises if Ray was imported without them
        ray.init(
            address=config.address,
            namespace=config.namespace,
            log_to_driver=False,
            include_dashboard=False,
            configure_logging=False,
        )
        control = ray.remote(actors.ClusterControl).options(
            name=actors.CONTROL_NAME,
            lifetime="detached",
            get_if_exists=True,
            num_cpus=0,
            max_concurrency=32,
            # On the head node, beside the control plane: the inbox shares its fate, not a worker's.
            resources={"node:__internal_head__": 0.001},
        )
        self.control = control.remote()
        ray.get(self.control.leases.remote(), timeout=_START_TIMEOUT_S)

    # -- placing and stopping -------------------------------------------------------------------------------

    def place(self, plan: DeploymentPlan) -> None:
        mandate = plan.mandate
        deployment_id = mandate.deployment_id
        dropped = self._grant(plan)
        # Only the mandate and the configuration go into the actors' creation arguments (small: kept by Ray for
        # restarts); the templates stay in the control actor's memory and each worker fetches them.
        plan_without_templates = DeploymentPlan(mandate, plan.snapshot.emptied(), plan.config)
        waiting = []
        try:
            for grant in mandate.cameras:
                handle = self._existing(deployment_id, grant.camera_id, mandate.revision)
                if handle is None:
                    handle = self._create(plan_without_templates, grant.camera_id)
                waiting.append((grant.camera_id, handle))
            for camera_id, handle in waiting:
                try:
                    ray.get(handle.ready.remote(), timeout=_START_TIMEOUT_S)
                except RayError as exc:
                    raise ClusterError(f"camera {camera_id} could not start on the cluster: {_reason(exc)}") from exc
            # Erased while no control plane was attached: workers reattached to still search for them.
            for subject_id in dropped:
                for _camera_id, handle in waiting:
                    self._call(handle.forget_subject.remote(subject_id))
        except BaseException:
            self.stop(deployment_id)
            raise
        log.info("deployment %s placed on the cluster: %d camera(s)", deployment_id, len(waiting))

    def _grant(self, plan: DeploymentPlan) -> tuple[str, ...]:
        """Upload the snapshot to the control actor in chunks, each inline in its call (a templates argument
        larger than Ray's inline limit would go through the object store), then grant the lease."""
        mandate = plan.mandate
        chunks = plan.snapshot.to_chunks()
        for start in range(0, len(chunks), actors.CHUNK_WINDOW):
            self._call(
                [
                    self.control.stage.remote(mandate.deployment_id, mandate.revision, index, chunks[index])
                    for index in range(start, min(len(chunks), start + actors.CHUNK_WINDOW))
                ]
            )
        dropped: tuple[str, ...] = self._call(
            self.control.grant.remote(mandate.deployment_id, mandate.revision, mandate.not_after, len(chunks))
        )
        return dropped

    def _create(self, plan: DeploymentPlan, camera_id: str) -> ray.actor.ActorHandle:
        worker = ray.remote(actors.CameraWorker).options(
            name=actors.camera_actor_name(plan.deployment_id, camera_id),
            lifetime="detached",
            max_restarts=-1,
            max_concurrency=4,
            num_cpus=self.config.cpus_per_camera,
            resources={self.config.camera_resource: 1},
            scheduling_strategy="SPREAD",
        )
        return worker.remote(plan, camera_id)

    def _existing(self, deployment_id: str, camera_id: str, revision: int) -> ray.actor.ActorHandle | None:
        """The camera's running worker if it runs this revision (reattach); a stale one is removed."""
        name = actors.camera_actor_name(deployment_id, camera_id)
        try:
            handle = ray.get_actor(name)
        except ValueError:
            return None
        try:
            if ray.get(handle.ready.remote(), timeout=_START_TIMEOUT_S) == revision:
                return handle
        except RayError:
            pass
        ray.kill(handle, no_restart=True)
        return None

    def stop(self, deployment_id: str) -> tuple[CameraReport, ...]:
        self._call(self.control.revoke.remote(deployment_id))
        reports = []
        for name in self._camera_names(deployment_id):
            try:
                handle = ray.get_actor(name)
            except ValueError:
                continue
            try:
                reports.append(ray.get(handle.stop.remote(), timeout=self.config.ack_timeout_s))
            except RayError as exc:
                log.warning("worker %s did not stop cleanly (%s): removed", name, _reason(exc))
            ray.kill(handle, no_restart=True)
        return tuple(reports)

    def forget_subject(self, subject_id: str) -> None:
        self._call(self.control.forget.remote(subject_id))
        calls = []
        for name in self._camera_names(None):
            try:
                calls.append((name, ray.get_actor(name).forget_subject.remote(subject_id)))
            except ValueError:
                continue  # removed meanwhile
        for name, call in calls:
            try:
                ray.get(call, timeout=self.config.ack_timeout_s)
            except RayActorError:
                # Died meanwhile: restarted, it fetches the templates without the subject, and the inbox refuses
                # the subject's alerts whatever happens.
                log.warning("worker %s died during the erasure; its restart never sees the subject", name)
            except RayError as exc:
                raise ClusterError(f"worker {name} did not acknowledge the erasure: {_reason(exc)}") from exc

    # -- the inbox ------------------------------------------------------------------------------------------

    def take_alerts(self, timeout_s: float) -> tuple[InboxAlert, ...]:
        alerts: tuple[InboxAlert, ...] = self._call(
            self.control.take.remote(timeout_s), timeout_s + self.config.ack_timeout_s
        )
        return alerts

    def ack(self, alert_ids: tuple[str, ...]) -> None:
        if alert_ids:
            self._call(self.control.ack.remote(alert_ids))

    # -- what runs where ------------------------------------------------------------------------------------

    def placed(self) -> frozenset[str]:
        leases: dict[str, int] = self._call(self.control.leases.remote())
        return frozenset(leases)

    def status(self) -> ClusterStatus:
        cameras = self._cameras()
        return ClusterStatus(self._nodes(cameras), cameras)

    def _nodes(self, reports: tuple[CameraReport, ...]) -> tuple[NodeReport, ...]:
        out = []
        resource = self.config.camera_resource
        for node in ray.nodes():
            node_id = node["NodeID"]
            capacity = float(node["Resources"].get(resource, 0.0))
            used = sum(1 for c in reports if c.node_id == node_id)
            out.append(
                NodeReport(
                    node_id,
                    str(node["NodeManagerAddress"]),
                    bool(node["Alive"]),
                    capacity,
                    max(0.0, capacity - used),
                    float(node["Resources"].get("CPU", 0.0)),
                )
            )
        return tuple(out)

    def _cameras(self) -> tuple[CameraReport, ...]:
        names = self._camera_names(None)
        calls = []
        for name in names:
            try:
                calls.append((name, ray.get_actor(name).report.remote()))
            except ValueError:
                continue
        out = []
        for name, call in calls:
            try:
                out.append(ray.get(call, timeout=_REPORT_TIMEOUT_S))
            except RayError:
                deployment_id, _, camera_id = name.removeprefix(actors.CAMERA_PREFIX).partition("/")
                out.append(CameraReport(deployment_id, camera_id, None, "restarting", None))
        return tuple(out)

    def _camera_names(self, deployment_id: str | None) -> list[str]:
        prefix = actors.CAMERA_PREFIX + (f"{deployment_id}/" if deployment_id is not None else "")
        return sorted(
            entry["name"]
            for entry in ray.util.list_named_actors(all_namespaces=True)
            if entry["namespace"] == self.config.namespace and entry["name"].startswith(prefix)
        )

    def _call(self, ref: Any, timeout_s: float | None = None) -> Any:
        try:
            return ray.get(ref, timeout=timeout_s or self.config.ack_timeout_s)
        except (GetTimeoutError, RayError) as exc:
            raise ClusterError(f"the cluster did not answer: {_reason(exc)}") from exc

    def close(self) -> None:
        ray.shutdown()


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
