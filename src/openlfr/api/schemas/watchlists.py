from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field

from openlfr.api.schemas.base import Input, Output
from openlfr.watchlists.reviews import ReviewState
from openlfr.watchlists.types import Category, ImageSource


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
    image_source: ImageSource
    image_source_note: str
    date_of_birth: date | None
    under_18: bool
    minor_justification: str
    added_by: str
    review_by: date
    created_at: datetime
    updated_at: datetime
    watchlists: list[str]
    images: list[ImagePublic]


class WatchlistCreate(Input):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)


class SubjectCreate(Input):
    external_ref: str = Field(min_length=1, max_length=200, description="the force's own reference (unique)")
    display_name: str = Field("", max_length=200)
    category: Category
    reason: str = Field(min_length=1, max_length=2000, description="why this person is on the watchlist")
    image_source: ImageSource = Field(description="where the reference images come from (other: say what in the note)")
    image_source_note: str = Field("", max_length=2000, description="what the source is and why it may be used")
    review_by: date = Field(description="when the entry must be reviewed or removed")
    date_of_birth: date | None = Field(None, description="for the under-18 safeguard")
    under_18: bool = Field(False, description="a child, where the date of birth is not known")
    minor_justification: str = Field("", max_length=2000, description="why a child is on the watchlist (required)")
    watchlist: str | None = Field(None, max_length=200, description="put the subject on this watchlist")


class SubjectUpdate(Input):
    display_name: str | None = Field(None, max_length=200)
    category: Category | None = None
    reason: str | None = Field(None, min_length=1, max_length=2000)
    image_source: ImageSource | None = None
    image_source_note: str | None = Field(None, max_length=2000)
    review_by: date | None = None
    date_of_birth: date | None = None
    under_18: bool | None = None
    minor_justification: str | None = Field(None, max_length=2000)


class ImageMismatchPublic(Output):
    """The image was enrolled, but its face matches none of the subject's other images."""

    code: str
    best_score: float
    threshold: float
    compared: int
    closest_image: str
    detail: str


class EnrolReport(Output):
    """The quality verdict on one uploaded image."""

    outcome: str
    """enrolled, already_enrolled, rejected (see code/reasons) or duplicate (possibly another subject)"""
    code: str | None
    reasons: list[str]
    detail: str
    digest: str | None
    duplicate_of: str | None
    duplicate_score: float | None
    image: ImagePublic | None
    """the stored image with its quality report, when enrolled"""
    warning: ImageMismatchPublic | None = None
    """enrolled, but check it: the face does not match the subject's other images (it may be someone else)"""


class ErasureRequest(Input):
    reason: str = Field(min_length=1, max_length=2000, description="why the subject is erased (recorded)")


class ErasurePublic(Output):
    record_id: str
    subject_id: str
    images: int
    templates: int
    snapshots_redacted: int


class ExclusionPublic(Output):
    subject_id: str
    reason: str


class SnapshotCreated(Output):
    id: str
    watchlist: str
    created_at: datetime
    fingerprint: str
    templates: int
    subjects: int
    excluded: list[ExclusionPublic]


class ReviewDuePublic(Output):
    watchlist: str
    subject_id: str
    external_ref: str
    display_name: str
    category: str
    review_by: date
    state: ReviewState
    days_left: int = Field(description="days from today to the review-by date (negative: overdue)")


class ReviewsDuePublic(Output):
    """Watchlist entries whose review is overdue or due within ``within_days``; renew one with PATCH
    /api/subjects/{id} (a new ``review_by``) or remove it with DELETE /api/watchlists/{name}/members/{id}."""

    as_of: date
    within_days: int
    states: list[ReviewState] = Field(description="every state an entry can be in, in order of urgency")
    entries: list[ReviewDuePublic]


class WatchlistOptions(Output):
    """The codes the console offers for a subject: from the server, never written into the script."""

    categories: list[Category]
    image_sources: list[ImageSource] = Field(description="'other' needs image_source_note")
