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
class ThresholdReasons:
    """Why a threshold is what it is, when the policy asks: ``override`` — why it is below the floor (given by
    a supervisor in person, other than the deployment's creator); ``equity`` — why it lies outside the saved
    calibration's equity range. The person is the principal who gives them, never a name in here."""

    override: str | None = None
    equity: str | None = None

    def given(self) -> bool:
        return self.override is not None or self.equity is not None


@dataclass(frozen=True, slots=True)
class ThresholdPolicy:
    model: str
    default: float | None
    """the calibrated threshold for the watchlist's size (saved calibration, else the model's shipped one)"""
    minimum: float | None
    """the floor: the calibrated threshold, raised (never lowered) by governance.minimum_thresholds; None: a
    model with neither, where any threshold needs an override"""
    derivation: str
    calibration_id: str | None = None
    """the saved calibration it came from; None: the shipped one (or none)"""
    equity_low: float | None = None
    equity_high: float | None = None
    configured_ignored: float | None = None
    """a configured minimum below the calibrated floor: ignored (configuration may only raise the floor)"""

    def needs_override(self, threshold: float) -> bool:
        return self.minimum is None or threshold < self.minimum

    def outside_equity(self, threshold: float) -> bool:
        if self.equity_low is None or self.equity_high is None:
            return False
        return not self.equity_low <= threshold <= self.equity_high


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
