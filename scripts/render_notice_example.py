"""Render the example sign and leaflet committed under docs/ (docs/GOVERNANCE.md, "Public notice", shows them).

    .venv/bin/python scripts/render_notice_example.py [OUT_DIR]      # default: docs/

Builds a throwaway database with one synthetic, authorised deployment (random templates; no real face is
involved), records a signage placement, makes its A3 sign and A5 leaflet as PDF with an example
``governance.notice`` configuration, and rasterises the pages with pypdfium2 (a dev dependency) to
``notice-sign.png`` and ``notice-leaflet.png`` (front and back side by side).
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image

from openlfr.config.governance import GovernanceConfig
from openlfr.config.models import Settings
from openlfr.config.notice import ContactBlock, NoticeConfig, SubjectAccessBlock
from openlfr.deployments.notice import record_placement
from openlfr.deployments.service import authorise_deployment, create_deployment, get_deployment
from openlfr.deployments.types import DeploymentPlan
from openlfr.pipeline.thresholds import SFACE_INT8BQ
from openlfr.reports.notice import NoticeKind, build_notice, render_notice
from openlfr.store.context import Store, open_store
from openlfr.store.models import Snapshot, SnapshotTemplate, Watchlist

T0 = datetime(2026, 9, 5, 9, 0, tzinfo=UTC)
CONFIG = GovernanceConfig(
    notice=NoticeConfig(
        public_base_url="https://lfr.police.example",
        timezone="Europe/London",
        legal_basis_explained="The police may use live facial recognition to find people wanted by the courts or "
        "suspected of serious crime, under their common law powers, the Data Protection Act 2018 and the force's "
        "published policy.",
        contact=ContactBlock(
            organisation="Example Police",
            email="lfr@police.example",
            phone="101 (non-emergency)",
            address="Example Police HQ, 1 Example Road, Exampleton EX1 1AA",
            web="https://police.example/lfr",
            data_protection_officer="dpo@police.example",
        ),
        subject_access=SubjectAccessBlock(email="subject.access@police.example", web="https://police.example/sar"),
    )
)


def _snapshot(store: Store) -> str:
    rng = np.random.default_rng(5)
    with store.db.session() as session:
        watchlist = Watchlist(name="example")
        session.add(watchlist)
        session.flush()
        digests = [hashlib.sha256(f"example-{i}".encode()).hexdigest() for i in range(40)]
        snapshot = Snapshot(
            watchlist_id=watchlist.id, as_of=date(2026, 9, 1), fingerprint=hashlib.sha256("".join(digests).encode())
            .hexdigest(), template_count=40, subject_count=40, excluded=[], model=SFACE_INT8BQ.model,
            weights_sha256=SFACE_INT8BQ.weights_sha256, dimension=128, preprocessing="example",
        )  # fmt: skip
        session.add(snapshot)
        session.flush()
        for i, digest in enumerate(digests):
            vector = rng.standard_normal(128).astype(np.float32).tobytes()
            session.add(
                SnapshotTemplate(snapshot_id=snapshot.id, subject_id=f"{i:032x}", template_digest=digest, vector=vector)
            )
        return snapshot.id


def build(store: Store) -> tuple[bytes, bytes]:
    plan = DeploymentPlan(
        name="Station forecourt", use_case="crime hotspot",
        purpose="locate people wanted by the courts for violent offences, after a series of robberies here",
        legal_basis="common law policing powers; Example Police LFR policy v3 (published)", justification="example",
        location="King's Cross station forecourt, London N1", planned_start=T0,
        planned_end=T0 + timedelta(hours=5), camera_ids=("cam-1",), snapshot=_snapshot(store), signage_confirmed=True,
    )  # fmt: skip
    with store.db.session() as session:
        deployment = create_deployment(
            session, plan, actor="example", created_by="planner", config=GovernanceConfig(), now=T0 - timedelta(days=2)
        )
        authorise_deployment(session, deployment.id, actor="example", supervisor="insp.example", text="example", now=T0)
        record_placement(
            session, deployment.id, location="forecourt entrances", actor="example", now=T0 - timedelta(minutes=30)
        )
        content = build_notice(get_deployment(session, deployment.id), CONFIG)
    return render_notice(NoticeKind.SIGNAGE, content, "pdf")[0], render_notice(NoticeKind.LEAFLET, content, "pdf")[0]


def pages(pdf_bytes: bytes, dpi: float) -> list[Image.Image]:
    pdf = pdfium.PdfDocument(pdf_bytes)
    try:
        return [pdf[i].render(scale=dpi / 72).to_pil().convert("RGB") for i in range(len(pdf))]
    finally:
        pdf.close()


def side_by_side(images: list[Image.Image], gap: int = 24) -> Image.Image:
    width = sum(i.width for i in images) + gap * (len(images) + 1)
    height = max(i.height for i in images) + 2 * gap
    sheet = Image.new("RGB", (width, height), (200, 200, 200))
    x = gap
    for image in images:
        sheet.paste(image, (x, gap))
        x += image.width + gap
    return sheet


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "docs"
    with tempfile.TemporaryDirectory() as tmp, open_store(Settings(data_dir=Path(tmp))) as store:
        sign, leaflet = build(store)
    pages(sign, 64)[0].save(out / "notice-sign.png", optimize=True)
    side_by_side(pages(leaflet, 110)).save(out / "notice-leaflet.png", optimize=True)
    print(f"wrote {out / 'notice-sign.png'} and {out / 'notice-leaflet.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
