"""A subject's new reference image is compared with its other images by the real engine (YuNet + SFace) on real
photos: another person's face (Rose Leslie enrolled for the subject "Kit Harington", as found in the console)
is enrolled with a warning that says why, audited with who enrolled it; another photo of the same person is not
warned about. In the domain, over the API and in the CLI."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import yaml

from openlfr.audit import iter_entries
from openlfr.config.models import Settings
from openlfr.engine import FaceEngine
from openlfr.store.context import Store, open_store
from openlfr.watchlists.enrol import Enroller, EnrolRequest, calibrated_threshold
from openlfr.watchlists.types import Category, Outcome, SubjectInfo
from tests.api import conftest as api_conftest
from tests.api.conftest import Api, build_api, make_settings
from tests.helpers.accounts import person
from tests.helpers.data import shared_data
from tests.watchlists.helpers import run_cli

pytestmark = pytest.mark.model


def kit(name: str) -> Path:
    return shared_data() / "faces" / "knn" / "kit_harington" / name


def rose(name: str) -> Path:
    return shared_data() / "faces" / "knn" / "rose_leslie" / name


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> FaceEngine:
    return FaceEngine.from_settings(Settings(cache_dir=tmp_path_factory.mktemp("cache")))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(Settings(data_dir=tmp_path / "var")) as opened:
        yield opened


INFO = SubjectInfo(
    "KIT-1", Category.WANTED_BY_COURTS, "warrant 1", "custody_image", "sue", date(2030, 1, 1), "Kit Harington"
)


def enrol(store: Store, engine: FaceEngine, path: Path) -> object:
    with store.db.session() as session:
        by = person(session, "sue", "supervisor")
    request = EnrolRequest("KIT-1", path.read_bytes(), path.name, info=INFO, by=by)
    return Enroller(store, engine, 0.9).enrol(request)


def test_another_persons_image_is_enrolled_with_a_warning_that_says_why(store: Store, engine: FaceEngine) -> None:
    threshold = calibrated_threshold(engine.contract)
    assert threshold is not None  # the bundled SFace model is calibrated
    first = enrol(store, engine, kit("john1.jpeg"))
    assert first.outcome is Outcome.ENROLLED and first.warning is None  # nothing to compare with yet
    same = enrol(store, engine, kit("john2.jpeg"))
    assert same.outcome is Outcome.ENROLLED and same.warning is None
    other = enrol(store, engine, rose("img1.jpg"))
    assert other.outcome is Outcome.ENROLLED and other.warning is not None
    warning = other.warning
    assert warning.code == "subject_images_differ" and warning.compared == 2 and warning.threshold == threshold
    assert warning.best_score < threshold and warning.closest_image in {"john1.jpeg", "john2.jpeg"}
    assert "does not match the subject's 2 other image(s)" in warning.detail
    assert f"{warning.best_score:.3f}" in warning.detail and f"{threshold:.3f}" in warning.detail
    # A third photo of Kit still matches (his own images), so it is not warned about.
    assert enrol(store, engine, kit("johnsnow_test1.jpg")).warning is None
    with store.db.session() as session:
        entries = [e for e in iter_entries(session) if e.action == "subject.image.mismatch"]
    assert len(entries) == 1 and entries[0].actor == "user:sue"
    assert set(entries[0].details) == {"image_id", "code", "best_score", "threshold", "compared", "closest_image"}


def test_the_api_and_the_cli_report_the_warning(
    tmp_path: Path, engine: FaceEngine, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The API's uploads go through the real engine here (the API tests' default is the fake one).
    monkeypatch.setattr(api_conftest, "fake_engine_factory", lambda settings: lambda: engine)
    for api in build_api(make_settings(tmp_path / "api")):
        check_api(api)
    config = tmp_path / "lfr.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "var"), "cache_dir": str(tmp_path / "cache")}))
    meta = ("--category", "wanted_by_courts", "--reason", "warrant", "--image-source", "custody_image")
    added = run_cli(capsys, "--config", config, "subject", "add", "KIT-1", "--image", kit("john1.jpeg"), *meta)
    assert added.code == 0
    mixed = run_cli(capsys, "--config", config, "subject", "update", "KIT-1", "--image", rose("img2.jpg"))
    assert mixed.code == 0
    assert "WARNING subject_images_differ: the face in this image does not match" in mixed.out
    same = run_cli(capsys, "--config", config, "subject", "update", "KIT-1", "--image", kit("john2.jpeg"), "--json")
    assert same.code == 0 and same.json()["images"][0]["warning"] is None


def check_api(api: Api) -> None:
    client, csrf = api.session_client("sue", "supervisor")
    body = {
        "external_ref": "KIT-1",
        "display_name": "Kit Harington",
        "category": "wanted_by_courts",
        "reason": "warrant 1",
        "image_source": "custody_image",
        "review_by": "2030-01-01",
    }
    subject = client.post("/api/subjects", json=body, headers=csrf).json()

    def upload(path: Path) -> dict[str, object]:
        files = {"file": (path.name, path.read_bytes(), "image/jpeg")}
        answer = client.post(f"/api/subjects/{subject['id']}/images", files=files, headers=csrf)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    assert upload(kit("john1.jpeg"))["warning"] is None
    warned = upload(rose("img1.jpg"))
    assert warned["outcome"] == "enrolled" and isinstance(warned["warning"], dict)
    assert warned["warning"]["code"] == "subject_images_differ" and warned["warning"]["closest_image"] == "john1.jpeg"
    assert upload(kit("john2.jpeg"))["warning"] is None
    with api.db.session() as session:
        actors = [e.actor for e in iter_entries(session) if e.action == "subject.image.mismatch"]
    assert actors == ["user:sue"]


def test_a_bulk_import_lists_the_images_that_may_show_someone_else(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in" / "KIT-1"
    folder.mkdir(parents=True)
    # Read in name order: Kit twice, then Rose filed under Kit.
    for name, source in (("a.jpeg", kit("john1.jpeg")), ("b.jpeg", kit("john2.jpeg")), ("c.jpg", rose("img1.jpg"))):
        shutil.copyfile(source, folder / name)
    config = tmp_path / "lfr.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "var"), "cache_dir": str(tmp_path / "cache")}))
    meta = ("--category", "witness", "--reason", "test", "--image-source", "custody_image")
    result = run_cli(capsys, "--config", config, "watchlist", "import", "wl", tmp_path / "in", *meta, "--json")
    assert result.code == 0 and result.json()["enrolled"] == 3
    warnings = result.json()["warnings"]
    assert [(w["source"].rsplit("/", 1)[-1], w["subject_ref"], w["code"]) for w in warnings] == [
        ("c.jpg", "KIT-1", "subject_images_differ")
    ]
    assert "does not match the subject's 2 other image(s)" in warnings[0]["detail"]
