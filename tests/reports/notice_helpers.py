"""Reading signs and leaflets back as a person (or a phone) would: page sizes, rendered pixels, the QR code,
the words on the page."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

import cv2
import numpy as np
import pypdfium2 as pdfium

from openlfr.config.governance import GovernanceConfig
from openlfr.config.notice import ContactBlock, NoticeConfig, SubjectAccessBlock

A3 = (841.89, 1190.55)
A5 = (419.53, 595.28)
BASE_URL = "https://lfr.police.example"

NOTICE = NoticeConfig(
    public_base_url=BASE_URL + "/",
    timezone="Europe/London",
    legal_basis_explained="The police may use live facial recognition to find people they are looking for.",
    contact=ContactBlock(
        organisation="Example Police",
        email="lfr@police.example",
        phone="101",
        address="Police HQ, 1 Example Road, Exampleton EX1 1AA",
        data_protection_officer="dpo@police.example",
    ),
    subject_access=SubjectAccessBlock(email="sar@police.example", web="https://police.example/sar"),
)
CONFIG = GovernanceConfig(notice=NOTICE)


@dataclass(frozen=True)
class Page:
    size: tuple[float, float]
    text: str
    image: np.ndarray
    """greyscale rendering"""
    char_boxes: list[tuple[float, float, float, float]]
    """(left, bottom, right, top) of every character, in points"""


def read_pdf(data: bytes, dpi: int = 150) -> list[Page]:
    assert data.startswith(b"%PDF-")
    pdf = pdfium.PdfDocument(data)
    pages = []
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            count = textpage.count_chars()
            boxes = [textpage.get_charbox(i) for i in range(count)]
            image = np.array(page.render(scale=dpi / 72).to_pil().convert("L"))
            pages.append(Page(page.get_size(), textpage.get_text_range(), image, boxes))
    finally:
        pdf.close()
    return pages


def words(text: str) -> str:
    """Text with all runs of whitespace (line breaks of wrapped paragraphs included) made one space."""
    return " ".join(text.split())


def decode_qr(image: np.ndarray) -> str:
    """The QR code's text, as a phone would read it. OpenCV's finder-pattern search sometimes misses a code on
    a full page of text at one particular scale (a page whose dates differ by a digit decoded at 150 dpi and not
    at 200); a reader tries again from another distance, so this tries both detectors at a few scales."""
    for scale in (1.0, 0.75, 0.5, 1.5):
        scaled = image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
            value, points, _ = detector.detectAndDecode(scaled)
            if points is not None and value:
                return str(value)
    raise AssertionError("no QR code found on the page")


def qr_width_mm(image: np.ndarray, dpi: int) -> float:
    """Width of the QR code's symbol (finder corner to corner, without the quiet zone) in millimetres."""
    found, points = cv2.QRCodeDetector().detect(image)
    assert found and points is not None
    xs = points.reshape(-1, 2)[:, 0]
    return float(xs.max() - xs.min()) / dpi * 25.4


def html_qr(page: str) -> str:
    """Decode the QR code embedded as a PNG data URI in a sign or leaflet page."""
    found = re.search(r'src="data:image/png;base64,([^"]+)"', page)
    assert found, "no embedded QR image"
    png = np.frombuffer(base64.b64decode(found.group(1)), dtype=np.uint8)
    return decode_qr(cv2.imdecode(png, cv2.IMREAD_GRAYSCALE))


def approx(size: tuple[float, float], expected: tuple[float, float]) -> bool:
    return abs(size[0] - expected[0]) < 0.5 and abs(size[1] - expected[1]) < 0.5
