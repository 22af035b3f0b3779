"""``GET /api/health``: liveness, database reachability and writability, and free disk space, for load
balancers (no login). 503 (``storage_unavailable`` / ``storage_full``) when the database does not answer, its
last write failed for lack of storage (until a write succeeds), or the data folder's disk is nearly full."""

from __future__ import annotations

import os

from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from openlfr import __version__
from openlfr.api.deps import ContextDep, SessionDep, require
from openlfr.api.errors import RETRY_AFTER_S, ApiError
from openlfr.api.permissions import Permission
from openlfr.api.schemas.system import HealthPublic
from openlfr.store.db import storage_health

router = APIRouter(prefix="/api", tags=["system"])

# Below this much free space on the data folder's disk, writes (alerts, audit entries, logins) are about to fail.
MIN_FREE_BYTES = 64 * 1024 * 1024


def _free_bytes(ctx: ContextDep) -> int | None:
    try:
        stats = os.statvfs(ctx.settings.data_dir)
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize


@router.get("/health", dependencies=[require(Permission.PUBLIC)])
def health(db: SessionDep, ctx: ContextDep) -> HealthPublic:
    problems: dict[str, str] = {}
    try:
        db.execute(text("SELECT 1"))
    except SQLAlchemyError:
        problems["database"] = "unreachable"
    write_problem = storage_health(db.get_bind().engine).problem
    if write_problem is not None:
        problems["database"] = "full" if write_problem == "full" else "not_writable"
    free = _free_bytes(ctx)
    if free is not None and free < MIN_FREE_BYTES:
        problems["disk"] = "full"
    if problems:
        full = "full" in problems.values()
        raise ApiError(
            "storage problem: " + ", ".join(f"{k} {v}" for k, v in problems.items()),
            details={"database": problems.get("database", "ok"), "disk": problems.get("disk", "ok")},
            headers={"Retry-After": str(RETRY_AFTER_S)},
            code="storage_full" if full else "storage_unavailable",
            status=503,
        )
    return HealthPublic(status="ok", version=__version__, database="ok", disk="ok")
