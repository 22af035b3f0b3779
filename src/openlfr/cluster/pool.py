"""The worker pool: where a live deployment's cameras run when they do not run in ``lfr serve`` itself.

The control plane (``openlfr.cluster.supervisor``) places a deployment, stops it, erases a subject and takes the
alerts the workers produced; each call that changes what runs returns only once every worker acknowledged it.
Implementations: ``openlfr.cluster.ray_pool.RayWorkerPool`` (Ray actors on worker machines) and
``openlfr.cluster.fake.FakeWorkerPool`` (in process, for unit tests).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from openlfr.cluster.types import CameraReport, ClusterStatus, DeploymentPlan, InboxAlert
from openlfr.errors import OpenLFRError


class ClusterError(OpenLFRError):
    """The pool could not do what was asked (a worker did not acknowledge in time, no node can take a camera)."""

    code = "cluster_unavailable"


@runtime_checkable
class WorkerPool(Protocol):
    def place(self, plan: DeploymentPlan) -> None:
        """Run the plan's deployment: one worker per camera, each with the snapshot in memory and a lease that
        ends at the mandate's end. Workers of the same deployment revision already running are kept (a control
        plane that restarted reattaches to them); others are replaced. Raises ClusterError when it cannot."""
        ...

    def stop(self, deployment_id: str) -> tuple[CameraReport, ...]:
        """Revoke the deployment's lease and stop every one of its workers; returns once they acknowledged (or
        were removed), with the final report of each that answered. A no-op for a deployment not placed."""
        ...

    def forget_subject(self, subject_id: str) -> None:
        """An erasure: the inbox refuses and drops every alert about ``subject_id``, and every worker forgets the
        subject; returns once all of them acknowledged. Raises ClusterError if one did not."""
        ...

    def take_alerts(self, timeout_s: float) -> tuple[InboxAlert, ...]:
        """Alerts waiting in the inbox (oldest first), waiting up to ``timeout_s`` for one. They stay there until
        ``ack``: taken twice, an alert is handed out twice (persist it with insert-if-absent)."""
        ...

    def ack(self, alert_ids: tuple[str, ...]) -> None:
        """The alerts are persisted: the inbox lets go of them."""
        ...

    def placed(self) -> frozenset[str]:
        """Deployments placed on the pool (with a lease), whoever placed them."""
        ...

    def status(self) -> ClusterStatus:
        """Nodes and cameras: where each camera runs, what it counted."""
        ...

    def close(self) -> None:
        """Disconnect; the workers keep running (they are detached: a restarted control plane reattaches)."""
        ...
