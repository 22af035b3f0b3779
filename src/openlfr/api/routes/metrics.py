"""``GET /metrics``: Prometheus text format, for a scraper holding an admin or auditor API token."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openlfr import __version__
from openlfr.api.context import AppContext
from openlfr.api.deps import ContextDep, SessionDep, require
from openlfr.api.metrics import CONTENT_TYPE, MetricFamily, Sample, render
from openlfr.api.permissions import Permission
from openlfr.auth.roles import Role
from openlfr.auth.tokens import is_active
from openlfr.store.auth_models import ApiToken, User

router = APIRouter(tags=["system"])


def _builtin(db: Session, ctx: AppContext) -> Iterator[MetricFamily]:
    yield MetricFamily("openlfr_up", "1 while the API answers", "gauge", (Sample(1),))
    yield MetricFamily(
        "openlfr_build_info", "version of the running OpenLFR", "gauge", (Sample(1, {"version": __version__}),)
    )
    query = select(User.role, func.count()).where(User.disabled.is_(False)).group_by(User.role)
    counts: dict[str, int] = {role: int(count) for role, count in db.execute(query).all()}
    yield MetricFamily(
        "openlfr_users",
        "enabled user accounts by role",
        "gauge",
        tuple(Sample(counts.get(role.value, 0), {"role": role.value}) for role in Role),
    )
    now = ctx.services.clock()
    active = [
        record.role
        for record in db.scalars(select(ApiToken).where(ApiToken.revoked_at.is_(None)))
        if is_active(record, now)
    ]
    yield MetricFamily(
        "openlfr_api_tokens",
        "active API tokens by role",
        "gauge",
        tuple(Sample(active.count(role.value), {"role": role.value}) for role in Role),
    )
    yield MetricFamily(
        "openlfr_login_failures_total",
        "failed logins since start",
        "counter",
        (Sample(ctx.login_counters.failures_total),),
    )
    if ctx.services.alerts is not None:
        yield MetricFamily("openlfr_alerts_total", "alerts stored", "counter", (Sample(ctx.services.alerts.count()),))


@router.get("/metrics", response_class=PlainTextResponse, dependencies=[require(Permission.METRICS_READ)])
def metrics(db: SessionDep, ctx: ContextDep) -> PlainTextResponse:
    families = list(_builtin(db, ctx))
    for source in ctx.services.metric_sources:
        families.extend(source.collect())
    return PlainTextResponse(render(families), media_type=CONTENT_TYPE)
