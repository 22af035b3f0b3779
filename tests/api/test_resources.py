"""Metrics and the watchlist/subject read routes on top of the watchlist store."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

import pytest

from openlfr.api.metrics import MetricFamily, Sample, render
from openlfr.watchlists.subjects import add_member, create_subject, create_watchlist
from openlfr.watchlists.types import Category, SubjectInfo
from tests.api.conftest import Api, build_api, make_settings
from tests.helpers.accounts import person


class Alerts:
    def count(self) -> int:
        return 7


class CameraStats:
    def collect(self) -> Iterable[MetricFamily]:
        yield MetricFamily("openlfr_camera_fps", "frames per second", "gauge", (Sample(12.5, {"camera": 'a"b'}),))


@pytest.fixture
def api_with_alerts(tmp_path: Path) -> Iterator[Api]:
    yield from build_api(make_settings(tmp_path), alerts=Alerts(), metric_sources=(CameraStats(),))


def test_metrics_text_format(api_with_alerts: Api) -> None:
    api = api_with_alerts
    api.user("root", "admin")
    api.user("ann", "operator")
    token = api.token("auditor", owner="root")
    response = api.client().get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    lines = response.text.splitlines()
    for expected in (
        "# TYPE openlfr_up gauge",
        "openlfr_up 1",
        'openlfr_users{role="admin"} 1',
        'openlfr_users{role="operator"} 1',
        'openlfr_users{role="auditor"} 0',
        'openlfr_api_tokens{role="auditor"} 1',
        "openlfr_alerts_total 7",
        'openlfr_camera_fps{camera="a\\"b"} 12.5',
    ):
        assert expected in lines, expected


def test_render_escapes_and_formats() -> None:
    text = render([MetricFamily("m", "help\nline", "counter", (Sample(float("inf"), {"k": "a\\b\n"}),))])
    assert text == '# HELP m help line\n# TYPE m counter\nm{k="a\\\\b\\n"} +Inf\n'


def test_watchlist_and_subject_routes(api: Api) -> None:
    with api.db.session() as session:
        watchlist = create_watchlist(session, "Hamilton", "demo list")
        subject = create_subject(
            session,
            SubjectInfo(
                external_ref="W-1",
                category=Category.WANTED_BY_COURTS,
                reason="warrant 123",
                image_source="custody",
                added_by="sgt",
                review_by=date(2026, 1, 1),
                display_name="Lin",
            ),
            by=person(session, "sgt", "supervisor"),
        )
        add_member(session, watchlist, subject)
        subject_id = subject.id
    headers = {"Authorization": f"Bearer {api.token('operator')}"}
    client = api.client()
    listed = client.get("/api/watchlists", headers=headers).json()
    assert [(w["name"], w["subjects"]) for w in listed] == [("Hamilton", 1)]
    detail = client.get("/api/watchlists/Hamilton", headers=headers).json()
    assert detail["members"][0]["id"] == subject_id
    assert detail["members"][0]["review_overdue"] is True  # the clock says 2026-11-26
    one = client.get(f"/api/subjects/{subject_id}", headers=headers).json()
    assert (one["external_ref"], one["reason"], one["watchlists"], one["images"]) == (
        "W-1",
        "warrant 123",
        ["Hamilton"],
        [],
    )
    assert one["created_at"].endswith("Z") or one["created_at"].endswith("+00:00")
