from __future__ import annotations

from datetime import date, datetime
from typing import Any

from openlfr.api.schemas.base import Output


class SnapshotPublic(Output):
    id: str
    created_at: datetime
    fingerprint: str
    templates: int
    subjects: int
    excluded: int
    erasures: int


class WatchlistPublic(Output):
    name: str
    description: str
    created_at: datetime
    subjects: int
    snapshots: list[SnapshotPublic]


class MemberPublic(Output):
    id: str
    external_ref: str
    display_name: str
    category: str
    review_by: date
    review_overdue: bool


class WatchlistDetail(WatchlistPublic):
    members: list[MemberPublic]


class ImagePublic(Output):
    id: str
    digest: str
    source_name: str
    encrypted: bool
    has_template: bool
    duplicate_of: str | None
    quality: dict[str, Any]
    created_at: datetime


class SubjectPublic(Output):
    id: str
    external_ref: str
    display_name: str
    category: str
    reason: str
    image_source: str
    added_by: str
    review_by: date
    created_at: datetime
    updated_at: datetime
    watchlists: list[str]
    images: list[ImagePublic]
