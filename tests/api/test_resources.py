"""Metrics and the watchlist/subject read routes on top of the watchlist store."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily, Metric

from openlfr.alerts.sinks import AlertBus
from openlfr.watchlists.subjects import add_member, create_subject, create_watchlist
from openlfr.watchlists.types import Category, SubjectInfo
from tests.api.conftest import Api, build_api, make_settings
from tests.helpers.accounts import person


class Alerts:
    def count(self) -> int:
        return 7


class CameraStats:
    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily("openlfr_camera_fps", "frames per second", labels=["camera"])
        family.add_metric(['a"b\\c\nd'], 12.5)
        yield family


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
        "openlfr_up 1.0",
        'openlfr_users{role="admin"} 1.0',
        'openlfr_users{role="operator"} 1.0',
        'openlfr_users{role="auditor"} 0.0',
        'openlfr_api_tokens{role="auditor"} 1.0',
        "# TYPE openlfr_alerts_total counter",
        "openlfr_alerts_total 7.0",
        'openlfr_camera_fps{camera="a\\"b\\\\c\\nd"} 12.5',  # label values escaped
    ):
        assert expected in lines, expected
    # The app's own registry: none of the library's global process or GC series.
    assert not any(line.startswith(("process_", "python_")) for line in lines)


def test_alerts_total_counts_what_the_bus_carried_without_a_counter(api: Api) -> None:
    """`lfr serve` gives the API no alert counter: every stored alert passes its bus, which counts them."""
    bus = api.app.state.ctx.services.bus
    assert isinstance(bus, AlertBus)
    token = api.token("admin")

    def scrape() -> list[str]:
        return api.client().get("/metrics", headers={"Authorization": f"Bearer {token}"}).text.splitlines()

    assert "openlfr_alerts_total 0.0" in scrape()
    bus.push({"alert_id": "a"})
    bus.push({"alert_id": "b"})
    assert "openlfr_alerts_total 2.0" in scrape()


def test_the_app_has_its_own_registry(api: Api) -> None:
    assert api.app.state.metrics is not REGISTRY  # the global one also collects process and GC series


def test_watchlist_and_subject_routes(api: Api) -> None:
    with api.db.session() as session:
        sgt = person(session, "sgt", "supervisor")
        watchlist = create_watchlist(session, "Hamilton", "demo list", by=sgt)
        subject = create_subject(
            session,
            SubjectInfo(
                external_ref="W-1",
                category=Category.WANTED_BY_COURTS,
                reason="warrant 123",
                image_source="custody_image",
                added_by="sgt",
                review_by=date(2026, 1, 1),
                display_name="Lin",
            ),
            by=sgt,
            today=date(2025, 12, 1),  # entered a year before the server's clock (2026-11-26)
        )
        add_member(session, watchlist, subject, by=sgt)
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
