"""``/api/reports/transparency``: the transparency report (every deployment started in a period, with charts)
as the console offers it to view and download; ``lfr report transparency`` makes the same report."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Query, Response

from openlfr.api.deps import CurrentUser, SessionDep, require
from openlfr.api.errors import ApiError
from openlfr.api.permissions import Permission
from openlfr.reports.reads import record_report
from openlfr.reports.transparency import build_transparency, render_transparency

router = APIRouter(prefix="/api/reports", tags=["reports"])

MEDIA_TYPES = {"html": "text/html; charset=utf-8", "json": "application/json", "csv": "text/csv; charset=utf-8"}


@router.get("/transparency", dependencies=[require(Permission.DEPLOYMENTS_READ)])
def transparency(
    db: SessionDep,
    principal: CurrentUser,
    date_from: Annotated[date, Query(alias="from", description="first day (inclusive), YYYY-MM-DD")],
    date_to: Annotated[date, Query(alias="to", description="last day (exclusive), YYYY-MM-DD")],
    fmt: Annotated[str, Query(alias="format", pattern="^(html|json|csv)$")] = "html",
) -> Response:
    """Every deployment started from ``from`` up to ``to``, with the published figures (audited)."""
    start, end = datetime.combine(date_from, time.min, UTC), datetime.combine(date_to, time.min, UTC)
    if end <= start:
        raise ApiError("'to' must be after 'from'", code="period_invalid", status=422)
    report = build_transparency(db, start, end)
    record_report(
        db,
        "transparency",
        None,
        {"from": date_from.isoformat(), "to": date_to.isoformat(), "deployments": len(report.records)},
        by=principal,
    )
    db.commit()
    filename = f"transparency-{date_from.isoformat()}-{date_to.isoformat()}.{fmt}"
    return Response(
        render_transparency(report, fmt),
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
