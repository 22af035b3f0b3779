"""Render the example report pages committed under docs/ (docs/GOVERNANCE.md shows them).

    .venv/bin/python scripts/render_report_example.py [OUT_DIR]      # default: docs/

Builds a throwaway database with three synthetic deployments (made-up alerts and counts, random templates;
no real face is involved), renders a deployment record and the transparency report to HTML, and screenshots
them with headless Chromium (/usr/lib/chromium/chromium; scripts/install-system-deps.sh installs it).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import update

from openlfr.alerts.db_store import DbAlertStore
from openlfr.alerts.event import AlertEvent
from openlfr.config.governance import GovernanceConfig
from openlfr.config.models import Settings
from openlfr.deployments.notice import record_placement
from openlfr.deployments.service import (
    authorise_deployment,
    create_deployment,
    end_deployment,
    record_counts,
    start_deployment,
)
from openlfr.deployments.types import DeploymentPlan, RunCounts
from openlfr.pipeline.thresholds import SFACE_INT8BQ
from openlfr.reports.deployment import build_record, to_html
from openlfr.reports.transparency import build_transparency
from openlfr.reports.transparency import to_html as transparency_html
from openlfr.store.alert_models import AlertRecord
from openlfr.store.context import Store, open_store
from openlfr.store.models import Snapshot, SnapshotTemplate, Watchlist

CHROMIUM = Path("/usr/lib/chromium/chromium")
T0 = datetime(2026, 9, 5, 10, 0, tzinfo=UTC)
DEPLOYMENTS: list[tuple[str, str, str, int, int, list[tuple[str, str | None]]]] = [
    # name, location, use case, day offset, faces seen, alert reviews
    ("Station forecourt", "King's Cross station forecourt", "crime hotspot", 0, 18_240,
     [("confirmed", "arrested"), ("confirmed", "spoken_to"), ("confirmed", None), ("rejected", None)]),
    ("Market day", "High Street market, outside no. 40", "crime hotspot", 14, 9_815,
     [("confirmed", "arrested"), ("rejected", "no_action")]),
    ("Stadium approach", "Stadium Way, north turnstiles", "public event", 28, 41_302,
     [("confirmed", "arrested"), ("confirmed", "arrested"), ("confirmed", "spoken_to"), ("confirmed", None),
      ("rejected", None)]),
]  # fmt: skip


def _fingerprint(digests: list[str]) -> str:
    return hashlib.sha256("".join(digests).encode()).hexdigest()


def _snapshot(store: Store, name: str) -> str:
    rng = np.random.default_rng(len(name))
    with store.db.session() as session:
        watchlist = Watchlist(name=name)
        session.add(watchlist)
        session.flush()
        digests = [hashlib.sha256(f"{name}-{i}".encode()).hexdigest() for i in range(40)]
        snapshot = Snapshot(
            watchlist_id=watchlist.id, as_of=date(2026, 9, 1), fingerprint=_fingerprint(digests),
            template_count=len(digests), subject_count=len(digests), excluded=[], model=SFACE_INT8BQ.model,
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


def build(store: Store) -> list[str]:
    ids = []
    for name, location, use_case, day, faces, reviews in DEPLOYMENTS:
        start = T0 + timedelta(days=day)
        plan = DeploymentPlan(
            name=name, use_case=use_case, purpose="locate people wanted for violent offences",
            legal_basis="common law policing powers; force LFR policy", justification="example",
            location=location, planned_start=start, planned_end=start + timedelta(hours=5), camera_ids=("cam-1",),
            snapshot=_snapshot(store, name), signage_confirmed=True,
        )  # fmt: skip
        with store.db.session() as session:
            deployment = create_deployment(
                session, plan, actor="example", created_by="planner", config=GovernanceConfig(), now=start
            )
            authorise_deployment(
                session, deployment.id, actor="example", supervisor="insp.example", text="example", now=start
            )
            record_placement(session, deployment.id, location=f"{location}: entrances", actor="example", now=start)
            start_deployment(session, deployment.id, actor="example", now=start)
            deployment_id = deployment.id
        alerts = DbAlertStore(store.db, store.media, deployment_id=deployment_id)
        for i, (status, outcome) in enumerate(reviews):
            decided = (start + timedelta(minutes=20 * (i + 1))).timestamp()
            alert_id = f"{deployment_id[:12]}{i:04d}"
            alerts.append(
                AlertEvent(
                    alert_id, "production", "cam-1", i, "0" * 32, 0.6, None, 3, 0.47, i, 0.0, decided, decided, 50.0,
                    SFACE_INT8BQ.model, "", b"\xff\xd8example", None,
                )
            )  # fmt: skip
            with store.db.session() as session:
                session.execute(
                    update(AlertRecord).where(AlertRecord.id == alert_id).values(status=status, outcome=outcome)
                )
        with store.db.session() as session:
            record_counts(session, deployment_id, RunCounts(faces * 9, faces, faces // 3), start)
            end_deployment(
                session, deployment_id, actor="example", reason="planned end", now=start + timedelta(hours=5)
            )
        ids.append(deployment_id)
    return ids


def screenshot(html: Path, png: Path, height: int) -> None:
    subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--window-size=900,{height}", f"--screenshot={png}", html.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "docs"
    with tempfile.TemporaryDirectory() as tmp, open_store(Settings(data_dir=Path(tmp))) as store:
        ids = build(store)
        with store.db.session() as session:
            record = to_html(build_record(session, ids[0]))
            report = transparency_html(build_transparency(session, T0 - timedelta(days=5), T0 + timedelta(days=60)))
        pages = {"deployment-record": (record, 1080), "transparency-report": (report, 1200)}
        for name, (text, height) in pages.items():
            html = Path(tmp) / f"{name}.html"
            html.write_text(text, encoding="utf-8")
            if CHROMIUM.exists():
                screenshot(html, out / f"{name}.png", height)
                print(f"wrote {out / f'{name}.png'}")
            else:
                (out / f"{name}.html").write_text(text, encoding="utf-8")
                print(f"no Chromium: wrote {out / f'{name}.html'} instead", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
