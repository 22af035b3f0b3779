"""The recognition mandate: the only thing that lets a live source (camera stream, webcam, device) be opened
for recognition, and a pipeline run on one.

A mandate is issued by the deployments domain (``openlfr.deployments.mandate.issue_mandate``) for one live,
authorised deployment inside its window, and names exactly what that deployment may do: its registered
cameras (id, name, source), its watchlist snapshot and threshold, and until when. ``open_source`` refuses a
live spec that no mandate names, and ``WatchPipeline`` refuses a live source without a mandate, a mandate
that does not match what it is asked to run, and stops by itself when the mandate expires.

The constructor cannot be called directly (it checks a private seal); ``RecognitionMandate.issue`` is the one
factory, and only ``openlfr.deployments.mandate`` calls it (``tests/deployments/test_mandate.py`` checks
the source tree for any other caller). Python cannot stop code in the same process from forging one on
purpose; the point is that no configuration, command-line option or API call can get a live camera
recognised without the deployment rules having been checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from openlfr.errors import OpenLFRError
from openlfr.utc import as_utc
from openlfr.utc import utcnow as utcnow  # noqa: PLC0414 (re-exported: service/cameras.py imports it from here)
from openlfr.zone import Zone


class RecognitionNotAuthorisedError(OpenLFRError):
    """Recognition on a live source without a mandate (or beyond what the mandate allows)."""

    code = "recognition_not_authorised"


class _Seal:
    __slots__ = ()


_SEAL = _Seal()


@dataclass(frozen=True, slots=True)
class CameraGrant:
    """One registered camera a deployment may run recognition on."""

    camera_id: str
    name: str
    """the pipeline's source id (the alert's ``source``)"""
    source: str = field(repr=False)
    """what ``open_source`` opens (may hold credentials: never logged)"""
    loop: bool = False
    zone: Zone | None = None
    """the camera's zone (faces outside it are neither tracked nor embedded); None: the whole view"""


@dataclass(frozen=True, slots=True)
class RecognitionMandate:
    deployment_id: str
    revision: int
    """the deployment revision that was authorised (and is current)"""
    snapshot_id: str
    snapshot_fingerprint: str
    threshold: float
    cameras: tuple[CameraGrant, ...]
    not_before: datetime
    not_after: datetime
    """the deployment's planned end: recognition stops here whatever else happens"""
    issued_at: datetime
    seal: object = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.seal is not _SEAL:
            raise RecognitionNotAuthorisedError(
                "a recognition mandate is issued by the deployments domain for a live, authorised deployment "
                "(openlfr.deployments.mandate.issue_mandate), never built by hand"
            )

    @classmethod
    def issue(
        cls,
        *,
        deployment_id: str,
        revision: int,
        snapshot_id: str,
        snapshot_fingerprint: str,
        threshold: float,
        cameras: tuple[CameraGrant, ...],
        not_before: datetime,
        not_after: datetime,
        issued_at: datetime,
    ) -> RecognitionMandate:
        """For ``openlfr.deployments.mandate.issue_mandate`` only, after it has checked the deployment."""
        return cls(
            deployment_id,
            revision,
            snapshot_id,
            snapshot_fingerprint,
            threshold,
            cameras,
            as_utc(not_before),
            as_utc(not_after),
            as_utc(issued_at),
            _SEAL,
        )

    def valid_at(self, now: datetime) -> bool:
        return self.not_before <= as_utc(now) < self.not_after

    def grant_for(self, spec: str) -> CameraGrant | None:
        spec = spec.strip()
        return next((c for c in self.cameras if c.source.strip() == spec), None)

    def check_source(self, spec: str, now: datetime) -> CameraGrant:
        """The grant that allows opening ``spec`` now; RecognitionNotAuthorisedError otherwise."""
        if not self.valid_at(now):
            raise RecognitionNotAuthorisedError(
                f"the mandate of deployment {self.deployment_id} is not valid now (its window is "
                f"{self.not_before.isoformat()} to {self.not_after.isoformat()})"
            )
        grant = self.grant_for(spec)
        if grant is None:
            raise RecognitionNotAuthorisedError(
                f"deployment {self.deployment_id} names no registered camera with this source"
            )
        return grant
