"""``GET /metrics``: Prometheus text format, for a scraper holding an admin or auditor API token."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from openlfr.api.deps import require
from openlfr.api.metrics import CONTENT_TYPE, render
from openlfr.api.permissions import Permission

router = APIRouter(tags=["system"])


@router.get("/metrics", response_class=Response, dependencies=[require(Permission.METRICS_READ)])
def metrics(request: Request) -> Response:
    return Response(render(request.app.state.metrics), media_type=CONTENT_TYPE)
