"""Console enrolment in real Chromium with the real engine: uploading another person's photo for a subject says,
on the page, that it does not match the subject's other images and why; another photo of the same person does
not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from openlfr.config.models import Settings
from openlfr.engine import FaceEngine
from tests.api import conftest as api_conftest
from tests.api.conftest import PASSWORD, build_api, make_settings
from tests.helpers.data import shared_data
from tests.web.conftest import axe_violations, serve

pytestmark = [pytest.mark.browser, pytest.mark.model]

VERDICTS = "#subject-detail form ul li"


def upload(page: Any, path: Path) -> str:
    """Upload one image in the subject's upload form; the verdict line the page shows for it."""
    form = page.locator("#subject-detail form", has_text="Upload reference images")
    form.locator("input[type=file]").set_input_files(str(path))
    form.locator("button[type=submit]").click()
    # Submitting empties the list at once; the verdict arrives with the server's answer.
    page.wait_for_function("(s) => document.querySelectorAll(s).length === 1", arg=VERDICTS)
    return str(page.locator(VERDICTS).nth(0).text_content())


def test_the_console_warns_when_a_new_image_shows_someone_else(
    browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = FaceEngine.from_settings(Settings(cache_dir=tmp_path / "cache"))
    monkeypatch.setattr(api_conftest, "fake_engine_factory", lambda settings: lambda: engine)
    knn = shared_data() / "faces" / "knn"
    for api in build_api(make_settings(tmp_path)):
        client, csrf = api.session_client("sue", "supervisor")
        assert client.post("/api/watchlists", json={"name": "wl"}, headers=csrf).status_code == 201
        body = {
            "external_ref": "KIT-1",
            "display_name": "Kit Harington",
            "category": "wanted_by_courts",
            "reason": "warrant 1",
            "image_source": "custody_image",
            "review_by": "2030-01-01",
            "watchlist": "wl",
        }
        assert client.post("/api/subjects", json=body, headers=csrf).status_code == 201
        server = serve(api.app)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{server.url}/console/#watchlists")
            page.fill("#login-username", "sue")
            page.fill("#login-password", PASSWORD)
            page.keyboard.press("Enter")
            page.click("#nav-watchlists")
            page.click("#watchlist-list button")
            page.click("#watchlist-detail td button:text-is('Kit Harington')")
            first = upload(page, knn / "kit_harington" / "john1.jpeg")
            assert first.startswith("john1.jpeg: enrolled") and "Check it" not in first
            warned = upload(page, knn / "rose_leslie" / "img1.jpg")
            assert (
                warned.startswith("img1.jpg: enrolled") and "Check it: the face in this image does not match" in warned
            )
            assert "below the model's calibrated threshold" in warned
            assert "warn-box" in str(page.locator(VERDICTS).nth(0).get_attribute("class"))  # the list is a live region
            assert axe_violations(page) == []
            same = upload(page, knn / "kit_harington" / "john2.jpeg")
            assert same.startswith("john2.jpeg: enrolled") and "Check it" not in same
            page.close()
        finally:
            server.stop()
