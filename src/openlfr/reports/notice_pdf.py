"""Signs (A3 portrait, one page) and leaflets (A5 portrait, front and back) as PDF, drawn with ReportLab.

The QR code is drawn as vector squares from segno's module matrix, so it stays sharp at any print size. Text is
set in DejaVu Sans (the copy matplotlib ships, a dependency already), which covers Welsh, Polish, Irish and
other accented place names that the PDF standard fonts cannot show. Text that would not fit is shrunk to fit
the page rather than cut or spilled onto a second sheet; the QR code keeps its size. Output is byte-for-byte
reproducible (no creation date or random document id).
"""

from __future__ import annotations

import functools
import html
import io
from pathlib import Path
from typing import Any, Final

from reportlab.lib import colors
from reportlab.lib.pagesizes import A3, A5
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepInFrame,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from openlfr.errors import OpenLFRError
from openlfr.reports.notice import NoticeContent

FONT: Final = "OpenLFR-DejaVuSans"
FONT_BOLD: Final = "OpenLFR-DejaVuSans-Bold"
FONT_MONO: Final = "OpenLFR-DejaVuSansMono"
YELLOW: Final = colors.HexColor("#ffd200")


@functools.cache
def register_fonts() -> None:
    """Register the DejaVu faces with ReportLab once per process (reads font files; writes nothing)."""
    import matplotlib
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    files = {FONT: "DejaVuSans.ttf", FONT_BOLD: "DejaVuSans-Bold.ttf", FONT_MONO: "DejaVuSansMono.ttf"}
    for name, filename in files.items():
        path = folder / filename
        if not path.is_file():
            raise OpenLFRError(f"font file {path} is missing (it ships with matplotlib): reinstall matplotlib")
        pdfmetrics.registerFont(TTFont(name, str(path)))
    addMapping(FONT, 0, 0, FONT)
    addMapping(FONT, 1, 0, FONT_BOLD)
    addMapping(FONT, 0, 1, FONT)
    addMapping(FONT, 1, 1, FONT_BOLD)


class QrCode(Flowable):
    """A QR code of ``data`` drawn as vector squares, ``size`` points wide including its 4-module quiet zone."""

    def __init__(self, data: str, size: float) -> None:
        super().__init__()
        import segno

        self.qr = segno.make_qr(data, error="m")
        self.size = size
        self.width = self.height = size

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        border = 4
        modules = len(self.qr.matrix) + 2 * border
        unit = self.size / modules
        canvas = self.canv
        canvas.setFillColor(colors.white)
        canvas.rect(0, 0, self.size, self.size, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        for row, line in enumerate(self.qr.matrix):
            y = self.size - (row + border + 1) * unit
            for col, dark in enumerate(line):
                if dark:
                    # A hair of overlap so no white seams show between neighbouring squares when rasterised.
                    canvas.rect((col + border) * unit, y, unit * 1.02, unit * 1.02, stroke=0, fill=1)


@functools.cache
def _styles(scale: float) -> dict[str, ParagraphStyle]:
    """Paragraph styles for a page whose body text is ``scale`` points."""
    register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=scale, leading=scale * 1.3, spaceAfter=scale * 0.3)
    return {
        "body": body,
        "lead": ParagraphStyle("lead", parent=body, fontName=FONT_BOLD),
        "heading": ParagraphStyle(
            "heading",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=scale * 0.95,
            leading=scale * 1.2,
            spaceBefore=scale * 0.6,
            spaceAfter=scale * 0.15,
            textColor=colors.HexColor("#003366"),
        ),
        "org": ParagraphStyle("org", parent=body, fontName=FONT_BOLD, fontSize=scale * 1.1, leading=scale * 1.4),
        "title": ParagraphStyle("title", parent=body, fontName=FONT_BOLD, fontSize=scale * 2.7, leading=scale * 3.0),
        "url": ParagraphStyle("url", parent=body, fontName=FONT_MONO, fontSize=scale * 0.8, leading=scale * 1.05),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(html.escape(text, quote=False), style)


def _band(content: NoticeContent, styles: dict[str, ParagraphStyle], width: float) -> Table:
    title = Paragraph("<br/>".join(html.escape(line, quote=False) for line in content.title), styles["title"])
    table = Table(
        [
            [_p(content.organisation.upper(), styles["org"])],
            [title],
        ],
        colWidths=[width],
    )
    pad = styles["body"].fontSize * 0.6
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), YELLOW),
                ("BOX", (0, 0), (-1, -1), pad * 0.7, colors.black),
                ("LEFTPADDING", (0, 0), (-1, -1), pad),
                ("RIGHTPADDING", (0, 0), (-1, -1), pad),
                ("TOPPADDING", (0, 0), (-1, -1), pad * 0.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), pad * 0.5),
            ]
        )
    )
    return table


def _section(title: str, paragraphs: list[str], styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    return [_p(title.upper(), styles["heading"]), *(_p(text, styles["body"]) for text in paragraphs)]


def _channels(items: tuple[tuple[str, str], ...]) -> list[str]:
    return [f"{label}: {value}" for label, value in items]


def _legal(content: NoticeContent) -> list[str]:
    return [content.legal_basis] + ([content.legal_basis_explained] if content.legal_basis_explained else [])


def _your_data(content: NoticeContent) -> list[str]:
    return [
        "You have the right to ask for the data we hold about you. Send your request to:",
        *_channels(content.subject_access),
        f"{content.what_to_send} {content.response_time}",
    ]


def _contact(content: NoticeContent) -> list[str]:
    dpo = [f"Data protection officer: {content.data_protection_officer}"] if content.data_protection_officer else []
    return [content.organisation, *_channels(content.contact), *dpo]


def _qr_row(content: NoticeContent, styles: dict[str, ParagraphStyle], width: float, qr: float, caption: str) -> Table:
    text = [_p(caption, styles["lead"]), _p(content.record_url, styles["url"])]
    table = Table([[QrCode(content.record_url, qr), text]], colWidths=[qr + 4 * mm, width - qr - 4 * mm])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("LINEABOVE", (0, 0), (-1, 0), 1.5, colors.black),
                ("TOPPADDING", (0, 0), (-1, -1), 3 * mm),
            ]
        )
    )
    return table


def _pdf(pagesize: tuple[float, float], margin: float, content: NoticeContent, story: list[Flowable]) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=f"{' '.join(content.title)}: {content.location}",
        author=content.organisation,
        subject=f"Deployment {content.deployment_id}",
        creator="OpenLFR",
        invariant=1,
    )
    doc.build(story)
    return buffer.getvalue()


def _height(flowable: Flowable, width: float) -> float:
    return float(flowable.wrap(width, 10_000)[1])


def _fitted(flowables: list[Any], width: float, height: float) -> KeepInFrame:
    """The flowables, shrunk (never cut) to fit ``width`` × ``height`` (some points of slack for rounding)."""
    return KeepInFrame(width, height - 2, flowables, mode="shrink", vAlign="TOP")


def _frame(pagesize: tuple[float, float], margin: float) -> tuple[float, float]:
    # SimpleDocTemplate's frame keeps 6 pt of padding on each side.
    return pagesize[0] - 2 * margin - 12, pagesize[1] - 2 * margin - 12


def signage_pdf(content: NoticeContent) -> bytes:
    """One A3 portrait page: band, where/when/why, law, your image, your data, contact, QR code."""
    margin = 15 * mm
    width, height = _frame(A3, margin)
    styles = _styles(17.0)
    qr = 80 * mm
    band = _band(content, styles, width)
    body: list[Any] = [
        _p(
            f"Cameras here compare the faces of people passing with a watchlist of people sought by "
            f"{content.organisation}.",
            styles["lead"],
        ),
        *_section("Where", [content.location, *content.camera_areas], styles),
        *_section("When", [content.when], styles),
        *_section("Why", [f"{content.use_case}: {content.purpose}"], styles),
        *_section("The law we rely on", _legal(content), styles),
        *_section("Your image", [content.your_image], styles),
        *_section("Your data", _your_data(content), styles),
        *_section("Contact", _contact(content), styles),
    ]
    qr_row = _qr_row(content, styles, width, qr, "Scan for the published record of this deployment")
    room = height - _height(band, width) - 5 * mm - qr - 8 * mm
    story = [band, Spacer(1, 5 * mm), _fitted(body, width, room), qr_row]
    return _pdf(A3, margin, content, story)


def leaflet_pdf(content: NoticeContent) -> bytes:
    """Two A5 portrait pages (print double-sided): front with where/when/why and the QR code, back with the
    law, your data and the contact."""
    margin = 10 * mm
    width, height = _frame(A5, margin)
    styles = _styles(9.5)
    qr = 36 * mm
    band = _band(content, styles, width)
    front: list[Any] = [
        _p(
            "Police officers are using live facial recognition here. This leaflet explains what it is, why it "
            "is used, and your rights.",
            styles["lead"],
        ),
        *_section("Where", [content.location, *content.camera_areas], styles),
        *_section("When", [content.when], styles),
        *_section("Why", [f"{content.use_case}: {content.purpose}"], styles),
        *_section(
            "What happens",
            [
                "Cameras film people passing. A computer compares each face with a watchlist of people the police "
                "are looking for. When it suggests a possible match, an officer looks at it and decides whether to "
                "speak to the person."
            ],
            styles,
        ),
        *_section("Your image", [content.your_image], styles),
    ]
    back: list[Any] = [
        *_section("The law we rely on", _legal(content), styles),
        *_section("Your data", _your_data(content), styles),
        *_section("Questions or complaints", _contact(content), styles),
        _p(f"Deployment reference: {content.deployment_id}", styles["body"]),
    ]
    qr_row = _qr_row(
        content, styles, width, qr, "The published record of this deployment, with its results once it ends"
    )
    story = [
        band,
        Spacer(1, 3 * mm),
        _fitted(front, width, height - _height(band, width) - 3 * mm - qr - 8 * mm),
        qr_row,
        PageBreak(),
        _fitted(back, width, height),
    ]
    return _pdf(A5, margin, content, story)
