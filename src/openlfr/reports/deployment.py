"""The deployment record: the fields the Met publishes for each LFR deployment, from the database.

Alert categories (docs/GOVERNANCE.md says how they map onto the review in the console):

- an alert is *true* when the reviewing officer confirmed it, *false* when they rejected it; pending and
  escalated alerts are counted as ``unreviewed``;
- it is *confirmed* when an officer engaged the person (outcome ``spoken_to``, ``arrested`` or ``no_action``),
  *unconfirmed* otherwise (no outcome, or ``not_located``).

``false_alert_rate`` is the Met's figure: false alerts divided by faces seen (None when the pipeline's face
count was not recorded); ``false_alert_share`` is false alerts divided by reviewed alerts.
"""

from __future__ import annotations

import csv
import html
import io
from dataclasses import asdict, dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.audit.chain import as_utc
from openlfr.deployments.service import get_counts, get_deployment
from openlfr.store.alert_models import AlertRecord

ENGAGED: Final = frozenset({"spoken_to", "arrested", "no_action"})

COLUMNS: Final = (
    "deployment_id",
    "name",
    "status",
    "date",
    "location",
    "use_case",
    "start",
    "end",
    "threshold",
    "threshold_override",
    "watchlist_size",
    "faces_seen",
    "tracks_unexamined",
    "alerts",
    "true_confirmed",
    "true_unconfirmed",
    "false_confirmed",
    "false_unconfirmed",
    "unreviewed",
    "engagements",
    "arrests",
    "false_alert_rate",
    "false_alert_share",
    "authorised_by",
    "authorised_at",
    "snapshot_fingerprint",
)


@dataclass(frozen=True, slots=True)
class AlertTally:
    alerts: int = 0
    true_confirmed: int = 0
    true_unconfirmed: int = 0
    false_confirmed: int = 0
    false_unconfirmed: int = 0
    unreviewed: int = 0
    engagements: int = 0
    arrests: int = 0


def tally(rows: list[tuple[str, str | None]]) -> AlertTally:
    """(status, outcome) of each alert → the published categories."""
    counts = dict.fromkeys(AlertTally.__dataclass_fields__, 0)
    for status, outcome in rows:
        counts["alerts"] += 1
        engaged = outcome in ENGAGED
        counts["engagements"] += engaged
        counts["arrests"] += outcome == "arrested"
        if status == "confirmed":
            counts["true_confirmed" if engaged else "true_unconfirmed"] += 1
        elif status == "rejected":
            counts["false_confirmed" if engaged else "false_unconfirmed"] += 1
        else:
            counts["unreviewed"] += 1
    return AlertTally(**counts)


@dataclass(frozen=True, slots=True)
class DeploymentRecord:
    deployment_id: str
    name: str
    status: str
    date: str
    location: str
    use_case: str
    start: str | None
    end: str | None
    threshold: float
    threshold_override: str | None
    watchlist_size: int
    faces_seen: int | None
    tracks_unexamined: int | None
    """passers-by with a usable face that the system had no time to check (None: not recorded)"""
    alerts: int
    true_confirmed: int
    true_unconfirmed: int
    false_confirmed: int
    false_unconfirmed: int
    unreviewed: int
    engagements: int
    arrests: int
    false_alert_rate: float | None
    false_alert_share: float | None
    authorised_by: str | None
    authorised_at: str | None
    snapshot_fingerprint: str
    final: bool
    """True once the deployment has ended (the figures no longer change except by review)"""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _iso(value: Any) -> str | None:
    return as_utc(value).isoformat(timespec="seconds") if value is not None else None


def build_record(session: Session, deployment_id: str) -> DeploymentRecord:
    deployment = get_deployment(session, deployment_id)
    rows = [
        (str(status), outcome)
        for status, outcome in session.execute(
            select(AlertRecord.status, AlertRecord.outcome).where(AlertRecord.deployment_id == deployment.id)
        )
    ]
    t = tally(rows)
    counts = get_counts(session, deployment.id)
    faces = counts.faces if counts is not None else None
    false_alerts = t.false_confirmed + t.false_unconfirmed
    reviewed = t.alerts - t.unreviewed
    start = deployment.started_at or deployment.planned_start
    override = (
        f"{deployment.threshold_override_by}: {deployment.threshold_override_reason}"
        if deployment.threshold_override_by
        else None
    )
    return DeploymentRecord(
        deployment_id=deployment.id,
        name=deployment.name,
        status=deployment.status,
        date=as_utc(start).date().isoformat(),
        location=deployment.location,
        use_case=deployment.use_case,
        start=_iso(start),
        end=_iso(deployment.ended_at or deployment.planned_end),
        threshold=deployment.threshold,
        threshold_override=override,
        watchlist_size=deployment.watchlist_size,
        faces_seen=faces,
        tracks_unexamined=counts.tracks_unexamined if counts is not None else None,
        alerts=t.alerts,
        true_confirmed=t.true_confirmed,
        true_unconfirmed=t.true_unconfirmed,
        false_confirmed=t.false_confirmed,
        false_unconfirmed=t.false_unconfirmed,
        unreviewed=t.unreviewed,
        engagements=t.engagements,
        arrests=t.arrests,
        false_alert_rate=(false_alerts / faces) if faces else None,
        false_alert_share=(false_alerts / reviewed) if reviewed else None,
        authorised_by=deployment.authorised_by,
        authorised_at=_iso(deployment.authorised_at),
        snapshot_fingerprint=deployment.snapshot_fingerprint,
        final=deployment.status == "ended",
    )


def to_csv(records: list[DeploymentRecord]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow(record.as_dict())
    return out.getvalue()


def _pct(value: float | None, digits: int = 4) -> str:
    return "not recorded" if value is None else f"{value * 100:.{digits}f} %"


PAGE_CSS: Final = """
body { font: 11pt/1.4 "DejaVu Sans", Arial, sans-serif; margin: 2em auto; max-width: 48em; color: #111; }
h1 { font-size: 1.5em; margin-bottom: 0.1em; } .sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: 1em 0; }
th, td { border: 1px solid #999; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #eee; width: 40%; } .num { text-align: right; font-variant-numeric: tabular-nums; }
.note { font-size: 0.85em; color: #444; } .draft { color: #a00; font-weight: bold; }
@media print { body { margin: 0; max-width: none; } }
"""


def to_html(record: DeploymentRecord) -> str:
    e = html.escape
    rows: list[tuple[str, str]] = [
        ("Date", record.date),
        ("Location", record.location),
        ("Use case", record.use_case),
        ("Start", record.start or ""),
        ("End", record.end or ""),
        (
            "Threshold",
            f"{record.threshold:.3f}"
            + (f" (override: {record.threshold_override})" if record.threshold_override else ""),
        ),
        ("Watchlist size", f"{record.watchlist_size} templates"),
        ("Faces seen", "not recorded" if record.faces_seen is None else f"{record.faces_seen:,}"),
        (
            "Passers-by not examined (system overloaded)",
            "not recorded" if record.tracks_unexamined is None else f"{record.tracks_unexamined:,}",
        ),
        ("Alerts", str(record.alerts)),
        ("True alerts, confirmed", str(record.true_confirmed)),
        ("True alerts, unconfirmed", str(record.true_unconfirmed)),
        ("False alerts, confirmed", str(record.false_confirmed)),
        ("False alerts, unconfirmed", str(record.false_unconfirmed)),
        ("Not yet reviewed", str(record.unreviewed)),
        ("Engagements", str(record.engagements)),
        ("Arrests", str(record.arrests)),
        ("False-alert rate (of faces seen)", _pct(record.false_alert_rate)),
        ("False alerts (of reviewed alerts)", _pct(record.false_alert_share, 1)),
        ("Authorised by", f"{record.authorised_by or '-'} at {record.authorised_at or '-'}"),
        ("Watchlist snapshot", record.snapshot_fingerprint),
    ]
    table = "\n".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
    status = "" if record.final else f'<p class="draft">Provisional: the deployment is {e(record.status)}.</p>'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Deployment record: {e(record.name)}</title>
<style>{PAGE_CSS}</style></head>
<body>
<h1>Live facial recognition deployment record</h1>
<p class="sub">{e(record.name)} &middot; {e(record.deployment_id)}</p>
{status}
<table>
{table}
</table>
<p class="note">True/false: the reviewing officer's decision. Confirmed: the person was engaged by an officer.
The false-alert rate is false alerts divided by the number of faces the system saw. No image or biometric data
of anyone who was not on the watchlist was kept.</p>
</body></html>
"""


def render_record(record: DeploymentRecord, fmt: str) -> tuple[str, str]:
    """(body, media type) of the record as ``json``, ``csv`` or ``html``."""
    import json

    if fmt == "json":
        return json.dumps(record.as_dict(), indent=2) + "\n", "application/json"
    if fmt == "csv":
        return to_csv([record]), "text/csv; charset=utf-8"
    if fmt == "html":
        return to_html(record), "text/html; charset=utf-8"
    raise ValueError(f"unknown format {fmt!r}")
