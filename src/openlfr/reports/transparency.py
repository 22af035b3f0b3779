"""The transparency report: every deployment that started in a period, their records and totals, with two
charts (alerts per deployment by category; false-alert rate over time) as PNGs embedded in one HTML page.
Cancelled and never-started deployments are listed by count only (they ran no recognition)."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openlfr.optional import MissingExtraError, require
from openlfr.reports.deployment import PAGE_CSS, DeploymentRecord, build_record, to_csv
from openlfr.store.governance_models import Deployment


@dataclass(frozen=True, slots=True)
class TransparencyReport:
    period_from: datetime
    period_to: datetime
    records: tuple[DeploymentRecord, ...]
    not_run: dict[str, int]
    """deployments planned in the period that never went live, by status (draft, authorised, cancelled)"""

    def totals(self) -> dict[str, Any]:
        keys = (
            "alerts",
            "true_confirmed",
            "true_unconfirmed",
            "false_confirmed",
            "false_unconfirmed",
            "unreviewed",
            "engagements",
            "arrests",
        )
        totals: dict[str, Any] = {k: sum(getattr(r, k) for r in self.records) for k in keys}
        seen = [r.faces_seen for r in self.records if r.faces_seen is not None]
        totals["faces_seen"] = sum(seen) if seen else None
        false_alerts = totals["false_confirmed"] + totals["false_unconfirmed"]
        totals["false_alert_rate"] = false_alerts / totals["faces_seen"] if totals["faces_seen"] else None
        totals["deployments"] = len(self.records)
        totals["signed_off"] = sum(r.signed_off_by is not None for r in self.records)
        return totals

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.period_from.isoformat(),
            "to": self.period_to.isoformat(),
            "deployments": [r.as_dict() for r in self.records],
            "totals": self.totals(),
            "not_run": self.not_run,
        }


def build_transparency(session: Session, period_from: datetime, period_to: datetime) -> TransparencyReport:
    window = (Deployment.planned_start >= period_from, Deployment.planned_start < period_to)
    ran = session.scalars(
        select(Deployment.id)
        .where(*window, Deployment.status.in_(("live", "ended")))
        .order_by(Deployment.planned_start)
    )
    records = tuple(build_record(session, deployment_id) for deployment_id in ran)
    not_run = {
        str(status): int(count)
        for status, count in session.execute(
            select(Deployment.status, func.count())
            .where(*window, Deployment.status.in_(("draft", "authorised", "cancelled")))
            .group_by(Deployment.status)
        )
    }
    return TransparencyReport(period_from, period_to, records, not_run)


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


NAME_CHARS = 28
MIN_BAR_SLOTS = 4
"""the x axis has room for at least this many bars, so that one or two deployments are not drawn as walls"""


def alerts_figure(records: Sequence[DeploymentRecord]) -> Any:
    """Stacked bars of each deployment's alerts by category, the legend beside the axes (never over a bar),
    whole numbers on the count axis. Needs matplotlib (the caller checks)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    labels = [f"{r.date}\n{r.name if len(r.name) <= NAME_CHARS else r.name[: NAME_CHARS - 1] + '…'}" for r in records]
    figure = Figure(figsize=(7.5, 3.4), layout="constrained")
    ax = figure.subplots()
    bottom = [0] * len(records)
    series = (
        ("true_confirmed", "true, confirmed", "#1b7837"),
        ("true_unconfirmed", "true, unconfirmed", "#7fbf7b"),
        ("false_confirmed", "false, confirmed", "#b2182b"),
        ("false_unconfirmed", "false, unconfirmed", "#ef8a62"),
        ("unreviewed", "not reviewed", "#bbbbbb"),
    )
    for key, label, colour in series:
        values = [getattr(r, key) for r in records]
        ax.bar(range(len(records)), values, bottom=bottom, width=0.6, label=label, color=colour)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xticks(range(len(records)), labels, fontsize=7)
    ax.set_xlim(-0.6, max(len(records), MIN_BAR_SLOTS) - 0.4)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("alerts")
    ax.set_title("Alerts per deployment")
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return figure


def charts(report: TransparencyReport) -> dict[str, str]:
    """Base64 PNGs: ``alerts`` (stacked bars per deployment) and ``false_alert_rate`` (over time).
    MissingExtraError without matplotlib (the ``eval`` extra)."""
    matplotlib = require("matplotlib", extra="eval", purpose="the transparency report's charts")
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    records = report.records
    out = {"alerts": _png(alerts_figure(records))}

    figure = Figure(figsize=(7.5, 3.0))
    ax = figure.subplots()
    dated = [(r.date, r.false_alert_rate) for r in records if r.false_alert_rate is not None]
    if dated:
        ax.plot([d for d, _ in dated], [rate * 100 for _, rate in dated], marker="o", color="#b2182b")
    else:
        ax.text(0.5, 0.5, "no deployment with faces counted", ha="center", va="center", transform=ax.transAxes)
    ax.set_ylabel("false alerts / faces seen (%)")
    ax.set_title("False-alert rate over time")
    ax.tick_params(axis="x", labelsize=7)
    out["false_alert_rate"] = _png(figure)
    return out


def _chart_html(report: TransparencyReport) -> str:
    """The two charts, or (without the ``eval`` extra) a note: the table above carries every figure either way."""
    try:
        images = charts(report)
    except MissingExtraError as exc:
        return f'<p class="note">Charts not drawn: {html.escape(str(exc))}.</p>'
    return (
        f'<img alt="Alerts per deployment" src="data:image/png;base64,{images["alerts"]}" style="max-width:100%">\n'
        f'<img alt="False-alert rate over time" src="data:image/png;base64,{images["false_alert_rate"]}" '
        'style="max-width:100%">'
    )


def to_html(report: TransparencyReport) -> str:
    e = html.escape
    totals = report.totals()
    figures = _chart_html(report)
    header = "".join(
        f"<th>{e(h)}</th>"
        for h in (
            "Date",
            "Location",
            "Use case",
            "Threshold",
            "Faces seen",
            "Alerts",
            "True",
            "False",
            "Arrests",
            "Signed off",
        )
    )
    rows = "\n".join(
        "<tr>"
        + "".join(
            f"<td>{e(str(v))}</td>"
            for v in (
                r.date,
                r.location,
                r.use_case,
                f"{r.threshold:.3f}",
                "-" if r.faces_seen is None else f"{r.faces_seen:,}",
                r.alerts,
                r.true_confirmed + r.true_unconfirmed,
                r.false_confirmed + r.false_unconfirmed,
                r.arrests,
                "yes" if r.signed_off_by is not None else "not yet",
            )
        )
        + "</tr>"
        for r in report.records
    )
    rate = totals["false_alert_rate"]
    seen = "unknown" if totals["faces_seen"] is None else f"{totals['faces_seen']:,}"
    not_run = ", ".join(f"{n} {s}" for s, n in sorted(report.not_run.items())) or "none"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LFR transparency report</title>
<style>{PAGE_CSS} th {{ width: auto; }} table {{ font-size: 0.9em; }} body {{ max-width: 60em; }}
td:first-child {{ white-space: nowrap; }} /* a date never breaks at its hyphen */</style></head>
<body>
<h1>Live facial recognition transparency report</h1>
<p class="sub">{e(report.period_from.date().isoformat())} to {e(report.period_to.date().isoformat())}</p>
<p>{totals["deployments"]} deployment{"" if totals["deployments"] == 1 else "s"}; {seen}
faces seen; {totals["alerts"]} alerts ({totals["true_confirmed"] + totals["true_unconfirmed"]} true,
{totals["false_confirmed"] + totals["false_unconfirmed"]} false, {totals["unreviewed"]} not reviewed);
{totals["engagements"]} engagements; {totals["arrests"]} arrests; false-alert rate
{"not recorded" if rate is None else f"{rate * 100:.4f} %"} of faces seen.
Planned but not run: {e(not_run)}. Records signed off after review: {totals["signed_off"]} of
{totals["deployments"]}.</p>
<table><tr>{header}</tr>
{rows}
</table>
{figures}
<p class="note">Per-deployment records with every published field: <code>lfr report deployment ID</code>.</p>
</body></html>
"""


def render_transparency(report: TransparencyReport, fmt: str) -> str:
    import json

    if fmt == "json":
        return json.dumps(report.as_dict(), indent=2) + "\n"
    if fmt == "csv":
        return to_csv(list(report.records))
    if fmt == "html":
        return to_html(report)
    raise ValueError(f"unknown format {fmt!r}")
