"""Watchlist entries whose review is due: every subject on a watchlist whose review-by date has passed
(overdue: a snapshot leaves it out) or falls within the next ``REVIEW_SOON_DAYS`` days. One row per watchlist
membership, since an entry is renewed on the subject (a new review-by date) but removed from one watchlist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.store.models import Subject, Watchlist, WatchlistMember
from openlfr.watchlists.composition import REVIEW_SOON_DAYS


class ReviewState(StrEnum):
    OVERDUE = "overdue"
    """the review-by date has passed: the entry must be reviewed (renewed) or removed"""
    DUE_SOON = "due_soon"
    """the review-by date is today or within the window"""


@dataclass(frozen=True, slots=True)
class ReviewDue:
    watchlist: str
    subject_id: str
    external_ref: str
    display_name: str
    category: str
    review_by: date
    state: ReviewState
    days_left: int
    """days from today to the review-by date (negative: overdue by that many)"""


def reviews_due(session: Session, today: date, within_days: int = REVIEW_SOON_DAYS) -> list[ReviewDue]:
    """Every watchlist entry whose review-by date is before ``today + within_days``, most overdue first."""
    before = today + timedelta(days=within_days)
    query = (
        select(Watchlist.name, Subject)
        .join(WatchlistMember, WatchlistMember.watchlist_id == Watchlist.id)
        .join(Subject, Subject.id == WatchlistMember.subject_id)
        .where(Subject.review_by < before)
        .order_by(Subject.review_by, Subject.external_ref, Watchlist.name)
    )
    return [
        ReviewDue(
            watchlist=name,
            subject_id=subject.id,
            external_ref=subject.external_ref,
            display_name=subject.display_name,
            category=subject.category,
            review_by=subject.review_by,
            state=ReviewState.OVERDUE if subject.review_by < today else ReviewState.DUE_SOON,
            days_left=(subject.review_by - today).days,
        )
        for name, subject in session.execute(query)
    ]
