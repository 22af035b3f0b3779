"""Subjects and watchlists: create, find, change, list membership. Functions take an open session; the
caller owns the transaction. Every change is a governed action: it takes the principal, checks its
permission and writes its audit entry (``watchlist.create``, ``subject.create``, ``subject.update``,
``watchlist.add_member``, ``watchlist.remove_member``) in the same transaction, whoever calls (API, CLI,
import, demo)."""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from dataclasses import replace
from datetime import UTC, date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from openlfr.audit import append_audit
from openlfr.auth.permissions import Permission
from openlfr.auth.principal import Principal
from openlfr.store.errors import ConflictError, NotFoundError
from openlfr.store.media import MediaStore
from openlfr.store.models import ReferenceImage, Subject, Template, Watchlist, WatchlistMember
from openlfr.utc import as_utc
from openlfr.watchlists.names import check_watchlist_name
from openlfr.watchlists.types import Category, ImageSource, ImageView, SubjectChanges, SubjectInfo, SubjectView

MAX_TEXT = 200
MAX_NOTE = 2000
_CHECKED_FIELDS = ("image_source", "image_source_note", "date_of_birth", "under_18", "minor_justification")


def _required(value: str, name: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError(f"{name} is required")
    return value


def validate_info(info: SubjectInfo, today: date | None = None) -> SubjectInfo:
    """The same info with whitespace trimmed; ValueError when a required field is empty or too long, or a
    safeguard (``check_safeguards``, ``check_review_by``) refuses it. ``today``: the caller's clock (default:
    the UTC date now)."""
    ref = _required(info.external_ref, "external reference")
    if len(ref) > MAX_TEXT or len(info.display_name) > MAX_TEXT:
        raise ValueError(f"external reference and display name are limited to {MAX_TEXT} characters")
    checked = SubjectInfo(
        external_ref=ref,
        category=Category(info.category),
        reason=_required(info.reason, "reason (legal basis)"),
        image_source=image_source(info.image_source),
        added_by=_required(info.added_by, "added by"),
        review_by=info.review_by,
        display_name=info.display_name.strip(),
        image_source_note=info.image_source_note.strip(),
        date_of_birth=info.date_of_birth,
        under_18=info.under_18,
        minor_justification=info.minor_justification.strip(),
    )
    today = today or _today()
    check_safeguards(checked, today)
    check_review_by(checked.review_by, today)
    return checked


def _today() -> date:
    return datetime.now(UTC).date()


def check_review_by(review_by: date, today: date) -> None:
    """A new or renewed entry is reviewed today or later: a date already passed would put on the list an entry
    that every snapshot leaves out as overdue, and a renewal to a past date settles nothing."""
    if review_by < today:
        raise ValueError(f"the review-by date {review_by.isoformat()} has passed: give today or a later date")


def image_source(value: ImageSource | str) -> ImageSource:
    try:
        return ImageSource(str(value).strip())
    except ValueError:
        choices = ", ".join(s.value for s in ImageSource)
        raise ValueError(f"image source {value!r} is not one of: {choices} (other needs a note)") from None


def check_safeguards(info: SubjectInfo, today: date) -> None:
    """The rules that protect the public on every subject, whoever enters it: a source outside the controlled
    list is justified, a child's entry is justified, texts stay within their limits."""
    if info.image_source == ImageSource.OTHER and not info.image_source_note.strip():
        raise ValueError("image source 'other' needs a note saying what the source is and why it may be used")
    if info.date_of_birth is not None and info.date_of_birth > today:
        raise ValueError("the date of birth is in the future")
    if info.is_minor(today) and not info.minor_justification.strip():
        raise ValueError("a subject under 18 needs a recorded justification (why a child is on a watchlist)")
    if len(info.image_source_note) > MAX_NOTE or len(info.minor_justification) > MAX_NOTE:
        raise ValueError(f"notes and justifications are limited to {MAX_NOTE} characters")


def create_watchlist(session: Session, name: str, description: str = "", *, by: Principal) -> Watchlist:
    """A new watchlist; WatchlistNameError (400) for a name outside the rule (``watchlists.names``),
    ConflictError when one with the same name in any case exists."""
    by.require(Permission.WATCHLISTS_MANAGE)
    name = check_watchlist_name(name)
    same = session.scalars(select(Watchlist.name).where(func.lower(Watchlist.name) == name.lower())).first()
    if same is not None:
        raise ConflictError(f"watchlist {same!r} already exists (names are unique regardless of case)")
    watchlist = Watchlist(name=name, description=description)
    session.add(watchlist)
    session.flush()
    _audit(session, by, "watchlist.create", "watchlist", watchlist.id, {"name": watchlist.name})
    return watchlist


def delete_watchlist(session: Session, name: str, *, by: Principal) -> int:
    """Delete the watchlist, its memberships and snapshots (subjects stay); returns the member count."""
    by.require(Permission.WATCHLISTS_MANAGE)
    watchlist = get_watchlist(session, name)
    count = member_count(session, watchlist)
    # Bulk delete so the database's ON DELETE CASCADE removes memberships and snapshot copies.
    session.execute(delete(Watchlist).where(Watchlist.id == watchlist.id))
    _audit(session, by, "watchlist.delete", "watchlist", None, {"name": watchlist.name, "members": count})
    return count


def find_watchlist(session: Session, name: str) -> Watchlist | None:
    return session.scalars(select(Watchlist).where(Watchlist.name == name)).one_or_none()


def get_watchlist(session: Session, name: str) -> Watchlist:
    watchlist = find_watchlist(session, name)
    if watchlist is None:
        raise NotFoundError(f"no watchlist named {name!r} (see `lfr watchlist list`)")
    return watchlist


def find_subject(session: Session, ref_or_id: str) -> Subject | None:
    """By external reference first, then by id."""
    subject = session.scalars(select(Subject).where(Subject.external_ref == ref_or_id)).one_or_none()
    return subject if subject is not None else session.get(Subject, ref_or_id)


def get_subject(session: Session, ref_or_id: str) -> Subject:
    subject = find_subject(session, ref_or_id)
    if subject is None:
        raise NotFoundError(f"no subject with reference or id {ref_or_id!r}")
    return subject


def create_subject(session: Session, info: SubjectInfo, *, by: Principal, today: date | None = None) -> Subject:
    """A new subject added by ``by`` (its ``added_by``, whatever ``info.added_by`` says); ``today``: the
    caller's clock, for the safeguards (default: the UTC date now)."""
    by.require(Permission.WATCHLISTS_MANAGE)
    info = validate_info(replace(info, added_by=by.label), today)
    if find_subject(session, info.external_ref) is not None:
        raise ConflictError(f"a subject with reference {info.external_ref!r} already exists")
    subject = Subject(
        external_ref=info.external_ref,
        display_name=info.display_name,
        category=str(info.category),
        reason=info.reason,
        image_source=str(info.image_source),
        image_source_note=info.image_source_note,
        date_of_birth=info.date_of_birth,
        under_18=info.under_18,
        minor_justification=info.minor_justification,
        added_by=info.added_by,
        review_by=info.review_by,
    )
    session.add(subject)
    session.flush()
    _audit(session, by, "subject.create", "subject", subject.id, {"category": subject.category})
    return subject


def update_subject(
    session: Session, subject: Subject, changes: SubjectChanges, *, by: Principal, today: date | None = None
) -> Subject:
    """Apply the fields ``changes`` gives (None: unchanged); the changed subject passes the same safeguards
    as a new one (a new review-by date too; an overdue entry may still be corrected otherwise). The audit
    entry names the fields changed, never their values (personal data). ``today``: the caller's clock."""
    by.require(Permission.WATCHLISTS_MANAGE)
    today = today or _today()
    if changes.review_by is not None:
        check_review_by(changes.review_by, today)
    given = {name: getattr(changes, name) for name in _CHECKED_FIELDS if getattr(changes, name) is not None}
    if "image_source" in given:
        given["image_source"] = image_source(given["image_source"])
    if given:
        # The changed subject must pass the same safeguards as a new one.
        check_safeguards(replace(subject_info(subject), **given), today)
        for name, value in given.items():
            setattr(subject, name, str(value) if name == "image_source" else value)
    if changes.display_name is not None:
        subject.display_name = changes.display_name.strip()
    if changes.category is not None:
        subject.category = str(changes.category)
    if changes.reason is not None:
        subject.reason = _required(changes.reason, "reason (legal basis)")
    if changes.review_by is not None:
        subject.review_by = changes.review_by
    subject.updated_at = datetime.now(UTC)
    session.flush()
    fields = sorted(f.name for f in dataclass_fields(changes) if getattr(changes, f.name) is not None)
    _audit(session, by, "subject.update", "subject", subject.id, {"fields": fields})
    return subject


def add_member(session: Session, watchlist: Watchlist, subject: Subject, *, by: Principal) -> bool:
    """Put ``subject`` on ``watchlist``; False (and nothing audited) when it already was."""
    by.require(Permission.WATCHLISTS_MANAGE)
    if session.get(WatchlistMember, (watchlist.id, subject.id)) is not None:
        return False
    session.add(WatchlistMember(watchlist_id=watchlist.id, subject_id=subject.id))
    session.flush()
    _audit(session, by, "watchlist.add_member", "subject", subject.id, {"watchlist": watchlist.id})
    return True


def remove_member(session: Session, watchlist: Watchlist, subject: Subject, *, by: Principal) -> None:
    """Take ``subject`` off ``watchlist`` (the subject and its images stay; erasing them is separate)."""
    by.require(Permission.WATCHLISTS_MANAGE)
    member = session.get(WatchlistMember, (watchlist.id, subject.id))
    if member is None:
        raise NotFoundError(f"subject {subject.external_ref!r} is not on watchlist {watchlist.name!r}")
    session.delete(member)
    session.flush()
    _audit(session, by, "watchlist.remove_member", "subject", subject.id, {"watchlist": watchlist.id})


def _audit(
    session: Session, by: Principal, action: str, target_type: str, target_id: str | None, details: dict[str, object]
) -> None:
    append_audit(session, actor=by.actor, action=action, target_type=target_type, target_id=target_id, details=details)


def members(session: Session, watchlist: Watchlist) -> list[Subject]:
    query = (
        select(Subject)
        .join(WatchlistMember, WatchlistMember.subject_id == Subject.id)
        .where(WatchlistMember.watchlist_id == watchlist.id)
        .order_by(Subject.external_ref)
    )
    return list(session.scalars(query))


def member_count(session: Session, watchlist: Watchlist) -> int:
    query = select(func.count()).select_from(WatchlistMember).where(WatchlistMember.watchlist_id == watchlist.id)
    return int(session.scalar(query) or 0)


def template_count(session: Session, subject_ids: list[str]) -> int:
    if not subject_ids:
        return 0
    query = select(func.count()).select_from(Template).where(Template.subject_id.in_(subject_ids))
    return int(session.scalar(query) or 0)


def reference_image(session: Session, media: MediaStore, subject_ref: str, image_id: str, *, by: Principal) -> bytes:
    """The bytes of one of the subject's reference images, the view recorded (``subject.image.view``)."""
    by.require(Permission.WATCHLISTS_READ)
    subject = get_subject(session, subject_ref)
    record = session.get(ReferenceImage, image_id)
    if record is None or record.subject_id != subject.id:
        raise NotFoundError(f"subject has no image {image_id!r}")
    data = media.get(record.digest, encrypted=record.encrypted)
    _audit(session, by, "subject.image.view", "subject", subject.id, {"image_id": image_id})
    return data


def subject_view(session: Session, subject: Subject) -> SubjectView:
    watchlists = session.scalars(
        select(Watchlist.name)
        .join(WatchlistMember, WatchlistMember.watchlist_id == Watchlist.id)
        .where(WatchlistMember.subject_id == subject.id)
        .order_by(Watchlist.name)
    )
    images = session.scalars(
        select(ReferenceImage).where(ReferenceImage.subject_id == subject.id).order_by(ReferenceImage.created_at)
    )
    return SubjectView(
        id=subject.id,
        info=subject_info(subject),
        created_at=as_utc(subject.created_at),
        updated_at=as_utc(subject.updated_at),
        watchlists=tuple(watchlists),
        images=tuple(
            ImageView(
                id=image.id,
                digest=image.digest,
                source_name=image.source_name,
                encrypted=image.encrypted,
                quality_report=image.quality_report,
                has_template=image.template is not None,
                duplicate_of=image.duplicate_of,
                created_at=as_utc(image.created_at),
            )
            for image in images
        ),
    )


def subject_info(subject: Subject) -> SubjectInfo:
    return SubjectInfo(
        external_ref=subject.external_ref,
        category=Category(subject.category),
        reason=subject.reason,
        image_source=subject.image_source,
        added_by=subject.added_by,
        review_by=subject.review_by,
        display_name=subject.display_name,
        image_source_note=subject.image_source_note,
        date_of_birth=subject.date_of_birth,
        under_18=subject.under_18,
        minor_justification=subject.minor_justification,
    )


def review_overdue(subject: Subject, today: date) -> bool:
    return subject.review_by < today
