"""``/api/watchlists`` and ``/api/subjects``: read-only views on the watchlist store."""

from __future__ import annotations

from fastapi import APIRouter

from openlfr.api.deps import ContextDep, SessionDep, require
from openlfr.api.permissions import Permission
from openlfr.api.schemas.watchlists import MemberPublic, SubjectPublic, WatchlistDetail, WatchlistPublic
from openlfr.watchlists.report import list_watchlists, watchlist_info
from openlfr.watchlists.subjects import get_subject, get_watchlist, members, subject_view

watchlists_router = APIRouter(
    prefix="/api/watchlists", tags=["watchlists"], dependencies=[require(Permission.WATCHLISTS_READ)]
)
subjects_router = APIRouter(
    prefix="/api/subjects", tags=["subjects"], dependencies=[require(Permission.WATCHLISTS_READ)]
)


@watchlists_router.get("")
def list_all(db: SessionDep) -> list[WatchlistPublic]:
    return [WatchlistPublic.model_validate(info, from_attributes=True) for info in list_watchlists(db)]


@watchlists_router.get("/{name}")
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


@subjects_router.get("/{subject_id}")
def show_subject(subject_id: str, db: SessionDep) -> SubjectPublic:
    """One subject by id (or external reference), with its reference images' quality reports."""
    view = subject_view(db, get_subject(db, subject_id))
    data = view.as_dict()
    data["created_at"], data["updated_at"] = view.created_at, view.updated_at
    data["images"] = [
        {**image_dict, "created_at": image.created_at}
        for image_dict, image in zip(data["images"], view.images, strict=True)
    ]
    return SubjectPublic.model_validate(data)
