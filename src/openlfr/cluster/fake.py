"""A deterministic in-process ``WorkerPool`` for unit tests of the control plane: no engine, no threads. A
test plays the workers (``emit`` an alert as a camera would), and reads what the pool was asked to do."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from openlfr.alerts.event import AlertEvent
from openlfr.cluster.pool import ClusterError
from openlfr.cluster.types import CameraReport, ClusterStatus, DeploymentPlan, InboxAlert, NodeReport
from openlfr.sources.mandate import RecognitionNotAuthorisedError


@dataclass(slots=True)
class _Worker:
    plan: DeploymentPlan
    camera_id: str
    node_id: str
    forgotten: set[str] = field(default_factory=set)
    stopped: bool = False


class FakeWorkerPool:
    """Implements ``openlfr.cluster.pool.WorkerPool``. Cameras go round-robin over ``nodes``."""

    def __init__(self, nodes: tuple[str, ...] = ("node-a", "node-b")) -> None:
        self.nodes = nodes
        self.workers: dict[tuple[str, str], _Worker] = {}
        self.inbox: OrderedDict[str, InboxAlert] = OrderedDict()
        self.forgotten: set[str] = set()
        self.calls: list[tuple[str, str]] = []
        """(operation, deployment or subject id), in order"""
        self.unreachable = False
        """set by a test: every acknowledgement fails (a worker that does not answer)"""
        self._next = 0
        self._arrived = threading.Condition()

    def place(self, plan: DeploymentPlan) -> None:
        self._check_reachable()
        self.calls.append(("place", plan.deployment_id))
        for grant in plan.mandate.cameras:
            key = (plan.deployment_id, grant.camera_id)
            current = self.workers.get(key)
            if current is not None and current.plan.mandate.revision == plan.mandate.revision:
                continue  # reattached
            self.workers[key] = _Worker(plan, grant.camera_id, self.nodes[self._next % len(self.nodes)])
            self._next += 1

    def stop(self, deployment_id: str) -> tuple[CameraReport, ...]:
        self._check_reachable()
        self.calls.append(("stop", deployment_id))
        reports = []
        for key in [k for k in self.workers if k[0] == deployment_id]:
            worker = self.workers.pop(key)
            worker.stopped = True
            reports.append(CameraReport(deployment_id, worker.camera_id, worker.node_id, "ended", None))
        return tuple(reports)

    def forget_subject(self, subject_id: str) -> None:
        self._check_reachable()
        self.calls.append(("forget", subject_id))
        with self._arrived:
            self.forgotten.add(subject_id)
            for alert_id in [i for i, a in self.inbox.items() if a.event.subject_id == subject_id]:
                del self.inbox[alert_id]
        for worker in self.workers.values():
            worker.forgotten.add(subject_id)

    def emit(self, deployment_id: str, camera_id: str, event: AlertEvent) -> bool:
        """A worker hands over an alert, as ``openlfr.cluster.actors`` does: refused (False) when its subject was
        forgotten or its worker is not placed; the same alert id twice is kept once."""
        worker = self.workers.get((deployment_id, camera_id))
        if worker is None:
            raise RecognitionNotAuthorisedError(f"no worker of deployment {deployment_id} on camera {camera_id}")
        if event.subject_id in self.forgotten or event.subject_id in worker.forgotten:
            return False
        with self._arrived:
            self.inbox.setdefault(event.alert_id, InboxAlert(deployment_id, camera_id, event))
            self._arrived.notify_all()
        return True

    def take_alerts(self, timeout_s: float) -> tuple[InboxAlert, ...]:
        with self._arrived:
            self._arrived.wait_for(lambda: bool(self.inbox), timeout=timeout_s)
            return tuple(self.inbox.values())

    def ack(self, alert_ids: tuple[str, ...]) -> None:
        with self._arrived:
            for alert_id in alert_ids:
                self.inbox.pop(alert_id, None)

    def placed(self) -> frozenset[str]:
        return frozenset(d for d, _ in self.workers)

    def status(self) -> ClusterStatus:
        nodes = tuple(NodeReport(n, f"fake://{n}", True, 4.0, 4.0 - self._on(n), 4.0) for n in self.nodes)
        cameras = tuple(CameraReport(d, c, w.node_id, "running", None) for (d, c), w in sorted(self.workers.items()))
        return ClusterStatus(nodes, cameras)

    def _on(self, node_id: str) -> int:
        return sum(1 for w in self.workers.values() if w.node_id == node_id)

    def close(self) -> None:
        return None

    def _check_reachable(self) -> None:
        if self.unreachable:
            raise ClusterError("a worker did not acknowledge in time")
