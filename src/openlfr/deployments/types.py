"""Typed records at the deployments boundary: what a caller gives (plan, changes) and what it gets back."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Final

from openlfr.errors import OpenLFRError
from openlfr.store.errors import ConflictError

STATUSES: Final = ("draft", "authorised", "live", "ended", "cancelled")
EDITABLE: Final = ("draft", "authorised")


class DeploymentError(OpenLFRError):
    """The request breaks a deployment rule (lifecycle, threshold policy, a missing field)."""

    code = "deployment_invalid"


class DeploymentStateError(DeploymentError, ConflictError):
    """The deployment is not in a state that allows this (e.g. starting a draft)."""

    code = "deployment_state"


@dataclass(frozen=True, slots=True)
class DeploymentPlan:
    """Everything a new deployment needs. ``snapshot`` is a snapshot id or its fingerprint; ``threshold`` None
    means the model's calibrated default."""

    name: str
    use_case: str
    purpose: str
    legal_basis: str
    justification: str
    location: str
    planned_start: datetime
    planned_end: datetime
    camera_ids: tuple[str, ...]
    snapshot: str
    threshold: float | None = None
    latitude: float | None = None
    longitude: float | None = None
    signage_confirmed: bool = False


@dataclass(frozen=True, slots=True)
class DeploymentChanges:
    """Fields to change; None leaves a field as it is."""

    name: str | None = None
    use_case: str | None = None
    purpose: str | None = None
    legal_basis: str | None = None
    justification: str | None = None
    location: str | None = None
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    camera_ids: tuple[str, ...] | None = None
    snapshot: str | None = None
    threshold: float | None = None
    latitude: float | None = None
    longitude: float | None = None
    signage_confirmed: bool | None = None

    def given(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


@dataclass(frozen=True, slots=True)
class ThresholdOverride:
    """A supervisor's permission to run below the configured minimum threshold."""

    supervisor: str
    reason: str


@dataclass(frozen=True, slots=True)
class ThresholdPolicy:
    model: str
    default: float | None
    """the calibrated default (openlfr.pipeline.thresholds), None when the model has none"""
    minimum: float | None
    """lowest threshold without an override: configured, else the calibrated default; None: always override"""
    derivation: str

    def needs_override(self, threshold: float) -> bool:
        return self.minimum is None or threshold < self.minimum


@dataclass(frozen=True, slots=True)
class RunCounts:
    """What the pipeline counted while a deployment ran: numbers only.

    ``tracks`` is the published "faces seen": distinct faces passing the cameras (a person walking through
    the view is one track however many frames show them). ``detections`` counts a face once per frame it was
    found in, kept as a second figure; dividing false alerts by it would flatter the system ~40x.
    """

    frames: int
    detections: int
    tracks: int
    tracks_unexamined: int = 0
    """passers-by with a usable face whom real time forced the pipeline to skip (never embedded)"""

    def plus(self, other: RunCounts) -> RunCounts:
        return RunCounts(
            self.frames + other.frames,
            self.detections + other.detections,
            self.tracks + other.tracks,
            self.tracks_unexamined + other.tracks_unexamined,
        )

    def since(self, baseline: RunCounts) -> RunCounts:
        """What was counted after ``baseline`` (an earlier reading of the same run's counters)."""
        return RunCounts(
            max(0, self.frames - baseline.frames),
            max(0, self.detections - baseline.detections),
            max(0, self.tracks - baseline.tracks),
            max(0, self.tracks_unexamined - baseline.tracks_unexamined),
        )


NO_COUNTS: Final = RunCounts(0, 0, 0, 0)
