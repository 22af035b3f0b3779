"""Time passing for watchlist entries: the domain refuses a review-by date already passed, so a test that needs an
overdue entry makes it as the calendar would, by moving a valid date into the past afterwards."""

from __future__ import annotations

from datetime import date

from sqlalchemy import update
from sqlalchemy.orm import Session

from openlfr.store.models import Subject


def let_review_date_pass(session: Session, external_ref: str, review_by: date) -> None:
    """Set the subject's review-by date as if it had been given long ago and the day had since passed."""
    changed = session.execute(
        update(Subject).where(Subject.external_ref == external_ref).values(review_by=review_by)
    ).rowcount
    assert changed == 1, f"no subject {external_ref!r}"
    session.commit()
