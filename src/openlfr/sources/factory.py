"""``open_source(spec)``: one entry point that picks the backend from the spec's shape."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from openlfr.config.models import SourceConfig
from openlfr.errors import SourceError
from openlfr.sources.base import FrameSource
from openlfr.sources.hosts import check_stream_host
from openlfr.sources.mandate import RecognitionMandate, RecognitionNotAuthorisedError
from openlfr.sources.redact import redact
from openlfr.utc import utcnow

_WEBCAM = re.compile(r"^(?:webcam:)?(\d+)$")
_STREAM_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://")
# Text files FFmpeg would follow to the network (HLS/M3U and PLS playlists, SDP session descriptions, concat
# lists, DASH manifests): a "file" source must not be a way around the door for live sources.
_INDIRECTIONS = (b"#EXTM3U", b"[playlist]", b"v=0", b"ffconcat", b"<?xml", b"<MPD")


def is_live_spec(spec: str) -> bool:
    """Whether ``spec`` names a live source (a stream URL or a local camera), which needs a mandate."""
    spec = spec.strip()
    return spec.lower().startswith(_STREAM_SCHEMES) or _WEBCAM.match(spec) is not None


def open_source(
    spec: str,
    *,
    source_id: str | None = None,
    realtime: bool = False,
    loop: bool = False,
    fps: float | None = None,
    config: SourceConfig | None = None,
    mandate: RecognitionMandate | None = None,
    now: datetime | None = None,
) -> FrameSource:
    """Open the input named by ``spec``:

    - ``rtsp://…``, ``rtsps://…``, ``http(s)://…`` (MJPEG or any stream FFmpeg reads): a live source;
    - ``webcam:N`` or ``N``: local camera N (live);
    - a folder: its images in natural name order; anything else: a video file (mp4, mkv, avi, GIF…).

    A live source opens only under a ``mandate`` (``openlfr.deployments.mandate.issue_mandate``) that names
    ``spec`` as one of its deployment's cameras and is valid ``now`` (default: the wall clock); otherwise
    RecognitionNotAuthorisedError. A stream must also be on a host ``config.allowed_hosts`` allows
    (SourceNotAllowedError). ``realtime`` paces file sources at the media's speed (live sources are always real
    time); ``loop`` restarts a file source at its end; ``fps`` sets the rate of an image folder (default 25).
    Raises SourceError when a file input cannot be used; a live source opens in the background and
    reports trouble through ``health()``.
    """
    spec = spec.strip()
    if not spec:
        raise SourceError("empty source spec")
    config = config or SourceConfig()
    sid = source_id or _default_id(spec)
    if is_live_spec(spec):
        if mandate is None:
            raise RecognitionNotAuthorisedError(
                f"{redact(spec)} is a live source: recognition on cameras runs only inside a live, authorised "
                "deployment (register the camera and deploy it; `lfr watch --deployment ID` joins a live one). "
                "`lfr watch --source` takes recorded files and image folders"
            )
        mandate.check_source(spec, now or utcnow())
        check_stream_host(spec, config.allowed_hosts)
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
    _check_recorded_file(path)
    return VideoFileSource(path, source_id=sid, realtime=realtime, loop=loop)


def _check_recorded_file(path: Path) -> None:
    """Refuse what is not a recording: a device or pipe (a camera by another name), or a playlist or session
    description that FFmpeg would follow to the network."""
    if path.exists() and not path.is_file():
        raise RecognitionNotAuthorisedError(
            f"{path}: not a regular file (a device or pipe is a live source: register it as a camera)"
        )
    if not path.is_file():
        return  # VideoFileSource says it does not exist
    try:
        with path.open("rb") as handle:
            head = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return  # VideoFileSource reports the read error
    if head.startswith(_INDIRECTIONS):
        raise RecognitionNotAuthorisedError(
            f"{path}: a playlist or stream description (it would make FFmpeg connect elsewhere), not a recording"
        )


def _default_id(spec: str) -> str:
    """A readable, credential-free id: the file or folder name, else the redacted spec."""
    if "://" in spec:
        return redact(spec)
    return Path(spec).name or spec
