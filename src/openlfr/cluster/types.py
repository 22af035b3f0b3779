"""The records that cross between the control plane and the workers. Frozen, picklable, and free of anything
the workers must not hold: no database URL, no media key, no account."""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from openlfr.alerts.event import AlertEvent
from openlfr.config.models import EngineConfig, SourceConfig
from openlfr.config.pipeline import PipelineConfig
from openlfr.pipeline.gallery import WatchlistSnapshot, build_snapshot
from openlfr.pipeline.latency import HistogramSnapshot
from openlfr.pipeline.status import CameraStatus, PipelineStatus
from openlfr.sources.mandate import RecognitionMandate
from openlfr.types import FloatArray, ModelContract

RAY_INLINE_LIMIT_BYTES = 100 * 1024
"""Ray's ``max_direct_call_object_size`` (its default, which ``lfr cluster start`` keeps): a call's argument or
return value larger than this goes through the object store (shared memory, and files under Ray's temp folder
when that is full); one no larger travels inside the call's own message and lands in the receiver's memory."""

SNAPSHOT_CHUNK_BYTES = 64 * 1024
"""A snapshot crosses between the control plane, the head's control actor and the workers in chunks of at most
this many bytes: well under the inline limit, with room for the call's own framing, so templates never enter
the object store."""


@dataclass(frozen=True, slots=True)
class SnapshotPayload:
    """A deployment's watchlist snapshot as a worker receives it: in memory, never written to disk (the search
    index is rebuilt from the templates on the worker). It travels as ``to_chunks`` (each chunk inline in one
    Ray call) and is put together again in the receiver's memory (``from_chunks``)."""

    name: str
    templates: FloatArray
    subject_ids: tuple[str, ...]
    references: tuple[str, ...]
    contract: ModelContract

    @classmethod
    def of(cls, snapshot: WatchlistSnapshot) -> SnapshotPayload:
        return cls(snapshot.name, snapshot.templates, snapshot.subject_ids, snapshot.references, snapshot.contract)

    def build(self) -> WatchlistSnapshot:
        return build_snapshot(self.name, self.templates, self.subject_ids, self.references, self.contract)

    @property
    def nbytes(self) -> int:
        return int(self.templates.nbytes)

    def to_chunks(self, size: int = SNAPSHOT_CHUNK_BYTES) -> tuple[bytes, ...]:
        """The payload (templates, subject ids, references) serialised and cut into chunks of at most ``size``
        bytes. Pickle, as Ray itself uses between these same processes: only the cluster's own nodes, which
        hold the token, send or receive them."""
        data = pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)
        return tuple(data[start : start + size] for start in range(0, len(data), size))

    @classmethod
    def from_chunks(cls, chunks: Sequence[bytes]) -> SnapshotPayload:
        payload = pickle.loads(b"".join(chunks))
        if not isinstance(payload, cls):
            raise TypeError(f"the chunks hold a {type(payload).__name__}, not a snapshot")
        return payload

    def emptied(self) -> SnapshotPayload:
        """The same snapshot without its templates (what travels in a worker's creation arguments)."""
        empty = np.zeros((0, self.templates.shape[1] if self.templates.ndim == 2 else 0), np.float32)
        return SnapshotPayload(self.name, empty, (), (), self.contract)


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """How a worker runs its camera: the engine, source and pipeline sections of the control plane's settings
    (the pipeline's threshold is the deployment's), nothing else of them."""

    engine: EngineConfig
    sources: SourceConfig
    pipeline: PipelineConfig
    realtime_files: bool = True


@dataclass(frozen=True, slots=True)
class DeploymentPlan:
    """A live deployment to place on the pool: one worker per camera of its mandate."""

    mandate: RecognitionMandate
    snapshot: SnapshotPayload
    config: WorkerConfig

    @property
    def deployment_id(self) -> str:
        return self.mandate.deployment_id


@dataclass(frozen=True, slots=True)
class InboxAlert:
    """An alert a worker handed to the control plane's inbox, waiting to be persisted (its ``alert_id``, made on
    the worker, is the idempotency key: persisting it twice stores it once)."""

    deployment_id: str
    camera_id: str
    event: AlertEvent


@dataclass(frozen=True, slots=True)
class CameraReport:
    """One camera's worker, as the pool sees it."""

    deployment_id: str
    camera_id: str
    node_id: str | None
    """the Ray node the worker runs on (None while it is being placed or restarted)"""
    state: str
    """placing, running, restarting, ended (its pipeline stopped: source ended, mandate expired), failed"""
    status: PipelineStatus | None
    """the worker's pipeline (one camera); None while it is placed or restarted"""
    restarts: int = 0
    halted: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class NodeReport:
    node_id: str
    address: str
    alive: bool
    cameras_capacity: float
    """units of the camera resource the node offers"""
    cameras_free: float
    cpus: float


@dataclass(frozen=True, slots=True)
class ClusterStatus:
    nodes: tuple[NodeReport, ...]
    cameras: tuple[CameraReport, ...]

    def cameras_on(self, node_id: str) -> tuple[CameraReport, ...]:
        return tuple(c for c in self.cameras if c.node_id == node_id)


def merge_histograms(snapshots: list[HistogramSnapshot]) -> HistogramSnapshot:
    """Several cameras' histograms as one (same bounds: every pipeline uses the default ones)."""
    if not snapshots:
        from openlfr.pipeline.latency import LatencyHistogram

        return LatencyHistogram().snapshot()
    bounds = snapshots[0].bounds_s
    if any(s.bounds_s != bounds for s in snapshots):
        raise ValueError("histograms with different bounds cannot be merged")
    cumulative = np.sum([s.cumulative for s in snapshots], axis=0)
    return HistogramSnapshot(bounds, tuple(int(c) for c in cumulative), sum(s.sum_s for s in snapshots))


def deployment_status(reports: list[CameraReport]) -> PipelineStatus:
    """A deployment's status from its cameras' reports (those that reported: a restarting camera is left out)."""
    statuses = [r.status for r in reports if r.status is not None]
    cameras: tuple[CameraStatus, ...] = tuple(c for s in statuses for c in s.cameras)
    halted = next((s.halted for s in statuses if s.halted is not None), None)
    return PipelineStatus(
        cameras=cameras,
        frame_latency=merge_histograms([s.frame_latency for s in statuses]),
        alert_latency=merge_histograms([s.alert_latency for s in statuses]),
        halted=halted,
    )
