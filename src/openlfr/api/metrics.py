"""``/metrics`` through prometheus_client: one ``CollectorRegistry`` per app (never the library's global one, which
also carries process and GC collectors), custom collectors that read the figures at scrape time.

prometheus_client does nothing at import time that reaches the network or the disk: its HTTP servers start
only when asked (we never ask: the API serves /metrics behind its permission), and its multiprocess mode (files
under ``PROMETHEUS_MULTIPROC_DIR``) applies only to its instrumented Counter/Gauge/Histogram objects, which we
do not use: collectors here build metric families from our own state when scraped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from openlfr import __version__
from openlfr.auth.roles import Role
from openlfr.auth.tokens import is_active
from openlfr.store.auth_models import ApiToken, User

if TYPE_CHECKING:
    from openlfr.api.context import AppContext

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4


class ApiCollector(Collector):
    """The service's own series: up, version, accounts and tokens by role, failed logins, alerts."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx

    def collect(self) -> Iterator[Metric]:
        ctx = self._ctx
        yield GaugeMetricFamily("openlfr_up", "1 while the API answers", value=1)
        info = GaugeMetricFamily("openlfr_build_info", "version of the running OpenLFR", labels=["version"])
        info.add_metric([__version__], 1)
        yield info
        with ctx.services.sessions() as db:
            query = select(User.role, func.count()).where(User.disabled.is_(False)).group_by(User.role)
            counts: dict[str, int] = {role: int(count) for role, count in db.execute(query).all()}
            now = ctx.services.clock()
            active = [
                record.role
                for record in db.scalars(select(ApiToken).where(ApiToken.revoked_at.is_(None)))
                if is_active(record, now)
            ]
        users = GaugeMetricFamily("openlfr_users", "enabled user accounts by role", labels=["role"])
        tokens = GaugeMetricFamily("openlfr_api_tokens", "active API tokens by role", labels=["role"])
        for role in Role:
            users.add_metric([role.value], counts.get(role.value, 0))
            tokens.add_metric([role.value], active.count(role.value))
        yield users
        yield tokens
        yield CounterMetricFamily(
            "openlfr_login_failures_total", "failed logins since start", value=ctx.login_counters.failures_total
        )
        # Inside `lfr serve` every stored alert passes the in-process bus: it counts them.
        alerts = ctx.services.alerts if ctx.services.alerts is not None else ctx.services.bus
        if alerts is not None:
            yield CounterMetricFamily("openlfr_alerts_total", "alerts stored since start", value=alerts.count())


def build_registry(ctx: AppContext, sources: Iterable[Collector]) -> CollectorRegistry:
    """The app's registry. Collectors registered without ``describe`` are not run at registration."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ApiCollector(ctx))
    for source in sources:
        registry.register(source)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The Prometheus text exposition (format 0.0.4) of everything in ``registry``."""
    return generate_latest(registry)
