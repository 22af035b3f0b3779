"""``POST /api/cameras/{id}/test-view``: one current frame of a camera, every face blanked on the server, with
the source's resolution and the faces found, to check aim and focus before a deployment. From a recorded
source, a live MJPEG camera (opened for one frame, closed again) and a running deployment's newest frame."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import cv2
import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import select

from openlfr.service.monitor import CameraMonitor
from openlfr.service.testview import TEST_VIEW_INTERVAL_S
from openlfr.store.governance_models import AuditEntry
from tests.api.conftest import Api
from tests.helpers.console import enrol_subject, frame_folder, live_deployment, snapshot
from tests.helpers.streams import MjpegServer, free_port
from tests.helpers.waiting import wait_until
from tests.watchlists.helpers import face_image

DB_FILES = (".db", ".db-journal", ".db-wal", ".db-shm", ".sqlite", ".sqlite-journal")


def logged_in(api: Api, username: str, role: str) -> TestClient:
    api.user(username, role)
    client = api.client()
    client.headers["X-CSRF-Token"] = api.login(client, username)
    return client


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(DB_FILES)}


def decoded(view: dict[str, object]) -> np.ndarray:
    prefix = "data:image/jpeg;base64,"
    image = str(view["image"])
    assert image.startswith(prefix)
    frame = cv2.imdecode(np.frombuffer(base64.b64decode(image[len(prefix) :]), np.uint8), cv2.IMREAD_COLOR)
    assert frame is not None
    return frame


def assert_face_blanked(frame: np.ndarray, faces: int = 1) -> None:
    """``face_image`` puts a textured 160 px face at (120..280, 100..260) of each 400 px tile: flat once blanked."""
    scale = frame.shape[0] / 400
    for index in range(faces):
        left = round((400 * index + 130) * scale)
        region = frame[round(110 * scale) : round(250 * scale), left : left + round(140 * scale)]
        assert region.astype(float).std(axis=(0, 1)).max() < 3


def add_camera(admin: TestClient, name: str, source: str, *, loop: bool = False) -> str:
    created = admin.post("/api/cameras", json={"name": name, "source": source, "loop": loop})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_a_recorded_source_gives_one_blanked_frame_written_nowhere(api: Api, tmp_path: Path) -> None:
    folder = frame_folder(tmp_path / "frames", 2, 3)
    admin = logged_in(api, "root", "admin")
    camera_id = add_camera(admin, "gate-1", str(folder))
    operator = logged_in(api, "ann", "operator")
    before = files_under(tmp_path)
    response = operator.post(f"/api/cameras/{camera_id}/test-view")
    assert response.status_code == 200, response.text
    view = response.json()
    assert (view["source_width"], view["source_height"], view["faces"]) == (400, 400, 1)
    assert (view["image_width"], view["image_height"]) == (400, 400)
    assert view["camera"] == "gate-1" and view["from_deployment"] is False
    assert_face_blanked(decoded(view))
    assert files_under(tmp_path) == before  # nothing written: no frame, no crop
    with api.db.session() as session:
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "camera.test_view"))
        assert (entry.actor, entry.target_id) == ("user:ann", camera_id)
        assert json.loads(entry.details) == {"name": "gate-1", "faces": 1, "width": 400, "height": 400}
    # every role reads cameras; nobody signed in gets nothing
    api.clock.advance(seconds=TEST_VIEW_INTERVAL_S)
    auditor = logged_in(api, "aud", "auditor")
    assert auditor.post(f"/api/cameras/{camera_id}/test-view").status_code == 200
    assert api.client().post(f"/api/cameras/{camera_id}/test-view").status_code == 401
    assert operator.post("/api/cameras/nope/test-view").status_code == 404


def test_a_live_camera_is_opened_for_one_frame_and_a_dead_one_is_a_clear_error(api: Api) -> None:
    admin = logged_in(api, "root", "admin")
    operator = logged_in(api, "ann", "operator")
    ok, jpeg = cv2.imencode(".jpg", face_image(5, faces=2), [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    with MjpegServer([jpeg.tobytes()], fps=25) as camera:
        camera_id = add_camera(admin, "door", camera.url)
        view = operator.post(f"/api/cameras/{camera_id}/test-view").json()
        assert camera.connections == 1
    assert (view["source_width"], view["source_height"], view["faces"]) == (800, 400, 2)
    assert (view["image_width"], view["image_height"]) == (640, 320)  # at most 640 px, as the preview
    assert_face_blanked(decoded(view), faces=2)
    dead = add_camera(admin, "dead", f"http://127.0.0.1:{free_port()}/stream.mjpg")
    refused = operator.post(f"/api/cameras/{dead}/test-view")
    assert refused.status_code == 502
    assert (
        refused.json()["error"]["code"] == "source_unavailable" and "cannot open" in refused.json()["error"]["message"]
    )


def test_a_running_camera_shows_the_deployments_newest_frame(api: Api, tmp_path: Path) -> None:
    folder = frame_folder(tmp_path / "frames", 2, 4)
    admin = logged_in(api, "root", "admin")
    operator = logged_in(api, "ann", "operator")
    camera_id = add_camera(admin, "gate-1", str(folder), loop=True)  # still running when the view is asked for
    services = api.app.state.ctx.services
    monitor: CameraMonitor = services.cameras
    enrol_subject(services.store, services.enroller.engine, 1, "alice")
    mandate = live_deployment(services.store, snapshot(services.store, services.enroller.engine), [camera_id])
    monitor.supervisor.start_recognition(mandate)
    try:
        assert wait_until(lambda: monitor.latest_image(camera_id) is not None)
        view = operator.post(f"/api/cameras/{camera_id}/test-view").json()
    finally:
        monitor.supervisor.stop_recognition(mandate.deployment_id)
    assert view["from_deployment"] is True and view["faces"] == 1
    assert_face_blanked(decoded(view))


def test_one_test_view_per_camera_every_few_seconds_whoever_asks(api: Api, tmp_path: Path) -> None:
    """A test view is for aiming a camera, not for watching people outside a deployment: one view of a camera per
    TEST_VIEW_INTERVAL_S, whoever asks (the audit log is the record), and the refusal says when to try again."""
    folder = frame_folder(tmp_path / "frames", 2, 3)
    admin = logged_in(api, "root", "admin")
    gate, door = add_camera(admin, "gate-1", str(folder)), add_camera(admin, "door", str(folder))
    ann, bob = logged_in(api, "ann", "operator"), logged_in(api, "bob", "operator")
    assert ann.post(f"/api/cameras/{gate}/test-view").status_code == 200
    api.clock.advance(seconds=2)
    refused = bob.post(f"/api/cameras/{gate}/test-view")  # another person: the same camera's spacing
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "too_soon" and refused.headers["Retry-After"] == "3"
    assert refused.json()["error"]["details"] == {"retry_after_s": 3}
    assert bob.post(f"/api/cameras/{door}/test-view").status_code == 200  # another camera is not held up
    api.clock.advance(seconds=3)
    assert bob.post(f"/api/cameras/{gate}/test-view").status_code == 200
    with api.db.session() as session:
        views = session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "camera.test_view")).all()
    assert views == ["user:ann", "user:bob", "user:bob"]  # the refused view was neither taken nor audited
