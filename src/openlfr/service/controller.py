"""The seam between governance and recognition: the deployment scheduler decides *whether* recognition runs
(an authorised, live deployment, for which the deployments domain issues a ``RecognitionMandate``), the camera
manager makes it run."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from openlfr.sources.mandate import RecognitionMandate


@runtime_checkable
class RecognitionController(Protocol):
    def start_recognition(self, mandate: RecognitionMandate) -> None:
        """Run recognition on the mandate's cameras against its watchlist snapshot at its threshold; alerts are
        stored with its deployment id. Raises (NotFoundError, ConflictError, SourceError…) when it cannot start;
        nothing keeps running then."""
        ...

    def stop_recognition(self, deployment_id: str) -> None:
        """Stop the deployment's pipeline and wait for it (a no-op for an unknown or stopped deployment)."""
        ...

    def active_deployments(self) -> frozenset[str]:
        """Deployments started and not stopped (a file camera that reached its end still counts)."""
        ...


@runtime_checkable
class GalleryRefresher(Protocol):
    """Optional: a controller that catches up with erasures made by another process (each scheduler tick)."""

    def refresh_galleries(self) -> None: ...


@runtime_checkable
class Detachable(Protocol):
    """Optional: a controller whose recognition runs outside this process (cluster mode) and outlives it. When
    the service stops, the scheduler detaches it instead of stopping the deployments; the next start reattaches."""

    def detach(self) -> None: ...
