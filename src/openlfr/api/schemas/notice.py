"""Signage placements: request and response schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from openlfr.api.schemas.base import Input, Output
from openlfr.deployments.notice import MAX_LOCATION_CHARS


class PlacementCreate(Input):
    location: str = Field(
        min_length=1, max_length=MAX_LOCATION_CHARS, description="where the signs were put up, in words"
    )
    placed_at: datetime | None = Field(None, description="when they went up (default: now; never in the future)")


class PlacementPublic(Output):
    id: str
    deployment_id: str
    location: str
    placed_at: datetime
    placed_by: str
    """the authenticated caller who recorded it"""
    recorded_at: datetime
