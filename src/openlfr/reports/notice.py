"""Public notice of a deployment: what a sign (A3) and a leaflet (A5, two sides) say, and their HTML pages.

Everything printed comes from the deployment record (where, when, why, legal basis) and from
``governance.notice`` (who to contact, how to ask for your data, where the record is published). The QR code
points to ``<public_base_url>/public/deployments/<id>``, the page ``openlfr.api.routes.public`` serves without
login. No officer's name is printed: signs and leaflets carry the organisation, not its people.

The PDF versions are drawn by ``openlfr.reports.notice_pdf`` from the same ``NoticeContent``.
"""

from __future__ import annotations

import base64
import functools
import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

from openlfr.config.governance import GovernanceConfig
from openlfr.errors import OpenLFRError
from openlfr.store.governance_models import Deployment
from openlfr.utc import as_utc

PUBLIC_RECORD_PATH: Final = "/public/deployments/{id}"


class NoticeNotConfiguredError(OpenLFRError):
    """A sign or leaflet was asked for before ``governance.notice`` says who the public contacts."""

    code = "notice_not_configured"


class NoticeKind(StrEnum):
    SIGNAGE = "signage"
    LEAFLET = "leaflet"


@dataclass(frozen=True, slots=True)
class NoticeContent:
    """The words of a sign or leaflet for one deployment (plain text; renderers escape it)."""

    deployment_id: str
    title: tuple[str, ...]
    """the headline, one item per printed line"""
    organisation: str
    location: str
    when: str
    use_case: str
    purpose: str
    legal_basis: str
    legal_basis_explained: str | None
    your_image: str
    contact: tuple[tuple[str, str], ...]
    data_protection_officer: str | None
    subject_access: tuple[tuple[str, str], ...]
    what_to_send: str
    response_time: str
    record_url: str
    camera_areas: tuple[str, ...] = ()
    """per camera with a zone: where it is and the area it looks at (``openlfr.reports.zones``)"""


def record_url(base_url: str, deployment_id: str) -> str:
    return base_url.rstrip("/") + PUBLIC_RECORD_PATH.format(id=deployment_id)


def format_window(start: datetime, end: datetime, zone: str) -> str:
    """'Saturday 5 September 2026, 10:00 to 14:00 (Europe/London)'; both dates when it spans midnight."""
    tz = ZoneInfo(zone)
    a, b = as_utc(start).astimezone(tz), as_utc(end).astimezone(tz)

    def day(value: datetime) -> str:
        return f"{value:%A} {value.day} {value:%B %Y}"

    if a.date() == b.date():
        return f"{day(a)}, {a:%H:%M} to {b:%H:%M} ({zone})"
    return f"{day(a)} {a:%H:%M} to {day(b)} {b:%H:%M} ({zone})"


def your_image_text(retention_days: int) -> str:
    days = "1 day" if retention_days == 1 else f"{retention_days} days"
    return (
        "If you are not on the watchlist, the system deletes your image immediately and automatically: "
        "nothing about you is kept. If the system suggests a possible match, an officer checks it before "
        f"anyone acts on it; the alert and its images are kept for up to {days}, longer only when needed "
        "for an investigation or in court."
    )


def build_notice(
    deployment: Deployment, config: GovernanceConfig, *, camera_areas: Sequence[str] = ()
) -> NoticeContent:
    """The notice of ``deployment``; NoticeNotConfiguredError when ``governance.notice`` lacks what the public
    needs (say what is missing). ``camera_areas``: ``openlfr.reports.zones.zone_lines`` of its cameras."""
    notice = config.notice
    missing = notice.missing()
    if missing:
        raise NoticeNotConfiguredError("signs and leaflets need these settings first: " + ", ".join(missing))
    assert notice.public_base_url is not None and notice.contact.organisation is not None  # by missing()
    return NoticeContent(
        deployment_id=deployment.id,
        title=("Live facial recognition", "in use"),
        organisation=notice.contact.organisation,
        location=deployment.location,
        when=format_window(deployment.planned_start, deployment.planned_end, notice.timezone),
        use_case=deployment.use_case,
        purpose=deployment.purpose,
        legal_basis=deployment.legal_basis,
        legal_basis_explained=notice.legal_basis_explained,
        your_image=your_image_text(config.alert_retention_days),
        contact=tuple(notice.contact.channels()),
        data_protection_officer=notice.contact.data_protection_officer,
        subject_access=tuple(notice.subject_access.channels()),
        what_to_send=notice.subject_access.what_to_send,
        response_time=notice.subject_access.response_time,
        record_url=record_url(notice.public_base_url, deployment.id),
        camera_areas=tuple(camera_areas),
    )


def qr_png(url: str, scale: int = 8) -> bytes:
    """The QR code of ``url`` as a PNG (error correction M, the standard 4-module quiet zone)."""
    import io

    import segno

    buffer = io.BytesIO()
    segno.make_qr(url, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


# -- HTML --------------------------------------------------------------------------------------------------

NOTICE_CSS: Final = """
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #111; margin: 0; }
.page { margin: 0 auto; padding: 12mm; background: #fff; }
.signage .page { width: 297mm; min-height: 420mm; font-size: 17pt; }
.leaflet .page { width: 148mm; min-height: 210mm; font-size: 9.5pt; }
.band { background: #ffd200; border: 3mm solid #111; padding: 4mm 6mm; margin-bottom: 6mm; }
.band .org { font-weight: bold; text-transform: uppercase; letter-spacing: 0.05em; margin: 0; }
.band h1 { margin: 1mm 0 0; line-height: 1.1; }
.signage h1 { font-size: 46pt; } .leaflet h1 { font-size: 19pt; }
h2 { margin: 4mm 0 1mm; text-transform: uppercase; letter-spacing: 0.04em; }
.signage h2 { font-size: 16pt; } .leaflet h2 { font-size: 10pt; }
p { margin: 0 0 2mm; line-height: 1.35; }
.lead { font-weight: bold; }
.qr { display: flex; gap: 6mm; align-items: center; margin-top: 6mm; border-top: 1mm solid #111; padding-top: 4mm; }
.qr img { image-rendering: pixelated; flex: none; }
.signage .qr img { width: 75mm; height: 75mm; } .leaflet .qr img { width: 38mm; height: 38mm; }
.url { word-break: break-all; font-family: "DejaVu Sans Mono", monospace; }
dl { margin: 0 0 2mm; } dt { font-weight: bold; float: left; margin-right: 2mm; } dd { margin: 0 0 1mm; }
@media print { .page { margin: 0; } .leaflet .page { page-break-after: always; } }
"""
PAGE_SIZE: Final = {"signage": "A3 portrait", "leaflet": "A5 portrait"}


def _channels(items: tuple[tuple[str, str], ...]) -> str:
    e = html.escape
    return "<dl>" + "".join(f"<dt>{e(label)}:</dt><dd>{e(value)}</dd>" for label, value in items) + "</dl>"


def _qr_block(content: NoticeContent, caption: str) -> str:
    e = html.escape
    data = base64.b64encode(qr_png(content.record_url)).decode("ascii")
    return (
        f'<div class="qr"><img alt="QR code: {e(content.record_url)}" src="data:image/png;base64,{data}">'
        f'<div><p class="lead">{e(caption)}</p><p class="url">{e(content.record_url)}</p></div></div>'
    )


def _legal(content: NoticeContent) -> str:
    e = html.escape
    text = f"<p>{e(content.legal_basis)}</p>"
    if content.legal_basis_explained:
        text += f"<p>{e(content.legal_basis_explained)}</p>"
    return text


def _your_data(content: NoticeContent) -> str:
    e = html.escape
    return (
        "<p>You have the right to ask for the data we hold about you. Send your request to:</p>"
        + _channels(content.subject_access)
        + f"<p>{e(content.what_to_send)} {e(content.response_time)}</p>"
    )


def _contact(content: NoticeContent) -> str:
    e = html.escape
    dpo = (
        f"<p>Data protection officer: {e(content.data_protection_officer)}</p>"
        if content.data_protection_officer
        else ""
    )
    return f"<p>{e(content.organisation)}</p>" + _channels(content.contact) + dpo


def _band(content: NoticeContent) -> str:
    e = html.escape
    title = "<br>".join(e(line) for line in content.title)
    return f'<div class="band"><p class="org">{e(content.organisation)}</p><h1>{title}</h1></div>'


def _document(kind: NoticeKind, content: NoticeContent, pages: list[str]) -> str:
    e = html.escape
    body = "\n".join(f'<section class="page">{page}</section>' for page in pages)
    label = "Sign" if kind is NoticeKind.SIGNAGE else "Leaflet"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{label}: {e(" ".join(content.title))} at {e(content.location)}</title>
<style>{NOTICE_CSS}@page {{ size: {PAGE_SIZE[kind.value]}; margin: 0; }}</style></head>
<body class="{kind.value}">
{body}
</body></html>
"""


def _areas(content: NoticeContent) -> str:
    if not content.camera_areas:
        return ""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in content.camera_areas)
    return f'<p>The cameras and the areas they look at:</p><ul class="areas">{items}</ul>'


def signage_html(content: NoticeContent) -> str:
    e = html.escape
    page = (
        _band(content) + f'<p class="lead">Cameras here compare the faces of people passing with a watchlist of people '
        f"sought by {e(content.organisation)}.</p>"
        + f"<h2>Where</h2><p>{e(content.location)}</p>"
        + _areas(content)
        + f"<h2>When</h2><p>{e(content.when)}</p>"
        + f"<h2>Why</h2><p>{e(content.use_case)}: {e(content.purpose)}</p>"
        + "<h2>The law we rely on</h2>"
        + _legal(content)
        + f"<h2>Your image</h2><p>{e(content.your_image)}</p>"
        + "<h2>Your data</h2>"
        + _your_data(content)
        + "<h2>Contact</h2>"
        + _contact(content)
        + _qr_block(content, "Scan for the published record of this deployment")
    )
    return _document(NoticeKind.SIGNAGE, content, [page])


def leaflet_html(content: NoticeContent) -> str:
    e = html.escape
    front = (
        _band(content)
        + '<p class="lead">Police officers are using live facial recognition here. This leaflet explains what '
        "it is, why it is used, and your rights.</p>"
        + f"<h2>Where</h2><p>{e(content.location)}</p>"
        + _areas(content)
        + f"<h2>When</h2><p>{e(content.when)}</p>"
        + f"<h2>Why</h2><p>{e(content.use_case)}: {e(content.purpose)}</p>"
        + "<h2>What happens</h2><p>Cameras film people passing. A computer compares each face with a watchlist "
        "of people the police are looking for. When it suggests a possible match, an officer looks at it and "
        "decides whether to speak to the person.</p>"
        + f"<h2>Your image</h2><p>{e(content.your_image)}</p>"
        + _qr_block(content, "The published record of this deployment, with its results once it ends")
    )
    back = (
        "<h2>The law we rely on</h2>"
        + _legal(content)
        + "<h2>Your data</h2>"
        + _your_data(content)
        + "<h2>Questions or complaints</h2>"
        + _contact(content)
        + f'<p>Deployment reference: <span class="url">{e(content.deployment_id)}</span></p>'
    )
    return _document(NoticeKind.LEAFLET, content, [front, back])


def render_notice_html(kind: NoticeKind, content: NoticeContent) -> str:
    return signage_html(content) if kind is NoticeKind.SIGNAGE else leaflet_html(content)


@functools.lru_cache(maxsize=32)
def render_notice(kind: NoticeKind, content: NoticeContent, fmt: str) -> tuple[bytes, str]:
    """(body, media type) of a sign or leaflet as ``pdf`` or ``html``. Cached by content: the public routes
    serve these to anyone, and the same words make the same document (a PDF costs a tenth of a second)."""
    if fmt == "html":
        return render_notice_html(kind, content).encode("utf-8"), "text/html; charset=utf-8"
    if fmt == "pdf":
        from openlfr.reports.notice_pdf import leaflet_pdf, signage_pdf

        pdf = signage_pdf(content) if kind is NoticeKind.SIGNAGE else leaflet_pdf(content)
        return pdf, "application/pdf"
    raise ValueError(f"unknown format {fmt!r}")
