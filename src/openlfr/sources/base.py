"""The contract every video source keeps, and the health record it reports.

A source turns one input (file, image folder, webcam, RTSP/HTTP stream) into ``Frame`` records. File
sources yield every frame; live sources keep only the newest one (a backlog would only add latency), so
a slow consumer sees drops, counted in ``SourceHealth.frames_dropped``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from openlfr.types import Frame


class SourceState(StrEnum):
    """Where a source is in its life; a StrEnum so it compares equal to (and serialises as) its name."""

    STARTING = "starting"  # opened, no frame yet
    RUNNING = "running"  # frames are arriving
    RECONNECTING = "reconnecting"  # live stream lost or not reachable yet; retrying with backoff
    FAILED = "failed"  # gave up (bad file, reconnect attempts exhausted); see last_error
    ENDED = "ended"  # a file or folder was read to its end
    CLOSED = "closed"  # close() was called


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """A snapshot of one source. Every string in it is free of credentials (see ``redact``)."""

    source_id: str
    target: str  # what is read: a path or a redacted URL
    live: bool
    state: SourceState
    fps: float  # measured over the last few frames; 0.0 before two frames
    frames_read: int  # decoded from the input (live: including the ones later dropped)
    frames_dropped: int
    """live: overwritten by a newer frame before anyone consumed them; a real-time file or folder: the frames
    it would have sent, as a camera, while its reader was more than a second behind (``sources.pacing``)"""
    reconnects: int  # successful re-opens after a loss (live only)
    last_frame_at: float | None  # wall clock (time.time()) of the newest decoded frame
    last_error: str | None  # why the source is reconnecting/failed, or the last problem seen


@runtime_checkable
class FrameSource(Protocol):
    """One input of frames. ``frames()`` may be iterated once; it ends at end of file or on ``close()``.

    ``close()`` is idempotent, may be called from any thread and returns promptly (any decode thread is
    joined); use ``contextlib.closing(source)`` for a ``with`` block. Problems of one source never raise out
    of another.
    """

    @property
    def source_id(self) -> str: ...

    @property
    def live(self) -> bool: ...

    def frames(self) -> Iterator[Frame]: ...

    def close(self) -> None: ...

    def health(self) -> SourceHealth: ...
