"""The live camera wall: MJPEG frames in which every face is blanked on the server except alerted matches.

Read from a real server (uvicorn) the way a browser's <img> reads it, decoded, and checked where the faces are:
the passer-by's face is flat (no texture left) in every frame; the listed person's face, once alerted, is shown.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from openlfr.pipeline.view import CameraView
from openlfr.service.monitor import CameraMonitor
from openlfr.service.registry import get_camera
from openlfr.service.wall import CameraWall
from tests.api.conftest import Api, build_api, make_settings
from tests.helpers.cameras import register_camera
from tests.helpers.console import enrol_subject, live_deployment, snapshot
from tests.helpers.waiting import GENEROUS_S, wait_until
from tests.watchlists.helpers import face_image
from tests.web.conftest import LiveServer, serve

# face_image puts its face at x 120-280, y 100-260 of a 400x400 tile; two tiles side by side (800 px wide)
# are shown on the wall at 640 px: a scale of 0.8. The insides of the boxes (no overlay lines there):
LISTED = (slice(int(115 * 0.8), int(245 * 0.8)), slice(int(135 * 0.8), int(265 * 0.8)))
PASSER_BY = (slice(int(115 * 0.8), int(245 * 0.8)), slice(int(535 * 0.8), int(665 * 0.8)))


def texture(image: np.ndarray, region: tuple[slice, slice]) -> float:
    """Laplacian variance: high for a face's texture, about 0 for a flat patch."""
    return float(cv2.Laplacian(cv2.cvtColor(image[region], cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def mjpeg_frames(response: Any) -> Iterator[np.ndarray]:
    buffer = b""
    while chunk := response.read1(65536):
        buffer += chunk
        while True:
            start = buffer.find(b"\xff\xd8")
            end = buffer.find(b"\xff\xd9", start + 2)
            if start < 0 or end < 0:
                break
            jpeg, buffer = buffer[start : end + 2], buffer[end + 2 :]
            image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
            assert image is not None
            yield image


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Api, LiveServer]]:
    for api in build_api(make_settings(tmp_path, alert_stream_max_s=60)):
        server = serve(api.app)
        try:
            yield api, server
        finally:
            server.stop()


def test_the_wall_blanks_every_face_but_the_alerted_match(live: tuple[Api, LiveServer], tmp_path: Path) -> None:
    api, server = live
    folder = tmp_path / "street"
    folder.mkdir()
    originals = []
    for index in range(6):
        frame = np.hstack([face_image(1, noise=1 + index % 3), face_image(3, noise=1 + index % 3)])
        cv2.imwrite(str(folder / f"{index:04d}.png"), frame)
        originals.append(frame)
    services = api.app.state.ctx.services
    monitor: CameraMonitor = services.cameras
    cameras = monitor.supervisor
    with api.db.session() as session:
        camera_id = register_camera(session, "street", str(folder), loop=True).id
        session.commit()
    enrol_subject(services.store, services.enroller.engine, 1, "alice")
    operator = {"Authorization": f"Bearer {api.token('operator')}"}
    url = f"{server.url}/api/cameras/{camera_id}/wall.mjpg"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(url, headers=operator), timeout=GENEROUS_S)
    refused.value.close()  # the error holds the response's socket
    assert refused.value.code == 404  # not running
    mandate = live_deployment(services.store, snapshot(services.store, services.enroller.engine), [camera_id])
    cameras.start_recognition(mandate)
    assert wait_until(lambda: alerts_on(monitor, api, camera_id) >= 1)

    original = cv2.resize(originals[0], (640, 320), interpolation=cv2.INTER_AREA)
    assert texture(original, PASSER_BY) > 500 and texture(original, LISTED) > 500
    seen = 0
    request = urllib.request.Request(url, headers=operator)
    with urllib.request.urlopen(request, timeout=GENEROUS_S) as response:
        assert response.status == 200
        assert response.headers["content-type"].startswith("multipart/x-mixed-replace")
        for image in mjpeg_frames(response):
            assert image.shape == (320, 640, 3)
            assert texture(image, PASSER_BY) < 0.02 * texture(original, PASSER_BY)  # blanked, every frame
            seen += 1 if texture(image, LISTED) > 0.5 * texture(original, LISTED) else 0
            if seen >= 5:
                break
    assert seen >= 5  # the alerted match is shown (frames where its track is alerted)
    cameras.stop_all()


def test_a_face_missed_by_the_detector_for_a_frame_stays_blanked() -> None:
    wall = CameraWall(max_side=400)
    wall.open("cam", None)
    image = face_image(3)
    box = np.array([[120, 100, 280, 260]], np.float32)
    wall.publish(CameraView("cam", 0, image, box, (7,), (None,)))
    wall.publish(CameraView("cam", 1, image, np.zeros((0, 4), np.float32), (), ()))  # the detector missed it
    got = wall.next_jpeg("cam", 0, timeout_s=0)
    assert got is not None and got[0] == 2
    shown = cv2.imdecode(np.frombuffer(got[1], np.uint8), cv2.IMREAD_COLOR)
    inside = (slice(115, 245), slice(135, 265))
    assert texture(shown, inside) < 0.02 * texture(image, inside)
    wall.close("cam")
    assert wall.next_jpeg("cam", 0, timeout_s=0) is None and not wall.is_open("cam")


def alerts_on(monitor: CameraMonitor, api: Api, camera_id: str) -> int:
    with api.db.session() as session:
        return monitor.health([get_camera(session, camera_id)])[0].alerts
