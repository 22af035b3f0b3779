"""Signs (A3) and leaflets (A5) made from the deployment record: rendered to images and read back (page size,
the QR code a phone would scan, the words on the page), as PDF and HTML."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from openlfr.config.governance import GovernanceConfig
from openlfr.config.notice import NoticeConfig
from openlfr.reports.notice import (
    NoticeKind,
    NoticeNotConfiguredError,
    build_notice,
    format_window,
    render_notice,
)
from openlfr.store.governance_models import Deployment
from tests.reports.notice_helpers import (
    A3,
    A5,
    BASE_URL,
    CONFIG,
    approx,
    decode_qr,
    html_qr,
    qr_width_mm,
    read_pdf,
    words,
)

START = datetime(2026, 7, 4, 9, 0, tzinfo=UTC)  # 10:00 in London (summer time)
ID = "0123456789abcdef0123456789abcdef"


def deployment(**changes: Any) -> Deployment:
    values: dict[str, Any] = {
        "id": ID,
        "name": "High Street, Saturday",
        "use_case": "crime hotspot",
        "purpose": "locate people wanted on warrant for violent offences",
        "legal_basis": "common law policing powers; force LFR policy v3",
        "justification": "intelligence about a named suspect, J. Bloggs",
        "location": "Stryd Fawr, Caerdydd (outside the station) — Ŵyn & Ŷd",
        "planned_start": START,
        "planned_end": START + timedelta(hours=4),
        "created_by": "pc.planner",
        "authorised_by": "insp.secret",
        "threshold_override_by": "sgt.override",
    }
    values.update(changes)
    return Deployment(**values)


RECORD_URL = f"{BASE_URL}/public/deployments/{ID}"
FACTS = (
    "Stryd Fawr, Caerdydd (outside the station) — Ŵyn & Ŷd",  # where (accents survive: DejaVu, not Helvetica)
    "Saturday 4 July 2026, 10:00 to 14:00 (Europe/London)",  # when, in the configured zone
    "locate people wanted on warrant for violent offences",  # why
    "common law policing powers; force LFR policy v3",  # legal basis
    "The police may use live facial recognition to find people they are looking for.",  # ... in plain words
    "Example Police",  # who
    "lfr@police.example",  # contact
    "sar@police.example",  # where to ask for your data
    "https://police.example/sar",
    "a copy of a document that proves who you are",  # what to send
    "deletes your image immediately and automatically",
    "kept for up to 31 days",  # governance.alert_retention_days
)
PERSONAL = ("pc.planner", "insp.secret", "sgt.override", "J. Bloggs")


def test_the_sign_is_one_a3_page_with_the_facts_and_a_qr_code_to_the_published_record() -> None:
    body, media_type = render_notice(NoticeKind.SIGNAGE, build_notice(deployment(), CONFIG), "pdf")
    assert media_type == "application/pdf"
    pages = read_pdf(body, dpi=72)  # a coarse rendering: the QR code of an A3 sign is big enough
    assert len(pages) == 1 and approx(pages[0].size, A3)
    assert decode_qr(pages[0].image) == RECORD_URL
    text = words(pages[0].text)
    for fact in FACTS:
        assert words(fact) in text, fact
    assert RECORD_URL in "".join(text.split())  # printed too (a long URL wraps)
    for name in PERSONAL:
        assert name not in text


def test_the_leaflet_is_two_a5_pages_front_with_the_qr_code_back_with_your_rights() -> None:
    body, _ = render_notice(NoticeKind.LEAFLET, build_notice(deployment(), CONFIG), "pdf")
    front, back = read_pdf(body, dpi=200)
    assert approx(front.size, A5) and approx(back.size, A5)
    assert decode_qr(front.image) == RECORD_URL
    both = words(front.text + " " + back.text)
    for fact in FACTS:
        assert words(fact) in both, fact
    assert RECORD_URL in "".join(front.text.split())
    assert "sar@police.example" in back.text and "Stryd Fawr" in front.text
    for name in PERSONAL:
        assert name not in both


def test_long_text_is_shrunk_to_fit_never_cut_or_spilled_and_the_qr_code_keeps_its_size() -> None:
    purpose = " ".join(["locate people wanted on warrant for violent offences in the town centre"] * 25) + " ENDMARK"
    # The symbol is the printed QR size (80 mm sign, 36 mm leaflet) less its 4-module quiet zone on each side.
    for kind, count, size, qr_mm in ((NoticeKind.SIGNAGE, 1, A3, 80), (NoticeKind.LEAFLET, 2, A5, 36)):
        short = read_pdf(render_notice(kind, build_notice(deployment(), CONFIG), "pdf")[0], dpi=200)
        body, _ = render_notice(kind, build_notice(deployment(purpose=purpose), CONFIG), "pdf")
        pages = read_pdf(body, dpi=200)
        assert len(pages) == count, kind
        assert "ENDMARK" in pages[0].text
        assert decode_qr(pages[0].image) == RECORD_URL
        width = qr_width_mm(pages[0].image, 200)
        assert width == pytest.approx(qr_width_mm(short[0].image, 200), abs=1.0)  # not shrunk with the text
        assert 0.7 * qr_mm < width < qr_mm
        width, height = size
        for page in pages:
            for left, bottom, right, top in page.char_boxes:
                assert left >= 0 and right <= width and bottom >= 0 and top <= height, (kind, left, bottom)


def test_html_pages_say_the_same_with_a_scannable_qr_code_and_escape_the_record() -> None:
    hostile = deployment(location='<script>alert("x")</script> Market Square')
    for kind, page_size in ((NoticeKind.SIGNAGE, "A3 portrait"), (NoticeKind.LEAFLET, "A5 portrait")):
        body, media_type = render_notice(kind, build_notice(hostile, CONFIG), "html")
        page = body.decode("utf-8")
        assert media_type.startswith("text/html")
        assert f"size: {page_size}" in page
        assert html_qr(page) == RECORD_URL
        assert "<script>" not in page and "&lt;script&gt;" in page
        for fact in ("Saturday 4 July 2026, 10:00 to 14:00 (Europe/London)", "sar@police.example", RECORD_URL):
            assert fact in page
        for name in PERSONAL:
            assert name not in page


def test_a_window_over_midnight_names_both_days() -> None:
    text = format_window(START, START + timedelta(hours=16), "UTC")
    assert text == "Saturday 4 July 2026 09:00 to Sunday 5 July 2026 01:00 (UTC)"


def test_without_contact_details_no_sign_is_made_and_the_missing_settings_are_named() -> None:
    with pytest.raises(NoticeNotConfiguredError) as caught:
        build_notice(deployment(), GovernanceConfig())
    message = str(caught.value)
    for setting in (
        "governance.notice.public_base_url",
        "governance.notice.contact.organisation",
        "governance.notice.subject_access",
    ):
        assert setting in message
    assert caught.value.code == "notice_not_configured"


@pytest.mark.parametrize(
    "bad",
    [
        {"public_base_url": "lfr.police.example"},
        {"public_base_url": "ftp://lfr.police.example"},
        {"public_base_url": "https://lfr.police.example/?a=1"},
        {"timezone": "Mars/Olympus"},
        {"contact": {"organisation": "X", "fax": "1"}},
        {"qr": True},
    ],
)
def test_the_notice_settings_are_strict(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        NoticeConfig.model_validate(bad)


def test_the_settings_load_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from openlfr.config.models import Settings

    monkeypatch.setenv("LFR_GOVERNANCE__NOTICE__PUBLIC_BASE_URL", "https://lfr.police.example/")
    monkeypatch.setenv("LFR_GOVERNANCE__NOTICE__CONTACT__ORGANISATION", "Example Police")
    settings = Settings(data_dir=tmp_path)
    assert settings.governance.notice.public_base_url == "https://lfr.police.example"
    assert settings.governance.notice.contact.organisation == "Example Police"


@pytest.fixture
def watch_files() -> Iterator[list[str]]:
    """Paths opened for writing, and sockets touched, while the fixture's list is live."""
    events: list[str] = []
    active = [True]

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if not active[0]:
            return
        if event == "open" and len(args) > 1 and isinstance(args[1], str) and any(c in args[1] for c in "wax+"):
            events.append(f"open {args[0]}")
        elif event.startswith("socket."):
            events.append(event)

    sys.addaudithook(hook)  # audit hooks cannot be removed: the flag switches this one off afterwards
    try:
        yield events
    finally:
        active[0] = False


def test_making_signs_and_leaflets_writes_no_file_and_opens_no_connection(watch_files: list[str]) -> None:
    render_notice.cache_clear()  # render for real, not from the cache
    content = build_notice(deployment(), CONFIG)
    for kind in NoticeKind:
        for fmt in ("pdf", "html"):
            render_notice(kind, content, fmt)
    assert watch_files == []


def test_the_same_words_make_the_same_document_and_changed_words_a_new_one() -> None:
    content = build_notice(deployment(), CONFIG)
    first, _ = render_notice(NoticeKind.SIGNAGE, content, "pdf")
    assert render_notice(NoticeKind.SIGNAGE, build_notice(deployment(), CONFIG), "pdf")[0] == first
    moved = render_notice(NoticeKind.SIGNAGE, build_notice(deployment(location="Market Square"), CONFIG), "pdf")[0]
    assert moved != first and "Market Square" in read_pdf(moved, dpi=30)[0].text


@pytest.mark.parametrize("kind", [NoticeKind.SIGNAGE, NoticeKind.LEAFLET])
def test_the_sign_and_the_leaflet_name_the_area_each_camera_looks_at(kind: NoticeKind) -> None:
    areas = ("gate-1 (north entrance): recognition limited to a 4-sided area covering 25% of the camera's view",)
    content = build_notice(deployment(), CONFIG, camera_areas=areas)
    page = render_notice(kind, content, "html")[0].decode()
    assert "recognition limited to a 4-sided area covering 25% of the camera&#x27;s view" in page
    pdf = read_pdf(render_notice(kind, content, "pdf")[0], dpi=72)[0]  # the leaflet's front page
    assert words("a 4-sided area covering 25%") in words(pdf.text)
    without = render_notice(kind, build_notice(deployment(), CONFIG), "html")[0].decode()
    assert "areas they look at" not in without
