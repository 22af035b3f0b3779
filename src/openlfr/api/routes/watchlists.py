"""``/api/watchlists`` and ``/api/subjects``: the watchlist store — read by every role, changed by supervisors
(the authorising officers): watchlists, subjects, reference image uploads with their quality verdict,
snapshots, removal from a watchlist and erasure."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Response, status

from openlfr.api.context import AppContext
from openlfr.api.deps import ContextDep, CurrentUser, SessionDep, require
from openlfr.api.enrolment import UploadEnroller
from openlfr.api.errors import ApiError
from openlfr.api.permissions import Permission
from openlfr.api.schemas.watchlists import (
    EnrolReport,
    ErasurePublic,
    ErasureRequest,
    ExclusionPublic,
    ImageMismatchPublic,
    ImagePublic,
    MemberPublic,
    ReviewDuePublic,
    ReviewsDuePublic,
    SnapshotCreated,
    SubjectCreate,
    SubjectPublic,
    SubjectUpdate,
    WatchlistCreate,
    WatchlistDetail,
    WatchlistOptions,
    WatchlistPublic,
)
from openlfr.api.uploads import GuardedUpload, sniff_image
from openlfr.store.context import Store
from openlfr.store.errors import StorageError
from openlfr.watchlists.composition import REVIEW_SOON_DAYS
from openlfr.watchlists.enrol import EnrolRequest, record_enrolment
from openlfr.watchlists.erase import erase_subject
from openlfr.watchlists.report import list_watchlists, watchlist_info
from openlfr.watchlists.reviews import ReviewState, reviews_due
from openlfr.watchlists.snapshots import create_snapshot
from openlfr.watchlists.subjects import (
    add_member,
    create_subject,
    create_watchlist,
    get_subject,
    get_watchlist,
    members,
    reference_image,
    remove_member,
    subject_view,
    update_subject,
    validate_info,
)
from openlfr.watchlists.types import Category, ImageSource, Outcome, SubjectChanges, SubjectInfo

log = logging.getLogger(__name__)

read = require(Permission.WATCHLISTS_READ)
manage = require(Permission.WATCHLISTS_MANAGE)
watchlists_router = APIRouter(prefix="/api/watchlists", tags=["watchlists"])
subjects_router = APIRouter(prefix="/api/subjects", tags=["subjects"])
reviews_router = APIRouter(prefix="/api/watchlist-reviews", tags=["watchlists"])
options_router = APIRouter(prefix="/api/watchlist-options", tags=["watchlists"])


class InvalidSubjectError(ApiError):
    code, status = "invalid_metadata", 422


def _store(ctx: AppContext) -> Store:
    if ctx.services.store is None:
        raise StorageError("no media store is configured")
    return ctx.services.store


def _enroller(ctx: AppContext) -> UploadEnroller:
    if ctx.services.enroller is None:
        raise ApiError("enrolment is not available on this server", code="enrolment_unavailable", status=503)
    return ctx.services.enroller


@watchlists_router.get("", dependencies=[read])
def list_all(db: SessionDep) -> list[WatchlistPublic]:
    return [WatchlistPublic.model_validate(info, from_attributes=True) for info in list_watchlists(db)]


@watchlists_router.post("", status_code=status.HTTP_201_CREATED, dependencies=[manage])
def create(body: WatchlistCreate, db: SessionDep, principal: CurrentUser) -> WatchlistPublic:
    watchlist = create_watchlist(db, body.name.strip(), body.description, by=principal)
    public = WatchlistPublic.model_validate(watchlist_info(db, watchlist), from_attributes=True)
    db.commit()
    return public


@watchlists_router.get("/{name}", dependencies=[read])
def show(name: str, db: SessionDep, ctx: ContextDep) -> WatchlistDetail:
    watchlist = get_watchlist(db, name)
    info = watchlist_info(db, watchlist)
    today = ctx.services.clock().date()
    member_rows = [
        MemberPublic(
            id=s.id,
            external_ref=s.external_ref,
            display_name=s.display_name,
            category=s.category,
            review_by=s.review_by,
            review_overdue=s.review_by < today,
        )
        for s in members(db, watchlist)
    ]
    public = WatchlistPublic.model_validate(info, from_attributes=True)
    return WatchlistDetail(**public.model_dump(), members=member_rows)


@watchlists_router.post("/{name}/snapshots", status_code=status.HTTP_201_CREATED, dependencies=[manage])
def snapshot(name: str, db: SessionDep, ctx: ContextDep, principal: CurrentUser) -> SnapshotCreated:
    """Freeze the watchlist's current templates (of the enrolment model) for a deployment; subjects past their
    review date, or without a template, are excluded and listed."""
    contract = _enroller(ctx).engine.contract
    result = create_snapshot(db, name, contract, ctx.services.clock().date(), by=principal)
    db.commit()
    return SnapshotCreated(
        id=result.id,
        watchlist=result.watchlist,
        created_at=result.created_at,
        fingerprint=result.fingerprint,
        templates=result.templates,
        subjects=result.subjects,
        excluded=[ExclusionPublic(subject_id=e.subject_id, reason=e.reason) for e in result.excluded],
    )


@watchlists_router.delete("/{name}/members/{subject_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[manage])
def remove(name: str, subject_id: str, db: SessionDep, principal: CurrentUser) -> None:
    """Take a subject off a watchlist (the subject and its images stay; erase them separately)."""
    watchlist = get_watchlist(db, name)
    subject = get_subject(db, subject_id)
    remove_member(db, watchlist, subject, by=principal)
    db.commit()


def _subject_public(db: SessionDep, ref: str) -> SubjectPublic:
    view = subject_view(db, get_subject(db, ref))
    data = view.as_dict()
    data["created_at"], data["updated_at"] = view.created_at, view.updated_at
    data["images"] = [
        {**image_dict, "created_at": image.created_at}
        for image_dict, image in zip(data["images"], view.images, strict=True)
    ]
    return SubjectPublic.model_validate(data)


@subjects_router.post("", status_code=status.HTTP_201_CREATED, dependencies=[manage])
def create_one(body: SubjectCreate, db: SessionDep, ctx: ContextDep, principal: CurrentUser) -> SubjectPublic:
    """A new subject (metadata only: upload reference images next); ``added_by`` is the caller."""
    today = ctx.services.clock().date()
    try:
        info = validate_info(
            SubjectInfo(
                external_ref=body.external_ref,
                category=body.category,
                reason=body.reason,
                image_source=body.image_source,
                added_by=principal.label,
                review_by=body.review_by,
                display_name=body.display_name,
                image_source_note=body.image_source_note,
                date_of_birth=body.date_of_birth,
                under_18=body.under_18,
                minor_justification=body.minor_justification,
            ),
            today,
        )
    except ValueError as exc:
        raise InvalidSubjectError(str(exc)) from None
    watchlist = get_watchlist(db, body.watchlist) if body.watchlist else None
    subject = create_subject(db, info, by=principal, today=today)
    if watchlist is not None:
        add_member(db, watchlist, subject, by=principal)
    public = _subject_public(db, subject.id)
    db.commit()
    return public


@subjects_router.get("/{subject_id}", dependencies=[read])
def show_subject(subject_id: str, db: SessionDep) -> SubjectPublic:
    """One subject by id (or external reference), with its reference images' quality reports."""
    return _subject_public(db, subject_id)


@subjects_router.patch("/{subject_id}", dependencies=[manage])
def update(
    subject_id: str, body: SubjectUpdate, db: SessionDep, ctx: ContextDep, principal: CurrentUser
) -> SubjectPublic:
    subject = get_subject(db, subject_id)
    try:
        changes = SubjectChanges(**body.model_dump())
        update_subject(db, subject, changes, by=principal, today=ctx.services.clock().date())
    except ValueError as exc:
        raise InvalidSubjectError(str(exc)) from None
    public = _subject_public(db, subject.id)
    db.commit()
    return public


@subjects_router.post("/{subject_id}/images", dependencies=[manage])
def upload_image(
    subject_id: str,
    upload: GuardedUpload,
    db: SessionDep,
    ctx: ContextDep,
    principal: CurrentUser,
    force: Annotated[bool, Form(description="enrol despite a possible-duplicate-identity flag")] = False,
) -> EnrolReport:
    """Upload one reference image (JPEG, PNG or WebP; size, type and pixel count are checked) and get its
    quality verdict. Only an image that passes the enrolment gate is stored (encrypted at rest when a media
    key is configured); a rejected image is not kept anywhere."""
    subject = get_subject(db, subject_id)
    db.rollback()  # the enroller works in its own transactions
    request = EnrolRequest(subject.external_ref, upload.data, upload.name, force=force, by=principal)
    result = _enroller(ctx).enrol(request)
    image = None
    if result.outcome in (Outcome.ENROLLED, Outcome.ALREADY_ENROLLED) and result.digest is not None:
        view = subject_view(db, get_subject(db, subject.id))
        image = next((i for i in view.images if i.digest == result.digest), None)
    record_enrolment(db, subject.id, [result], by=principal)
    db.commit()
    return EnrolReport(
        outcome=str(result.outcome),
        code=result.code,
        reasons=[r for r in result.detail.split(",") if r] if result.outcome is Outcome.REJECTED else [],
        detail=result.detail,
        digest=result.digest,
        duplicate_of=result.duplicate_of,
        duplicate_score=result.duplicate_score,
        warning=ImageMismatchPublic.model_validate(result.warning.as_dict()) if result.warning else None,
        image=None
        if image is None
        else ImagePublic(
            id=image.id,
            digest=image.digest,
            source_name=image.source_name,
            encrypted=image.encrypted,
            has_template=image.has_template,
            duplicate_of=image.duplicate_of,
            quality=image.quality_report,
            created_at=image.created_at,
        ),
    )


_IMAGE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}, "description": "the reference image"}
}


@subjects_router.get("/{subject_id}/images/{image_id}", dependencies=[read], response_class=Response, responses=_IMAGE)
def image(subject_id: str, image_id: str, db: SessionDep, ctx: ContextDep, principal: CurrentUser) -> Response:
    data = reference_image(db, _store(ctx).media, subject_id, image_id, by=principal)
    db.commit()
    return Response(data, media_type=f"image/{sniff_image(data) or 'jpeg'}")


@subjects_router.post("/{subject_id}/erase", dependencies=[manage])
def erase(
    subject_id: str, body: ErasureRequest, db: SessionDep, ctx: ContextDep, principal: CurrentUser
) -> ErasurePublic:
    """Erase the subject: every reference image, template and snapshot copy, the record and its memberships.
    What remains is a record that the erasure happened. Alerts keep the subject's id only."""
    subject = get_subject(db, subject_id)
    db.rollback()
    result = erase_subject(_store(ctx), subject.id, by=principal, reason=body.reason)
    return ErasurePublic(
        record_id=result.record_id,
        subject_id=result.subject_id,
        images=result.images,
        templates=result.templates,
        snapshots_redacted=result.snapshots_redacted,
    )


@reviews_router.get("", dependencies=[read])
def due(
    db: SessionDep,
    ctx: ContextDep,
    within_days: Annotated[int, Query(ge=0, le=366, description="the window for 'due soon'")] = REVIEW_SOON_DAYS,
) -> ReviewsDuePublic:
    """Every watchlist entry whose review-by date has passed (overdue) or falls within ``within_days``, most
    overdue first, one row per watchlist it is on."""
    today = ctx.services.clock().date()
    entries = [ReviewDuePublic.model_validate(r, from_attributes=True) for r in reviews_due(db, today, within_days)]
    return ReviewsDuePublic(as_of=today, within_days=within_days, states=list(ReviewState), entries=entries)


@options_router.get("", dependencies=[read])
def subject_options() -> WatchlistOptions:
    """The subject categories and image sources the server accepts, in order."""
    return WatchlistOptions(categories=list(Category), image_sources=list(ImageSource))
