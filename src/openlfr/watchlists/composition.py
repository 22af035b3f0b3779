"""What a watchlist snapshot is made of, as the authorising officer must see it before authorising a
deployment: subjects per category and per image source, review-by dates, children, possible duplicates.

Counts only — no names, references or images — so the composition can be kept on the deployment record and
in the audit chain as what was shown. Its ``digest`` lets a client prove which composition its user saw:
authorising with a digest that no longer matches (the snapshot changed, e.g. by an erasure) is refused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openlfr.store.models import ReferenceImage, Snapshot, SnapshotTemplate, Subject
from openlfr.watchlists.types import age_on, is_minor

REVIEW_SOON_DAYS = 30


@dataclass(frozen=True, slots=True)
class Composition:
    snapshot_id: str
    fingerprint: str
    subjects: int
    templates: int
    by_category: dict[str, int]
    by_image_source: dict[str, int]
    under_18: int
    """subjects under 18 on ``as_of`` (by date of birth, or flagged)"""
    under_18_unjustified: int
    youngest_age: int | None
    review_overdue: int
    """subjects whose review-by date has passed: they should not be on the list without a review"""
    review_due_soon: int
    possible_duplicates: int
    """subjects with a reference image flagged as possibly showing another subject"""
    as_of: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def digest(self) -> str:
        canonical = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _count(values: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return dict(sorted(out.items()))


def snapshot_composition(session: Session, snapshot: Snapshot, on: date) -> Composition:
    """The composition of the subjects whose templates the snapshot still holds, judged on date ``on``."""
    subject_ids = list(
        session.scalars(select(SnapshotTemplate.subject_id).where(SnapshotTemplate.snapshot_id == snapshot.id))
    )
    templates = len(subject_ids)
    subjects = list(session.scalars(select(Subject).where(Subject.id.in_(set(subject_ids)))))
    # Every subject of a snapshot has its record (erasure removes both); one that does not is shown as such.
    missing = len(set(subject_ids)) - len(subjects)
    minors = [s for s in subjects if _is_minor(s, on)]
    ages = [age_on(s.date_of_birth, on) for s in minors if s.date_of_birth is not None]
    flagged = session.scalar(
        select(func.count(func.distinct(ReferenceImage.subject_id))).where(
            ReferenceImage.subject_id.in_([s.id for s in subjects]), ReferenceImage.duplicate_of.is_not(None)
        )
    )
    soon = on + timedelta(days=REVIEW_SOON_DAYS)
    return Composition(
        snapshot_id=snapshot.id,
        fingerprint=snapshot.fingerprint,
        subjects=len(subjects) + missing,
        templates=templates,
        by_category=_count([s.category for s in subjects] + ["no record"] * missing),
        by_image_source=_count([s.image_source for s in subjects] + ["no record"] * missing),
        under_18=len(minors),
        under_18_unjustified=sum(not s.minor_justification.strip() for s in minors),
        youngest_age=min(ages) if ages else None,
        review_overdue=sum(s.review_by < on for s in subjects),
        review_due_soon=sum(on <= s.review_by < soon for s in subjects),
        possible_duplicates=int(flagged or 0),
        as_of=on.isoformat(),
    )


def _is_minor(subject: Subject, on: date) -> bool:
    return is_minor(subject.date_of_birth, subject.under_18, on)


def describe(composition: Composition) -> list[str]:
    """The composition as lines a person reads before authorising."""

    def pairs(counts: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in counts.items()) or "-"

    lines = [
        f"watchlist snapshot {composition.snapshot_id} ({composition.fingerprint[:16]}…): "
        f"{composition.subjects} subjects, {composition.templates} templates",
        f"  by category: {pairs(composition.by_category)}",
        f"  by image source: {pairs(composition.by_image_source)}",
        f"  under 18: {composition.under_18}"
        + (f" (youngest {composition.youngest_age})" if composition.youngest_age is not None else "")
        + (f", {composition.under_18_unjustified} WITHOUT justification" if composition.under_18_unjustified else ""),
        f"  review-by date passed: {composition.review_overdue}; due within {REVIEW_SOON_DAYS} days: "
        f"{composition.review_due_soon}",
        f"  possible duplicate identities flagged: {composition.possible_duplicates}",
    ]
    return lines
