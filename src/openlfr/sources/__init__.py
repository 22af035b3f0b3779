"""Video sources: files, image folders, webcams, RTSP/HTTP streams behind one ``FrameSource`` protocol.

Importing this package is cheap; OpenCV is loaded when a source is opened.
"""

from openlfr.sources.base import FrameSource, SourceHealth, SourceState
from openlfr.sources.factory import open_source
from openlfr.sources.redact import redact

__all__ = ["FrameSource", "SourceHealth", "SourceState", "open_source", "redact"]
