"""``lfr subject search --image``: every subject and alert whose face matches, then export and erasure."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import cv2
import pytest
from sqlalchemy import select

from openlfr.alerts.db_store import DbAlertStore
from openlfr.audit import iter_entries
from openlfr.config.loader import load_settings
from openlfr.store.alert_models import AlertRecord
from openlfr.store.context import open_store
from openlfr.store.models import Subject
from tests.deployments.helpers import alert_event
from tests.watchlists.helpers import face_image, fake_config, run_cli, write_face

pytestmark = pytest.mark.usefixtures("signed_in")


def _jpeg(seed: int, noise: int = 0) -> bytes:
    ok, data = cv2.imencode(".jpg", face_image(seed, noise=noise), [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return data.tobytes()


def test_search_finds_subjects_and_alerts_then_exports_and_erases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = fake_config(tmp_path)
    url = f"sqlite+pysqlite:///{tmp_path / 'lfr.db'}"

    def lfr(*args: str | Path) -> tuple[int, str, str]:
        result = run_cli(capsys, "--config", config, *args, "--db", url)
        return result.code, result.out, result.err

    code, _, err = lfr(
        "subject", "add", "REQ/1", "--image", write_face(tmp_path / "ref.png", 11), "--category", "witness",
        "--reason", "r", "--image-source", "other", "--image-source-note", "s", "--review-by", "2099-01-01",
    )  # fmt: skip
    assert code == 0, err
    settings = load_settings(config).model_copy(update={"database_url": url})
    with open_store(settings) as store:
        with store.db.session() as session:
            (subject_id,) = session.scalars(select(Subject.id))
        alerts = DbAlertStore(store.db, store.media, deployment_id="d" * 32)
        # A: the requester's face in the probe, no subject link; B: another face, linked to the subject;
        # C: someone else entirely.
        alerts.append(replace(alert_event("A", 1), subject_id=None, probe_jpeg=_jpeg(11, noise=3)))
        alerts.append(replace(alert_event("B", 1), subject_id=subject_id, probe_jpeg=_jpeg(5)))
        alerts.append(replace(alert_event("C", 1), subject_id="9" * 32, probe_jpeg=_jpeg(7)))
    photo = write_face(tmp_path / "photo.png", 11, noise=2)
    export = tmp_path / "sar"
    code, out, err = lfr("subject", "search", "--image", photo, "--threshold", "0.9", "--export", export, "--json")
    assert code == 0, err
    found = json.loads(out)
    assert [s["external_ref"] for s in found["subjects"]] == ["REQ/1"]
    by_id = {a["alert_id"]: a for a in found["alerts"]}
    assert set(by_id) == {"A", "B"}
    assert by_id["A"]["score"] > 0.9 and by_id["B"]["score"] is None
    records = json.loads((export / "records.json").read_text())
    assert records["subjects"][0]["reason"] == "r"
    assert sorted(p.name for p in export.glob("*.jpg")) == ["alert-A.jpg", "alert-B.jpg"]
    assert lfr("subject", "search", "--image", photo, "--threshold", "0.9", "--erase-alerts")[0] == 1  # needs --yes
    code, out, err = lfr(
        "subject", "search", "--image", photo, "--threshold", "0.9", "--erase-alerts", "--reason", "SAR erasure",
        "--yes", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["erased_alerts"] == 2
    with open_store(settings) as store, store.db.session() as session:
        assert list(session.scalars(select(AlertRecord.id))) == ["C"]
        actions = [r.action for r in iter_entries(session) if r.action.startswith(("subject.", "alert."))]
        assert actions[-4:] == ["subject.search", "subject.access_export", "subject.search", "alert.erase"]
        # The audit chain says a search ran and what it found, never the photo.
        (search, *_) = [r for r in iter_entries(session, action="subject.search")]
        assert search.details == {"faces_in_photo": 1, "threshold": 0.9, "subjects": 1, "alerts": 2}


def test_search_refuses_a_photo_without_a_face(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = fake_config(tmp_path)
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), face_image(1)[:50, :50] * 0)
    result = run_cli(capsys, "--config", config, "subject", "search", "--image", blank, "--threshold", "0.9")
    assert result.code == 1 and "no face found" in result.err
