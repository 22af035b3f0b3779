"""The deployment record: the fields the Met publishes for each LFR deployment, from the database.

The alert categories and how they survive the purge are defined in ``openlfr.deployments.figures``.
``faces_seen`` is the number of distinct faces that passed the cameras (tracks), as forces publish it;
``detections`` (a face counted in every frame it was found in) is kept as a second figure.
``false_alert_rate`` is the Met's figure: false alerts divided by faces seen (None when the pipeline's count
was not recorded); ``false_alert_share`` is false alerts divided by reviewed alerts.
"""

from __future__ import annotations

import html
import io
from dataclasses import asdict, dataclass
from typing import Any, Final

from sqlalchemy.orm import Session

from openlfr.csvsafe import SafeDictWriter
from openlfr.deployments.figures import alert_figures, faces_seen, get_counts
from openlfr.deployments.service import get_deployment
from openlfr.deployments.signoff import get_sign_off
from openlfr.reports.zones import zone_lines
from openlfr.utc import as_utc

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
    "subjects_under_18",
    "faces_seen",
    "detections",
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
    "camera_zones",
    "signed_off_by",
    "signed_off_at",
    "unreviewed_at_sign_off",
)


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
    subjects_under_18: int | None
    """children on the watchlist (from the composition the authorising supervisor was shown)"""
    faces_seen: int | None
    """distinct faces that passed the cameras (tracks)"""
    detections: int | None
    """face detections summed over frames (a second figure)"""
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
    camera_zones: tuple[str, ...]
    """per camera: where it is and the area of its view recognition ran in (``openlfr.reports.zones``)"""
    signed_off_by: str | None
    """the supervisor who signed off the record after the deployment (post-deployment review)"""
    signed_off_at: str | None
    sign_off_notes: str | None
    corrections: tuple[str, ...]
    unreviewed_at_sign_off: int | None
    """alerts nobody had decided when the record was signed off"""
    final: bool
    """True once the deployment has ended: its counts no longer change; alert categories change only when an
    officer's review of one of its alerts is recorded, and never by the purge"""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _iso(value: Any) -> str | None:
    return as_utc(value).isoformat(timespec="seconds") if value is not None else None


def build_record(session: Session, deployment_id: str) -> DeploymentRecord:
    deployment = get_deployment(session, deployment_id)
    t = alert_figures(session, deployment.id)
    review = get_sign_off(session, deployment.id)
    counts = get_counts(session, deployment.id)
    faces = faces_seen(session, deployment.id)
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
        subjects_under_18=(
            int(deployment.authorisation_composition["under_18"]) if deployment.authorisation_composition else None
        ),
        faces_seen=faces,
        detections=counts.detections if counts is not None else None,
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
        camera_zones=zone_lines(session, deployment.camera_ids),
        signed_off_by=review.by if review else None,
        signed_off_at=_iso(review.at) if review else None,
        sign_off_notes=review.notes if review else None,
        corrections=review.corrections if review else (),
        unreviewed_at_sign_off=len(review.unreviewed_alerts) if review else None,
        final=deployment.status == "ended",
    )


def to_csv(records: list[DeploymentRecord]) -> str:
    out = io.StringIO()
    writer = SafeDictWriter(out, COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({**record.as_dict(), "camera_zones": "; ".join(record.camera_zones)})
    return out.getvalue()


def _signed_off(record: DeploymentRecord) -> str:
    if record.signed_off_by is None:
        return "not yet"
    return (
        f"by {record.signed_off_by} at {record.signed_off_at} ({record.unreviewed_at_sign_off} alerts unreviewed): "
        f"{record.sign_off_notes}"
    )


def _count(value: int | None) -> str:
    return "not recorded" if value is None else f"{value:,}"


def _pct(value: float | None, digits: int = 4) -> str:
    return "not recorded" if value is None else f"{value * 100:.{digits}f} %"


PAGE_CSS: Final = """
body { font: 11pt/1.4 "DejaVu Sans", Arial, sans-serif; margin: 2em auto; max-width: 48em; color: #111; }
h1 { font-size: 1.5em; margin-bottom: 0.1em; } .sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: 1em 0; }
th, td { border: 1px solid #999; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
/* the record's two columns keep their widths: a 64-character fingerprint wraps instead of squeezing the labels */
table.record { table-layout: fixed; } table.record td { overflow-wrap: anywhere; }
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
        ("Subjects under 18 on the watchlist", _count(record.subjects_under_18)),
        ("Faces seen (distinct faces passing)", _count(record.faces_seen)),
        ("Face detections (all frames)", _count(record.detections)),
        ("Passers-by not examined (system overloaded)", _count(record.tracks_unexamined)),
        ("Alerts", str(record.alerts)),
        ("True alerts, confirmed", str(record.true_confirmed)),
        ("True alerts, unconfirmed", str(record.true_unconfirmed)),
        ("False alerts, confirmed", str(record.false_confirmed)),
        ("False alerts, unconfirmed", str(record.false_unconfirmed)),
        ("Not reviewed (pending or escalated)", str(record.unreviewed)),
        ("Engagements", str(record.engagements)),
        ("Arrests", str(record.arrests)),
        ("False-alert rate (of faces seen)", _pct(record.false_alert_rate)),
        ("False alerts (of reviewed alerts)", _pct(record.false_alert_share, 1)),
        ("Authorised by", f"{record.authorised_by or '-'} at {record.authorised_at or '-'}"),
        ("Watchlist snapshot", record.snapshot_fingerprint),
        ("Cameras and the areas they looked at", "; ".join(record.camera_zones) or "-"),
        ("Signed off after the deployment", _signed_off(record)),
    ]
    rows += [(f"Correction {i}", text) for i, text in enumerate(record.corrections, 1)]
    table = "\n".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
    status = "" if record.final else f'<p class="draft">Provisional: the deployment is {e(record.status)}.</p>'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Deployment record: {e(record.name)}</title>
<style>{PAGE_CSS}</style></head>
<body>
<h1>Live facial recognition deployment record</h1>
<p class="sub">{e(record.name)} &middot; {e(record.deployment_id)}</p>
{status}
<table class="record">
{table}
</table>
<p class="note">True/false: the reviewing officer's decision, as last amended; an alert confirmed and then found
to be someone else when the person was spoken to counts as false. Confirmed: the person was engaged by an officer.
The false-alert rate is false alerts divided by the number of faces seen (each person passing counts once).
No image or biometric data of anyone who was not on the watchlist was kept.</p>
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
