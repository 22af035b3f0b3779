"""The seam between governance and recognition: the deployment scheduler decides *whether* recognition runs
(an authorised, live deployment), the camera manager makes it run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable


@runtime_checkable
class RecognitionController(Protocol):
    def start_recognition(
        self, deployment_id: str, snapshot_id: str, threshold: float, camera_ids: Sequence[str]
    ) -> None:
        """Run recognition on ``camera_ids`` against the watchlist snapshot ``snapshot_id`` at ``threshold``;
        alerts are stored with ``deployment_id``. Raises (NotFoundError, ConflictError, SourceError…) when it
        cannot start; nothing keeps running then."""
        ...

    def stop_recognition(self, deployment_id: str) -> None:
        """Stop the deployment's pipeline and wait for it (a no-op for an unknown or stopped deployment)."""
        ...

    def active_deployments(self) -> frozenset[str]:
        """Deployments started and not stopped (a file camera that reached its end still counts)."""
        ...
