"""Records exchanged between the watchlist services and their callers (CLI, API)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class Category(StrEnum):
    """Watchlist categories of the College of Policing APP on live facial recognition (stable codes)."""

    WANTED_BY_COURTS = "wanted_by_courts"
    SUSPECTED_OFFENCE = "suspected_offence"
    BAIL_OR_CONDITIONS = "bail_or_conditions"
    MISSING_AT_RISK = "missing_at_risk"
    RISK_TO_SELF_OR_OTHERS = "risk_to_self_or_others"
    ASSOCIATE = "associate"
    WITNESS = "witness"
    VICTIM = "victim"


class ImageSource(StrEnum):
    """Where a subject's reference images come from (a controlled list; ``other`` needs a justification)."""

    CUSTODY_IMAGE = "custody_image"
    OTHER_POLICE_IMAGE = "other_police_image"
    """a police-held image other than a custody photograph"""
    OTHER = "other"
    """any other source: the subject's ``image_source_note`` must say what and why it may be used"""


ADULT_AGE = 18


class RejectCode(StrEnum):
    """Why an enrolment did not happen, beyond the quality gate's own reason codes (stable codes)."""

    UNREADABLE = "unreadable"
    MISSING_FILE = "missing_file"
    DUPLICATE_IMAGE = "duplicate_image"
    POSSIBLE_DUPLICATE_IDENTITY = "possible_duplicate_identity"
    INVALID_ROW = "invalid_row"
    INVALID_METADATA = "invalid_metadata"
    INTERNAL_ERROR = "internal_error"


class Outcome(StrEnum):
    ENROLLED = "enrolled"
    ALREADY_ENROLLED = "already_enrolled"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class SubjectInfo:
    """What an operator says about a subject; ``reason`` (the legal basis) and ``image_source`` are required.

    A subject under 18 — by ``date_of_birth``, or flagged ``under_18`` when the date is unknown — needs its own
    ``minor_justification``: children on a watchlist are counted in the deployment record and shown to the
    authorising officer."""

    external_ref: str
    category: Category
    reason: str
    image_source: ImageSource | str
    added_by: str
    review_by: date
    display_name: str = ""
    image_source_note: str = ""
    date_of_birth: date | None = None
    under_18: bool = False
    minor_justification: str = ""

    def is_minor(self, on: date) -> bool:
        return is_minor(self.date_of_birth, self.under_18, on)


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def is_minor(date_of_birth: date | None, under_18: bool, on: date) -> bool:
    """Under 18 on ``on``: by the date of birth when known, else by the flag."""
    return under_18 or (date_of_birth is not None and age_on(date_of_birth, on) < ADULT_AGE)


@dataclass(frozen=True, slots=True)
class SubjectChanges:
    """Fields to change on a subject; None leaves a field as it is."""

    display_name: str | None = None
    category: Category | None = None
    reason: str | None = None
    image_source: ImageSource | str | None = None
    image_source_note: str | None = None
    review_by: date | None = None
    date_of_birth: date | None = None
    under_18: bool | None = None
    minor_justification: str | None = None


@dataclass(frozen=True, slots=True)
class ImageView:
    id: str
    digest: str
    source_name: str
    encrypted: bool
    quality_report: dict[str, Any]
    has_template: bool
    duplicate_of: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SubjectView:
    id: str
    info: SubjectInfo
    created_at: datetime
    updated_at: datetime
    watchlists: tuple[str, ...]
    images: tuple[ImageView, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "external_ref": self.info.external_ref,
            "display_name": self.info.display_name,
            "category": str(self.info.category),
            "reason": self.info.reason,
            "image_source": str(self.info.image_source),
            "image_source_note": self.info.image_source_note,
            "date_of_birth": self.info.date_of_birth.isoformat() if self.info.date_of_birth else None,
            "under_18": self.info.under_18,
            "minor_justification": self.info.minor_justification,
            "added_by": self.info.added_by,
            "review_by": self.info.review_by.isoformat(),
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "watchlists": list(self.watchlists),
            "images": [
                {
                    "id": image.id,
                    "digest": image.digest,
                    "source_name": image.source_name,
                    "encrypted": image.encrypted,
                    "has_template": image.has_template,
                    "duplicate_of": image.duplicate_of,
                    "quality": image.quality_report,
                }
                for image in self.images
            ],
        }


@dataclass(frozen=True, slots=True)
class ImageMismatch:
    """A warning on an enrolled image: its face does not match the subject's other images (the best score
    against them is below the model's calibrated threshold), so it may show someone else. Scores and names
    of the images only: never a template."""

    best_score: float
    threshold: float
    compared: int
    """how many of the subject's other templates (same model) it was compared with"""
    closest_image: str
    """the source name of the other image it is most like"""
    code: str = "subject_images_differ"

    @property
    def detail(self) -> str:
        return (
            f"the face in this image does not match the subject's {self.compared} other image(s): the best score, "
            f"{self.best_score:.3f} (with {self.closest_image!r}), is below the model's calibrated threshold "
            f"{self.threshold:.3f}; check that every image of the subject shows the same person"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "best_score": round(self.best_score, 4),
            "threshold": self.threshold,
            "compared": self.compared,
            "closest_image": self.closest_image,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class EnrolResult:
    """What happened to one image. ``code`` is a quality Reason or RejectCode value when not enrolled;
    ``warning`` says what to check about an enrolled one."""

    outcome: Outcome
    code: str | None = None
    detail: str = ""
    digest: str | None = None
    duplicate_of: str | None = None
    duplicate_score: float | None = None
    warning: ImageMismatch | None = None


@dataclass(frozen=True, slots=True)
class Reject:
    """One line of the rejects report: where the image came from and why — never its content."""

    source: str
    subject_ref: str
    code: str
    detail: str


@dataclass(frozen=True, slots=True)
class ImportSummary:
    watchlist: str
    items: int
    enrolled: int
    already_enrolled: int
    rejected: dict[str, int]
    duplicates: int
    rejects: tuple[Reject, ...] = field(repr=False)
    rejects_file: str | None = None
    import_id: str = ""
    """links the audit entries of one import: its start, each enrolment, its end"""
    mismatched: tuple[Reject, ...] = ()
    """images enrolled with a warning: their face matches none of their subject's other images"""

    def as_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "watchlist": self.watchlist,
            "items": self.items,
            "enrolled": self.enrolled,
            "already_enrolled": self.already_enrolled,
            "rejected": dict(sorted(self.rejected.items())),
            "duplicates": self.duplicates,
            "rejects_file": self.rejects_file,
            "warnings": [
                {"source": w.source, "subject_ref": w.subject_ref, "code": w.code, "detail": w.detail}
                for w in self.mismatched
            ],
        }


@dataclass(frozen=True, slots=True)
class Exclusion:
    subject_id: str
    external_ref: str
    reason: str


@dataclass(frozen=True, slots=True)
class SnapshotResult:
    id: str
    watchlist: str
    created_at: datetime
    fingerprint: str
    templates: int
    subjects: int
    excluded: tuple[Exclusion, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "watchlist": self.watchlist,
            "created_at": self.created_at.isoformat(),
            "fingerprint": self.fingerprint,
            "templates": self.templates,
            "subjects": self.subjects,
            "excluded": [
                {"subject_id": e.subject_id, "external_ref": e.external_ref, "reason": e.reason} for e in self.excluded
            ],
        }


@dataclass(frozen=True, slots=True)
class ErasureResult:
    record_id: str
    subject_id: str
    images: int
    templates: int
    snapshots_redacted: int
    media_files_deleted: int
    media_files_kept: int = 0
    """files kept because an alert (e.g. on hold) points at the same image"""
    media_files_pending: int = 0
    """files that could not be deleted yet: listed, retried by the next retention run"""

    def as_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "subject_id": self.subject_id,
            "images": self.images,
            "templates": self.templates,
            "snapshots_redacted": self.snapshots_redacted,
            "media_files_deleted": self.media_files_deleted,
            "media_files_kept": self.media_files_kept,
            "media_files_pending": self.media_files_pending,
        }
