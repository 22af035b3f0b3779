"""Real network video servers for tests: a GStreamer RTSP server (subprocess) and an HTTP MJPEG server
(thread). Both listen on 127.0.0.1 only and are stopped by their context managers.

    with RtspServer(video) as server:           # server.url == "rtsp://127.0.0.1:PORT/stream"
        ...
        server.kill(); server.start()           # a camera that drops and comes back on the same port
        server.pause(); server.resume()         # a camera that hangs (connection open, no data)
    with MjpegServer(jpegs, fps=25) as server:   # server.url == "http://127.0.0.1:PORT/stream.mjpg"
        ...
"""

from __future__ import annotations

import functools
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self

import cv2
import numpy as np
import pytest

SYSTEM_PYTHON = "/usr/bin/python3"
RTSP_SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")
MJPEG_BOUNDARY = "frameboundary"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gstreamer_rtsp_missing() -> str | None:
    """Why the RTSP server cannot run here (for a skip reason), or None when it can."""
    if not Path(SYSTEM_PYTHON).is_file():
        return f"{SYSTEM_PYTHON} not found (the RTSP test server runs on the system Python)"
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0')"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    if probe.returncode != 0:
        return (
            "GStreamer's Python bindings are missing (apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 "
            "gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad; "
            "see scripts/install-system-deps.sh)"
        )
    return None


def require_gstreamer() -> None:
    """Skip the calling test, saying why, when the RTSP test server cannot run on this machine."""
    reason = _gstreamer_missing_cached()
    if reason is not None:
        pytest.skip(reason)


@functools.cache
def _gstreamer_missing_cached() -> str | None:
    return gstreamer_rtsp_missing()


def loop_video(source: Path, target: Path, times: int) -> Path:
    """``source`` played ``times`` times in a row into ``target``, without re-encoding (needs ffmpeg)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("ffmpeg is not installed (apt-get install ffmpeg)")
    inputs = ["-stream_loop", str(times - 1), "-i", str(source)]
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", *inputs, "-map", "0:v", "-c", "copy", str(target)],
        check=True,
        timeout=60,
    )
    return target


class RtspServer:
    """GStreamer's RTSP server in a subprocess of the system Python, serving ``video`` at ``url``."""

    def __init__(self, video: Path, *, port: int | None = None, path: str = "/stream") -> None:
        self.video = video
        self.port = port or free_port()
        self.path = path
        self._process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}{self.path}"

    def url_with_credentials(self, user: str, password: str) -> str:
        return f"rtsp://{user}:{password}@127.0.0.1:{self.port}{self.path}"

    def start(self, timeout: float = 15.0) -> None:
        """Start (or restart, on the same port) and wait until it accepts connections."""
        if self._process is not None and self._process.poll() is None:
            raise RuntimeError("RTSP server already running")
        command = [SYSTEM_PYTHON, str(RTSP_SERVER_SCRIPT), "--port", str(self.port), "--file", str(self.video)]
        self._process = subprocess.Popen(
            [*command, "--path", self.path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                _, err = self._process.communicate()
                raise RuntimeError(f"RTSP server exited with {self._process.returncode}: {err.strip()}")
            if _accepts(self.port):
                return
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"RTSP server did not listen on port {self.port} within {timeout} s")

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open but nothing arrives, as with a hung camera."""
        assert self._process is not None and self._process.poll() is None, "server not running"
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None, "server not running"
        self._process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """Stop abruptly, as a crashing camera would; waits until the process is gone."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.kill()  # SIGKILL also ends a paused (SIGSTOPped) process
        self._process.communicate(timeout=10)  # reaps it and closes its pipes (no ResourceWarning)
        self._process = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.kill()


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def jpeg_frames(video: Path, count: int, max_side: int = 640) -> list[bytes]:
    """The first ``count`` frames of ``video`` as JPEG bytes (downscaled to ``max_side``), in memory."""
    capture = cv2.VideoCapture(str(video), cv2.CAP_FFMPEG)
    frames: list[bytes] = []
    try:
        while len(frames) < count:
            ok, image = capture.read()
            if not ok:
                break
            scale = max_side / max(image.shape[:2])
            if scale < 1:
                image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
            assert ok
            frames.append(np.asarray(encoded).tobytes())
    finally:
        capture.release()
    if not frames:
        raise RuntimeError(f"no frame decoded from {video}")
    return frames


class MjpegServer:
    """An HTTP MJPEG camera: ``multipart/x-mixed-replace`` parts cycling through ``jpegs`` at ``fps``.

    ``frames_per_connection`` ends each response after that many parts (a flaky camera), which makes a
    client reconnect without killing the server.
    """

    def __init__(
        self, jpegs: Sequence[bytes], *, fps: float = 25.0, path: str = "/stream.mjpg", frames_per_connection: int = 0
    ) -> None:
        self.jpegs = list(jpegs)
        self.fps = fps
        self.path = path
        self.frames_per_connection = frames_per_connection
        self.connections = 0
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="mjpeg-test-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def url_with_credentials(self, user: str, password: str) -> str:
        return f"http://{user}:{password}@127.0.0.1:{self.port}{self.path}"

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()  # handler loops end at their next part
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _handler_for(server: MjpegServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != server.path:
                self.send_error(404)
                return
            server.connections += 1
            self.send_response(200)
            self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={MJPEG_BOUNDARY}")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            period = 1.0 / server.fps
            sent = 0
            next_due = time.monotonic()
            try:
                while not server.stopping:
                    jpeg = server.jpegs[sent % len(server.jpegs)]
                    header = f"--{MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
                    self.wfile.write(header.encode("ascii") + jpeg + b"\r\n")
                    self.wfile.flush()
                    sent += 1
                    if server.frames_per_connection and sent >= server.frames_per_connection:
                        break
                    next_due += period
                    time.sleep(max(0.0, next_due - time.monotonic()))
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client went away: normal for a camera

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output quiet

    return Handler
