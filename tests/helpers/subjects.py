"""Watchlist entries for tests: one made over the API, time passing for it (the domain refuses a review-by date
already passed, so a test that needs an overdue entry moves a valid date into the past afterwards, as the calendar
would), and the alerts stored for a subject since a moment."""

from __future__ import annotations

from datetime import date, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.store.alert_models import AlertRecord
from openlfr.store.context import Store
from openlfr.store.models import Subject
from openlfr.utc import as_utc


def post_subject(client: TestClient, ref: str, review_by: str, watchlist: str) -> str:
    """A wanted-by-courts subject ``ref`` on ``watchlist``, made by the signed-in ``client``; returns its id."""
    created = client.post(
        "/api/subjects",
        json={
            "external_ref": ref,
            "display_name": ref.title(),
            "category": "wanted_by_courts",
            "reason": "warrant",
            "image_source": "custody_image",
            "review_by": review_by,
            "watchlist": watchlist,
        },
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def let_review_date_pass(session: Session, external_ref: str, review_by: date) -> None:
    """Set the subject's review-by date as if it had been given long ago and the day had since passed."""
    subject = session.scalars(select(Subject).where(Subject.external_ref == external_ref)).one()
    subject.review_by = review_by
    session.commit()


def alerts_since(store: Store, subject_id: str, since: datetime) -> list[str]:
    """The ids of the alerts stored for ``subject_id`` at or after ``since`` (none, once it is erased)."""
    with store.db.session() as session:
        rows = session.execute(
            select(AlertRecord.id, AlertRecord.created_at).where(AlertRecord.subject_id == subject_id)
        ).all()
    return [row.id for row in rows if as_utc(row.created_at) >= since]
