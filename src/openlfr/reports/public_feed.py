"""The public notice feed: planned and past deployments as the public may see them, without personal data.

Published: every deployment that is authorised at its current revision and is not a draft, i.e. authorised
(planned), live, ended, or cancelled after authorisation. A draft — and a draft's unauthorised changes — never
appears. What is left out on purpose:

- officers' names and account names (creator, authoriser, threshold override, who recorded the signs): they
  are personal data, and the public record names the organisation, not its people;
- the justification, the authorisation text and the end reason: free text for internal review that may name
  people or intelligence;
- camera ids and the watchlist snapshot id and fingerprint (internal identifiers).

Figures (faces seen, alerts by category, arrests, false-alert rate) come from the deployment record
(``openlfr.reports.deployment``) once a deployment has started.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.audit.chain import iso_utc
from openlfr.config.governance import GovernanceConfig
from openlfr.deployments.notice import list_placements
from openlfr.deployments.service import is_authorised
from openlfr.reports.deployment import PAGE_CSS, build_record
from openlfr.reports.notice import PUBLIC_RECORD_PATH, format_window, record_url
from openlfr.store.errors import NotFoundError
from openlfr.store.governance_models import Deployment

PUBLIC_STATUS: Final = {"authorised": "planned", "live": "live", "ended": "ended", "cancelled": "cancelled"}


@dataclass(frozen=True, slots=True)
class PublicPlacement:
    location: str
    placed_at: str


@dataclass(frozen=True, slots=True)
class PublicFigures:
    faces_seen: int | None
    alerts: int
    true_confirmed: int
    true_unconfirmed: int
    false_confirmed: int
    false_unconfirmed: int
    unreviewed: int
    engagements: int
    arrests: int
    false_alert_rate: float | None
    final: bool


@dataclass(frozen=True, slots=True)
class PublicDeployment:
    id: str
    name: str
    status: str
    """planned, live, ended or cancelled"""
    location: str
    latitude: float | None
    longitude: float | None
    planned_start: str
    planned_end: str
    started_at: str | None
    ended_at: str | None
    use_case: str
    purpose: str
    legal_basis: str
    watchlist_size: int
    threshold: float
    authorised_at: str | None
    signage: tuple[PublicPlacement, ...]
    figures: PublicFigures | None
    """None until the deployment has started"""
    links: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_published(deployment: Deployment) -> bool:
    return deployment.status in PUBLIC_STATUS and is_authorised(deployment)


def _when(value: datetime | None) -> str | None:
    return iso_utc(value) if value is not None else None


def _links(deployment_id: str, config: GovernanceConfig) -> dict[str, str]:
    record = PUBLIC_RECORD_PATH.format(id=deployment_id)
    links = {"record": record, "record_json": f"{record}?format=json"}
    if not config.notice.missing():
        for kind in ("signage", "leaflet"):
            for fmt in ("pdf", "html"):
                links[f"{kind}_{fmt}"] = f"{record}/{kind}?format={fmt}"
    if config.notice.public_base_url is not None:
        links["public_url"] = record_url(config.notice.public_base_url, deployment_id)
    return links


def _figures(session: Session, deployment: Deployment) -> PublicFigures | None:
    if deployment.started_at is None:
        return None
    r = build_record(session, deployment.id)
    return PublicFigures(
        faces_seen=r.faces_seen,
        alerts=r.alerts,
        true_confirmed=r.true_confirmed,
        true_unconfirmed=r.true_unconfirmed,
        false_confirmed=r.false_confirmed,
        false_unconfirmed=r.false_unconfirmed,
        unreviewed=r.unreviewed,
        engagements=r.engagements,
        arrests=r.arrests,
        false_alert_rate=r.false_alert_rate,
        final=r.final,
    )


def public_deployment(session: Session, deployment: Deployment, config: GovernanceConfig) -> PublicDeployment:
    placements = tuple(
        PublicPlacement(p.location, iso_utc(p.placed_at)) for p in list_placements(session, deployment.id)
    )
    return PublicDeployment(
        id=deployment.id,
        name=deployment.name,
        status=PUBLIC_STATUS[deployment.status],
        location=deployment.location,
        latitude=deployment.latitude,
        longitude=deployment.longitude,
        planned_start=iso_utc(deployment.planned_start),
        planned_end=iso_utc(deployment.planned_end),
        started_at=_when(deployment.started_at),
        ended_at=_when(deployment.ended_at),
        use_case=deployment.use_case,
        purpose=deployment.purpose,
        legal_basis=deployment.legal_basis,
        watchlist_size=deployment.watchlist_size,
        threshold=deployment.threshold,
        authorised_at=_when(deployment.authorised_at),
        signage=placements,
        figures=_figures(session, deployment),
        links=_links(deployment.id, config),
    )


def published_deployment(session: Session, deployment_id: str) -> Deployment:
    """The deployment if the public may see it; NotFoundError otherwise (a draft's existence is not told)."""
    deployment = session.get(Deployment, deployment_id)
    if deployment is None or not is_published(deployment):
        raise NotFoundError(f"no published deployment {deployment_id!r}")
    return deployment


def public_feed(session: Session, config: GovernanceConfig) -> list[PublicDeployment]:
    """Every published deployment, the latest planned start first."""
    rows = session.scalars(
        select(Deployment)
        .where(Deployment.status.in_(tuple(PUBLIC_STATUS)))
        .order_by(Deployment.planned_start.desc(), Deployment.created_at.desc())
    )
    return [public_deployment(session, d, config) for d in rows if is_published(d)]


# -- rendering ---------------------------------------------------------------------------------------------


def feed_json(items: list[PublicDeployment], config: GovernanceConfig, now: datetime) -> str:
    notice = config.notice
    payload = {
        "organisation": notice.contact.organisation,
        "generated_at": iso_utc(now),
        "timezone": notice.timezone,
        "deployments": [item.as_dict() for item in items],
    }
    return json.dumps(payload, indent=2) + "\n"


def _window(item: PublicDeployment, zone: str) -> str:
    return format_window(datetime.fromisoformat(item.planned_start), datetime.fromisoformat(item.planned_end), zone)


def _downloads(item: PublicDeployment) -> str:
    e = html.escape
    names = (
        ("signage_pdf", "sign (PDF, A3)"),
        ("signage_html", "sign (web page)"),
        ("leaflet_pdf", "leaflet (PDF, A5)"),
        ("leaflet_html", "leaflet (web page)"),
    )
    found = [f'<a href="{e(item.links[key])}">{e(label)}</a>' for key, label in names if key in item.links]
    return " · ".join(found) if found else "not available"


def _figures_text(figures: PublicFigures | None) -> str:
    if figures is None:
        return "not started"
    seen = "not recorded" if figures.faces_seen is None else f"{figures.faces_seen:,}"
    false_alerts = figures.false_confirmed + figures.false_unconfirmed
    true_alerts = figures.true_confirmed + figures.true_unconfirmed
    text = (
        f"faces seen {seen}; alerts {figures.alerts} (true {true_alerts}, false {false_alerts}, "
        f"not reviewed {figures.unreviewed}); arrests {figures.arrests}"
    )
    return text if figures.final else text + " (provisional)"


FEED_CSS: Final = (
    PAGE_CSS
    + """
body { max-width: 64em; } th { width: auto; } .status { text-transform: capitalize; font-weight: bold; }
"""
)


def _page(title: str, body: str) -> str:
    e = html.escape
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>
<style>{FEED_CSS}</style></head>
<body>
{body}
</body></html>
"""


def _contact_note(config: GovernanceConfig) -> str:
    e = html.escape
    notice = config.notice
    organisation = notice.contact.organisation or "the operator of this service"
    channels = "; ".join(f"{label}: {value}" for label, value in notice.contact.channels())
    sar = "; ".join(f"{label}: {value}" for label, value in notice.subject_access.channels())
    text = f'<p class="note">Published by {e(organisation)}.'
    if channels:
        text += f" Contact: {e(channels)}."
    if sar:
        text += f" To ask for the data held about you: {e(sar)}."
    return text + " Nobody's image or biometric data is shown here.</p>"


def feed_html(items: list[PublicDeployment], config: GovernanceConfig) -> str:
    e = html.escape
    zone = config.notice.timezone
    rows = "\n".join(
        f'<tr><td class="status">{e(item.status)}</td>'
        f'<td><a href="{e(item.links["record"])}">{e(item.name)}</a><br>{e(item.location)}</td>'
        f"<td>{e(_window(item, zone))}</td><td>{e(item.use_case)}</td>"
        f"<td>{e(_figures_text(item.figures))}</td><td>{_downloads(item)}</td></tr>"
        for item in items
    )
    table = (
        "<table><tr><th>Status</th><th>Deployment</th><th>When</th><th>Use case</th><th>Results</th>"
        f"<th>Signs and leaflets</th></tr>\n{rows}\n</table>"
        if items
        else "<p>No deployment is planned or has taken place.</p>"
    )
    body = f"<h1>Live facial recognition deployments</h1>\n{table}\n{_contact_note(config)}"
    return _page("Live facial recognition deployments", body)


def record_html(item: PublicDeployment, config: GovernanceConfig) -> str:
    e = html.escape
    zone = config.notice.timezone
    fields: list[tuple[str, str]] = [
        ("Status", item.status),
        ("Where", item.location),
        ("When (planned)", _window(item, zone)),
        ("Started", item.started_at or "-"),
        ("Ended", item.ended_at or "-"),
        ("Use case", item.use_case),
        ("Purpose", item.purpose),
        ("Legal basis", item.legal_basis),
        ("Watchlist size", f"{item.watchlist_size} images"),
        ("Alert threshold", f"{item.threshold:.3f}"),
        ("Authorised at", item.authorised_at or "-"),
        ("Results", _figures_text(item.figures)),
    ]
    if item.figures is not None and item.figures.false_alert_rate is not None:
        fields.append(("False alerts per face seen", f"{item.figures.false_alert_rate * 100:.4f} %"))
    table = "\n".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in fields)
    signs = (
        "<ul>" + "".join(f"<li>{e(p.location)} (from {e(p.placed_at)})</li>" for p in item.signage) + "</ul>"
        if item.signage
        else "<p>No signs recorded yet.</p>"
    )
    body = (
        f"<h1>Live facial recognition: {e(item.name)}</h1>\n<table>\n{table}\n</table>\n"
        f"<h2>Signs put up</h2>\n{signs}\n<h2>Signs and leaflets</h2>\n<p>{_downloads(item)}</p>\n"
        f'<p><a href="/public/notice">All deployments</a></p>\n{_contact_note(config)}'
    )
    return _page(f"Live facial recognition: {item.name}", body)
