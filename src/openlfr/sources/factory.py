"""``open_source(spec)``: one entry point that picks the backend from the spec's shape."""

from __future__ import annotations

import re
from pathlib import Path

from openlfr.config.models import SourceConfig
from openlfr.errors import SourceError
from openlfr.sources.base import FrameSource
from openlfr.sources.redact import redact

_WEBCAM = re.compile(r"^(?:webcam:)?(\d+)$")
_STREAM_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://")


def open_source(
    spec: str,
    *,
    source_id: str | None = None,
    realtime: bool = False,
    loop: bool = False,
    fps: float | None = None,
    config: SourceConfig | None = None,
) -> FrameSource:
    """Open the input named by ``spec``:

    - ``rtsp://…``, ``rtsps://…``, ``http(s)://…`` (MJPEG or any stream FFmpeg reads): a live source;
    - ``webcam:N`` or ``N``: local camera N (live);
    - a folder: its images in natural name order; anything else: a video file (mp4, mkv, avi, GIF…).

    ``realtime`` paces file sources at the media's speed (live sources are always real time); ``loop``
    restarts a file source at its end; ``fps`` sets the rate of an image folder (default 25).
    Raises SourceError when a file input cannot be used; a live source opens in the background and
    reports trouble through ``health()``.
    """
    spec = spec.strip()
    if not spec:
        raise SourceError("empty source spec")
    config = config or SourceConfig()
    sid = source_id or _default_id(spec)
    if spec.lower().startswith(_STREAM_SCHEMES):
        from openlfr.sources.live import StreamSource

        return StreamSource(spec, source_id=sid, config=config)
    webcam = _WEBCAM.match(spec)
    if webcam is not None:
        from openlfr.sources.live import WebcamSource

        return WebcamSource(int(webcam.group(1)), source_id=sid, config=config)
    if "://" in spec:
        raise SourceError(f"{redact(spec)}: unsupported URL scheme (use rtsp://, http:// or https://)")
    from openlfr.sources.file import ImageFolderSource, VideoFileSource

    path = Path(spec).expanduser()
    if path.is_dir():
        return ImageFolderSource(path, source_id=sid, realtime=realtime, fps=fps, loop=loop)
    return VideoFileSource(path, source_id=sid, realtime=realtime, loop=loop)


def _default_id(spec: str) -> str:
    """A readable, credential-free id: the file or folder name, else the redacted spec."""
    if "://" in spec:
        return redact(spec)
    return Path(spec).name or spec
