"""``GET /api/health``: liveness and database reachability, for load balancers (no login)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from openlfr import __version__
from openlfr.api.deps import SessionDep, require
from openlfr.api.permissions import Permission
from openlfr.api.schemas.system import HealthPublic
from openlfr.store.errors import StorageError

router = APIRouter(prefix="/api", tags=["system"])


@router.get("/health", dependencies=[require(Permission.PUBLIC)])
def health(db: SessionDep) -> HealthPublic:
    try:
        db.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise StorageError("the database does not answer") from exc
    return HealthPublic(status="ok", version=__version__, database="ok")
