"""Watchlist overview and review report: who is on it, why, until when — no biometric data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openlfr.csvsafe import SafeDictWriter
from openlfr.store.models import ReferenceImage, Subject, Template, Watchlist
from openlfr.utc import as_utc
from openlfr.watchlists.snapshots import list_snapshots
from openlfr.watchlists.subjects import get_watchlist, member_count, members
from openlfr.watchlists.types import is_minor

REPORT_COLUMNS = (
    "external_ref",
    "display_name",
    "category",
    "reason",
    "image_source",
    "image_source_note",
    "under_18",
    "added_by",
    "created_at",
    "review_by",
    "review_overdue",
    "images",
    "templates",
)


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    id: str
    created_at: datetime
    fingerprint: str
    templates: int
    subjects: int
    excluded: int
    erasures: int


@dataclass(frozen=True, slots=True)
class WatchlistInfo:
    name: str
    description: str
    created_at: datetime
    subjects: int
    snapshots: tuple[SnapshotInfo, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "created_at": self.created_at.isoformat(),
            "subjects": self.subjects,
            "snapshots": [
                {
                    "id": s.id,
                    "created_at": s.created_at.isoformat(),
                    "fingerprint": s.fingerprint,
                    "templates": s.templates,
                    "subjects": s.subjects,
                    "excluded": s.excluded,
                    "erasures": s.erasures,
                }
                for s in self.snapshots
            ],
        }


@dataclass(frozen=True, slots=True)
class ReportRow:
    external_ref: str
    display_name: str
    category: str
    reason: str
    image_source: str
    image_source_note: str
    under_18: bool
    """a child on the day of the report (by date of birth, or flagged)"""
    added_by: str
    created_at: datetime
    review_by: date
    review_overdue: bool
    images: int
    templates: int

    def as_dict(self) -> dict[str, Any]:
        values: dict[str, Any] = {name: getattr(self, name) for name in REPORT_COLUMNS}
        values["created_at"] = self.created_at.isoformat()
        values["review_by"] = self.review_by.isoformat()
        return values


def write_report_csv(handle: IO[str], rows: Iterable[ReportRow]) -> None:
    """The review report as CSV; the reasons and sources operators typed are neutralised for spreadsheets."""
    writer = SafeDictWriter(handle, REPORT_COLUMNS)
    writer.writeheader()
    writer.writerows(row.as_dict() for row in rows)


def watchlist_info(session: Session, watchlist: Watchlist) -> WatchlistInfo:
    return WatchlistInfo(
        name=watchlist.name,
        description=watchlist.description,
        created_at=as_utc(watchlist.created_at),
        subjects=member_count(session, watchlist),
        snapshots=tuple(
            SnapshotInfo(
                s.id,
                as_utc(s.created_at),
                s.fingerprint,
                s.template_count,
                s.subject_count,
                len(s.excluded),
                s.erasures,
            )
            for s in list_snapshots(session, watchlist)
        ),
    )


def list_watchlists(session: Session) -> list[WatchlistInfo]:
    return [watchlist_info(session, w) for w in session.scalars(select(Watchlist).order_by(Watchlist.name))]


def _count(session: Session, model: type[ReferenceImage] | type[Template], subject: Subject) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(model.subject_id == subject.id)) or 0)


def review_report(session: Session, name: str, today: date) -> list[ReportRow]:
    watchlist = get_watchlist(session, name)
    return [
        ReportRow(
            external_ref=s.external_ref,
            display_name=s.display_name,
            category=s.category,
            reason=s.reason,
            image_source=s.image_source,
            image_source_note=s.image_source_note,
            under_18=is_minor(s.date_of_birth, s.under_18, today),
            added_by=s.added_by,
            created_at=as_utc(s.created_at),
            review_by=s.review_by,
            review_overdue=s.review_by < today,
            images=_count(session, ReferenceImage, s),
            templates=_count(session, Template, s),
        )
        for s in members(session, watchlist)
    ]
