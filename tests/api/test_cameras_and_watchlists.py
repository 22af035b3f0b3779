"""Camera routes (admin manages; everyone reads health and the blurred preview) and the watchlist write
routes (supervisors): subjects, uploads with their quality verdict, snapshots, removal and erasure."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import select

from openlfr.service.monitor import CameraMonitor
from openlfr.store.governance_models import AuditEntry
from tests.api.conftest import Api
from tests.helpers.console import end_live, enrol_subject, frame_folder, live_deployment, png, snapshot
from tests.helpers.waiting import wait_until


def logged_in(api: Api, username: str, role: str) -> TestClient:
    api.user(username, role)
    client = api.client()
    client.headers["X-CSRF-Token"] = api.login(client, username)
    return client


def test_cameras_add_health_preview_remove(api: Api, tmp_path: Path) -> None:
    folder = frame_folder(tmp_path / "frames", 2, 4)
    admin = logged_in(api, "root", "admin")
    operator = logged_in(api, "ann", "operator")
    created = admin.post("/api/cameras", json={"name": "gate-1", "source": str(folder), "loop": True})
    assert created.status_code == 201, created.text
    camera_id = created.json()["id"]
    secret = admin.post("/api/cameras", json={"name": "door", "source": "rtsp://u:hunter2@10.1.1.1/s"})
    assert secret.status_code == 201 and "hunter2" not in secret.text
    assert admin.post("/api/cameras", json={"name": "door", "source": "webcam:0"}).status_code == 409
    bad = admin.post("/api/cameras", json={"name": "x", "source": "/no/such/file.mp4"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "camera_invalid"
    assert [c["name"] for c in operator.get("/api/cameras").json()] == ["door", "gate-1"]
    health = {h["name"]: h for h in operator.get("/api/cameras/health").json()}
    assert health["gate-1"]["state"] == "idle" and "hunter2" not in str(health)
    assert operator.get(f"/api/cameras/{camera_id}/preview").status_code == 404
    # a deployment (started the way the scheduler does) makes the camera live
    services = api.app.state.ctx.services
    monitor: CameraMonitor = services.cameras
    cameras = monitor.supervisor
    enrol_subject(services.store, services.enroller.engine, 1, "alice")
    mandate = live_deployment(services.store, snapshot(services.store, services.enroller.engine), [camera_id])
    cameras.start_recognition(mandate)
    assert wait_until(lambda: monitor.preview_jpeg(camera_id) is not None)
    preview = operator.get(f"/api/cameras/{camera_id}/preview")
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/jpeg"
    frame = cv2.imdecode(np.frombuffer(preview.content, np.uint8), cv2.IMREAD_COLOR)
    assert frame[110:250, 130:270].astype(float).std(axis=(0, 1)).max() < 3  # the face is blanked
    live = {h["name"]: h for h in operator.get("/api/cameras/health").json()}["gate-1"]
    assert live["deployment_id"] == mandate.deployment_id and live["state"] in {"running", "starting"}
    # The pipeline's own status, per deployment (its first frame may still be on its way to the models).
    assert wait_until(lambda: operator.get("/api/cameras/status").json()[0]["frames"] >= 1)
    (running,) = operator.get("/api/cameras/status").json()
    assert running["deployment_id"] == mandate.deployment_id and running["state"] == "running"
    (camera,) = running["cameras"]
    assert (camera["camera_id"], camera["name"]) == (camera_id, "gate-1") and camera["frames"] >= 1
    assert running["frames"] == camera["frames"] and camera["latency_p50_ms"] is not None
    assert {"faces", "tracks", "tracks_unexamined", "alerts", "queue_depth", "frames_dropped"} <= set(camera)
    assert admin.delete(f"/api/cameras/{camera_id}").status_code == 409
    cameras.stop_recognition(mandate.deployment_id)
    assert operator.get("/api/cameras/status").json() == []  # nothing runs
    assert admin.delete(f"/api/cameras/{camera_id}").status_code == 409  # the deployment is not over
    end_live(services.store, mandate.deployment_id)
    assert admin.delete(f"/api/cameras/{camera_id}").status_code == 204
    assert admin.delete(f"/api/cameras/{camera_id}").status_code == 404


def test_watchlist_management_with_upload_verdicts(api: Api) -> None:
    sue = logged_in(api, "sue", "supervisor")
    assert sue.post("/api/watchlists", json={"name": "event-a", "description": "test"}).status_code == 201
    subject = sue.post(
        "/api/subjects",
        json={
            "external_ref": "CRN-1",
            "display_name": "Alice",
            "category": "missing_at_risk",
            "reason": "missing, at risk",
            "image_source": "other",
            "image_source_note": "family photo",
            "review_by": "2030-01-01",
            "watchlist": "event-a",
        },
    )
    assert subject.status_code == 201, subject.text
    subject_id = subject.json()["id"]
    assert subject.json()["added_by"] == "sue" and subject.json()["watchlists"] == ["event-a"]
    url = f"/api/subjects/{subject_id}/images"
    good = sue.post(url, files={"file": ("../../etc/passwd.png", png(4), "text/plain")})
    assert good.status_code == 200, good.text
    report = good.json()
    assert report["outcome"] == "enrolled" and report["image"]["source_name"] == "passwd.png"
    assert report["image"]["quality"]["passed"] is True and report["image"]["has_template"]
    again = sue.post(url, files={"file": ("again.png", png(4), "image/png")})
    assert again.json()["outcome"] == "already_enrolled"
    blank = cv2.imencode(".png", np.zeros((200, 200, 3), np.uint8))[1].tobytes()
    rejected = sue.post(url, files={"file": ("blank.png", blank, "image/png")}).json()
    assert rejected["outcome"] == "rejected" and rejected["reasons"] and rejected["image"] is None
    text = sue.post(url, files={"file": ("face.jpg", b"not an image at all", "image/jpeg")})
    assert text.status_code == 415
    bomb = sue.post(url, files={"file": ("huge.png", _huge_png(), "image/png")})
    assert bomb.status_code == 422 and bomb.json()["error"]["code"] == "image_unreadable"
    big = sue.post(url, files={"file": ("big.jpg", b"\xff\xd8\xff" + b"0" * (11 * 1024 * 1024), "image/jpeg")})
    assert big.status_code == 413
    image_id = report["image"]["id"]
    shown = sue.get(f"/api/subjects/{subject_id}/images/{image_id}")
    assert shown.status_code == 200 and shown.content == png(4)
    patched = sue.patch(f"/api/subjects/{subject_id}", json={"display_name": "Alice B", "review_by": "2031-01-01"})
    assert patched.json()["display_name"] == "Alice B" and patched.json()["review_by"] == "2031-01-01"
    assert sue.patch(f"/api/subjects/{subject_id}", json={"reason": "   "}).status_code == 422
    snap = sue.post("/api/watchlists/event-a/snapshots")
    assert snap.status_code == 201 and (snap.json()["templates"], snap.json()["subjects"]) == (1, 1)
    assert sue.delete(f"/api/watchlists/event-a/members/{subject_id}").status_code == 204
    assert sue.get("/api/watchlists/event-a").json()["members"] == []
    erased = sue.post(f"/api/subjects/{subject_id}/erase", json={"reason": "review: no longer needed"})
    assert erased.status_code == 200 and erased.json()["images"] == 1 and erased.json()["snapshots_redacted"] == 1
    assert sue.get(f"/api/subjects/{subject_id}").status_code == 404
    assert not [p for p in (api.settings.data_dir / "media").rglob("*") if p.is_file()]


def _huge_png() -> bytes:
    # A valid PNG header announcing 30000 x 30000 pixels: refused before any decoding.
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")
    )


def test_camera_zone_is_drawn_checked_audited_and_frozen_while_deployed(api: Api, tmp_path: Path) -> None:
    folder = frame_folder(tmp_path / "frames", 2, 4)
    admin = logged_in(api, "root", "admin")
    operator = logged_in(api, "ann", "operator")
    camera_id = admin.post("/api/cameras", json={"name": "gate-1", "source": str(folder), "location": "north"}).json()[
        "id"
    ]
    url = f"/api/cameras/{camera_id}/zone"
    square = [[0.1, 0.1], [0.6, 0.1], [0.6, 0.6], [0.1, 0.6]]
    assert operator.put(url, json={"points": square}).status_code == 403
    for bad in ([[0.1, 0.1], [0.9, 0.9]], [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]], [[0, 0], [2, 0], [0, 1]]):
        refused = admin.put(url, json={"points": bad})
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "zone_invalid", refused.text
    assert admin.put("/api/cameras/nope/zone", json={"points": square}).status_code == 404
    drawn = admin.put(url, json={"points": square})
    assert drawn.status_code == 200 and drawn.json()["zone"] == square
    assert [c["zone"] for c in operator.get("/api/cameras").json()] == [square]
    services = api.app.state.ctx.services
    with services.store.db.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "camera.zone")).one()
        assert entry.actor == "user:root" and entry.target_id == camera_id
    # A deployment on the camera carries the zone to its pipeline, its record and its signage; the zone is frozen.
    enrol_subject(services.store, services.enroller.engine, 1, "alice")
    mandate = live_deployment(services.store, snapshot(services.store, services.enroller.engine), [camera_id])
    (grant,) = mandate.cameras
    assert grant.zone is not None and grant.zone.as_lists() == square
    frozen = admin.put(url, json={"points": None})
    assert frozen.status_code == 409 and "signposted" in frozen.json()["error"]["message"]
    record = operator.get(f"/api/deployments/{mandate.deployment_id}/record").json()
    assert record["camera_zones"] == [
        "gate-1 (north): recognition limited to a 4-sided area covering 25% of the camera's view"
    ]
    end_live(services.store, mandate.deployment_id)
    cleared = admin.put(url, json={"points": None})
    assert cleared.status_code == 200 and cleared.json()["zone"] is None
