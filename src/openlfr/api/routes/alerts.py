"""``/api/alerts``: list, view, images, the live stream (Server-Sent Events), adjudication and outcome (and
their amendments), and each alert's history of changes."""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from openlfr.alerts.encounters import DEFAULT_GAP_S, Encounter, list_encounters
from openlfr.alerts.review import (
    AlertFilter,
    StaleVersionError,
    adjudicate,
    alerts_after,
    get_alert,
    last_seq,
    list_alerts,
    record_outcome,
)
from openlfr.alerts.viewing import AlertImage, alert_image, view_alert, view_history
from openlfr.alerts.vocabulary import (
    ALLOWED_FROM,
    DECIDED,
    OPEN_STATUSES,
    AlertStatus,
    Decision,
    EngagementOutcome,
    RejectReason,
)
from openlfr.api.context import AppContext
from openlfr.api.deps import ContextDep, CurrentUser, SessionDep, require
from openlfr.api.errors import ApiError
from openlfr.api.permissions import Permission
from openlfr.api.schemas.alerts import (
    AdjudicationRequest,
    AlertChangePublic,
    AlertHistory,
    AlertOptions,
    AlertPage,
    AlertPublic,
    AlertSubject,
    EncounterMember,
    EncounterPage,
    EncounterPublic,
    OutcomeRequest,
    SubjectOption,
)
from openlfr.api.uploads import sniff_image
from openlfr.auth.principal import Principal
from openlfr.auth.sessions import still_valid as session_still_valid
from openlfr.auth.tokens import still_valid as token_still_valid
from openlfr.store.alert_models import AlertRecord
from openlfr.store.errors import StorageError
from openlfr.store.media import MediaStore
from openlfr.store.models import ReferenceImage, Subject
from openlfr.utc import as_utc

log = logging.getLogger(__name__)

read = require(Permission.ALERTS_READ)
decide = require(Permission.ALERTS_ADJUDICATE)
router = APIRouter(prefix="/api/alerts", tags=["alerts"])

_POLL_S = 2.0
"""how often the stream looks at the database without a wake-up from the bus (alerts of other processes)"""
_TICK_S = 0.05
_HEARTBEAT_S = 15.0


def alert_public(session: Session, record: AlertRecord) -> AlertPublic:
    subject = session.get(Subject, record.subject_id) if record.subject_id else None
    reference = session.get(ReferenceImage, record.reference_image) if len(record.reference_image) == 32 else None
    return AlertPublic.model_validate(
        {
            **{column: getattr(record, column) for column in AlertPublic.model_fields if hasattr(record, column)},
            "subject": AlertSubject.model_validate(subject) if subject is not None else None,
            "has_context": record.context_media is not None,
            "has_reference": reference is not None,
        }
    )


def _alert_filter(
    status: Annotated[
        list[AlertStatus] | None, Query(max_length=len(AlertStatus), description="any of these (repeat it)")
    ] = None,
    source: Annotated[str | None, Query(max_length=64, description="camera name")] = None,
    subject: Annotated[str | None, Query(max_length=32, description="subject id")] = None,
    deployment: Annotated[str | None, Query(max_length=32, description="deployment id")] = None,
    since: Annotated[datetime | None, Query(description="decided at or after (ISO 8601; UTC if no offset)")] = None,
) -> AlertFilter:
    """The filter query parameters the alert list and the encounter queue share."""
    return AlertFilter(
        statuses=tuple(dict.fromkeys(status or ())),
        source=source,
        subject_id=subject,
        deployment_id=deployment,
        since=as_utc(since) if since is not None else None,
    )


FilterDep = Annotated[AlertFilter, Depends(_alert_filter)]


@router.get("", dependencies=[read])
def list_all(
    db: SessionDep,
    found: FilterDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    before_seq: Annotated[
        int | None, Query(ge=1, le=2**62, description="only alerts with a lower seq (page on by key)")
    ] = None,
) -> AlertPage:
    """Alerts, newest first, with the true number that match. Page on with ``before_seq`` = the previous
    page's ``next_before_seq`` (null: nothing more): unlike ``offset`` it skips nothing when alerts are
    decided or raised between pages."""
    # One row more than asked says whether there is another page.
    rows, total = list_alerts(db, found, limit=limit + 1, offset=offset, before_seq=before_seq)
    shown = rows[:limit]
    return AlertPage(
        items=[alert_public(db, r) for r in shown],
        total=total,
        limit=limit,
        offset=offset,
        next_before_seq=shown[-1].seq if len(rows) > limit else None,
    )


MEMBERS_SHOWN = 100
"""open alerts listed per encounter: what one decision on it can cover (a person in view for an hour at the
default cooldown raises about 60)"""


def _encounter_public(db: Session, encounter: Encounter) -> EncounterPublic:
    open_members = [m for m in reversed(encounter.members) if m.status in OPEN_STATUSES]
    return EncounterPublic(
        key=encounter.key,
        status=encounter.status,
        count=len(encounter.members),
        open=len(open_members),
        first_at=encounter.members[0].decided_at,
        last_at=encounter.newest.decided_at,
        last_seq=encounter.newest.seq,
        best=alert_public(db, get_alert(db, encounter.best.id)),
        members=[EncounterMember.model_validate(m) for m in open_members[:MEMBERS_SHOWN]],
    )


@router.get("/encounters", dependencies=[read])
def encounters(
    db: SessionDep,
    found: FilterDep,
    gap_s: Annotated[float, Query(ge=0, le=86_400, description="longest quiet gap inside one encounter")] = (
        DEFAULT_GAP_S
    ),
    before_seq: Annotated[
        int | None, Query(ge=1, le=2**62, description="only encounters whose newest alert has a lower seq")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> EncounterPage:
    """Alerts grouped into encounters (one subject on one camera in one deployment, each alert within
    ``gap_s`` of the previous), newest first, with the true number of encounters and alerts that match.
    Page on with ``before_seq`` = the previous page's ``next_before_seq``."""
    page = list_encounters(db, found, gap_s=gap_s, limit=limit, before_seq=before_seq)
    return EncounterPage(
        items=[_encounter_public(db, e) for e in page.items],
        total=page.total,
        alerts=page.alerts,
        limit=limit,
        gap_s=gap_s,
        next_before_seq=page.items[-1].newest.seq if page.more else None,
    )


@router.get("/options", dependencies=[read])
def options(db: SessionDep, ctx: ContextDep) -> AlertOptions:
    """The codes the console offers (statuses, decisions, reject reasons, outcomes) and the cameras,
    deployments and subjects that have alerts, for its filters."""
    sources = db.scalars(select(AlertRecord.source).distinct().order_by(AlertRecord.source))
    deployments = db.scalars(
        select(AlertRecord.deployment_id)
        .where(AlertRecord.deployment_id.is_not(None))
        .distinct()
        .order_by(AlertRecord.deployment_id)
    )
    subject_ids = select(AlertRecord.subject_id).where(AlertRecord.subject_id.is_not(None)).distinct()
    subjects = db.scalars(select(Subject).where(Subject.id.in_(subject_ids)).order_by(Subject.external_ref))
    return AlertOptions(
        statuses=list(AlertStatus),
        open_statuses=[s for s in AlertStatus if s in OPEN_STATUSES],
        decidable_from={d: [s for s in AlertStatus if s in ALLOWED_FROM[d]] for d in Decision},
        decided_statuses=[s for s in AlertStatus if s in DECIDED],
        decisions=list(Decision),
        reject_reasons=list(RejectReason),
        outcomes=list(EngagementOutcome),
        encounter_gap_s=DEFAULT_GAP_S,
        retention_days=ctx.settings.governance.alert_retention_days,
        last_seq=last_seq(db),
        sources=list(sources),
        deployments=[d for d in deployments if d is not None],
        subjects=[
            SubjectOption(id=s.id, label=f"{s.display_name} ({s.external_ref})" if s.display_name else s.external_ref)
            for s in subjects
        ],
    )


_END_REVOKED = 'event: end\ndata: {"reason": "credentials_revoked"}\n\n'


def still_valid(ctx: AppContext, principal: Principal) -> bool:
    """Whether ``principal``'s credentials would still be accepted (read only)."""
    now = ctx.services.clock()
    with ctx.services.sessions() as session:
        if principal.kind == "token" and principal.role is not None:
            return token_still_valid(session, principal.id, principal.role, now)
        if principal.session_value is not None and principal.role is not None:
            return session_still_valid(
                session, principal.session_value, principal.role.value, ctx.session_policy, now, "console"
            )
    return True


def _sse(public: AlertPublic) -> str:
    return f"id: {public.seq}\nevent: alert\ndata: {json.dumps(public.model_dump(mode='json'))}\n\n"


def _resume_point(last_event_id: str | None, after: int | None) -> int | None:
    if last_event_id is not None and last_event_id.strip().isdigit():
        return min(int(last_event_id.strip()), 2**62)  # beyond any seq; bigger would overflow the database
    return after


@router.get(
    "/stream",
    dependencies=[read],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "one `alert` event per new alert"}},
)
async def stream(
    request: Request,
    ctx: ContextDep,
    principal: CurrentUser,
    after: Annotated[int | None, Query(ge=0, le=2**62, description="send alerts with seq above this")] = None,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
) -> StreamingResponse:
    """Server-Sent Events: every alert stored after ``Last-Event-ID`` (sent by a reconnecting browser) or
    ``after``; without either, only alerts stored from now on. Event ids are the alerts' ``seq``. The caller's
    login is re-checked whenever an account or token changes in this server, and every few seconds for
    changes made elsewhere: once it is no longer valid the stream sends ``event: end`` and closes."""
    sessions = ctx.services.sessions
    start = _resume_point(last_event_id, after)
    if start is None:

        def newest() -> int:
            with sessions() as session:
                return last_seq(session)

        start = await run_in_threadpool(newest)
    bus = ctx.services.bus
    wake: queue.Queue[dict[str, object]] | None = bus.subscribe(maxsize=1000) if bus is not None else None

    def fetch(seq: int) -> list[AlertPublic]:
        with sessions() as session:
            return [alert_public(session, r) for r in alerts_after(session, seq)]

    async def events() -> AsyncIterator[str]:
        last = start
        now = time.monotonic()
        deadline, next_poll, next_beat = now + ctx.settings.api.alert_stream_max_s, now, now + _HEARTBEAT_S
        credentials = ctx.services.credentials
        seen = credentials.generation
        try:
            yield "retry: 1000\n\n"
            stopping = ctx.services.stopping
            while time.monotonic() < deadline and not stopping.is_set() and not await request.is_disconnected():
                if credentials.generation != seen or time.monotonic() >= next_poll:
                    seen = credentials.generation
                    if not await run_in_threadpool(still_valid, ctx, principal):
                        log.info("alert stream of %s closed: its credentials were revoked", principal.actor)
                        yield _END_REVOKED
                        return
                woken = False
                while wake is not None and not wake.empty():
                    wake.get_nowait()
                    woken = True
                if woken or time.monotonic() >= next_poll:
                    for public in await run_in_threadpool(fetch, last):
                        last = public.seq
                        yield _sse(public)
                    next_poll = time.monotonic() + _POLL_S
                if time.monotonic() >= next_beat:
                    yield ": keep-alive\n\n"
                    next_beat = time.monotonic() + _HEARTBEAT_S
                await asyncio.sleep(_TICK_S)
        finally:
            if wake is not None and bus is not None:
                bus.unsubscribe(wake)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"})


@router.get("/{alert_id}", dependencies=[read])
def show(alert_id: str, db: SessionDep, principal: CurrentUser) -> AlertPublic:
    public = alert_public(db, view_alert(db, alert_id, by=principal))
    db.commit()
    return public


@router.get("/{alert_id}/history", dependencies=[read])
def history(alert_id: str, db: SessionDep, principal: CurrentUser) -> AlertHistory:
    """Every change of the alert's adjudication and engagement outcome (who, when, what, why), oldest first."""
    record, history_entries = view_history(db, alert_id, by=principal)
    changes = [AlertChangePublic.model_validate(change) for change in history_entries]
    db.commit()
    return AlertHistory(
        alert_id=record.id, status=record.status, outcome=record.outcome, hold=record.hold, changes=changes
    )


def _media(ctx: AppContext) -> MediaStore:
    if ctx.services.store is None:
        raise StorageError("no media store is configured")
    return ctx.services.store.media


def _image(db: Session, ctx: AppContext, alert_id: str, kind: AlertImage, principal: Principal) -> Response:
    data = alert_image(db, _media(ctx), alert_id, kind, by=principal)
    db.commit()
    return Response(data, media_type=f"image/{sniff_image(data) or 'jpeg'}")


_IMAGE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}, "description": "the image"}
}


@router.get("/{alert_id}/probe", dependencies=[read], response_class=Response, responses=_IMAGE)
def probe_image(alert_id: str, db: SessionDep, ctx: ContextDep, principal: CurrentUser) -> Response:
    """The face from the camera that raised the alert."""
    return _image(db, ctx, alert_id, AlertImage.PROBE, principal)


@router.get("/{alert_id}/context", dependencies=[read], response_class=Response, responses=_IMAGE)
def context_image(alert_id: str, db: SessionDep, ctx: ContextDep, principal: CurrentUser) -> Response:
    """The decisive frame, with every face but the matched one blanked out."""
    return _image(db, ctx, alert_id, AlertImage.CONTEXT, principal)


@router.get("/{alert_id}/reference", dependencies=[read], response_class=Response, responses=_IMAGE)
def reference_image(alert_id: str, db: SessionDep, ctx: ContextDep, principal: CurrentUser) -> Response:
    """The watchlist reference image the probe matched best (404 once the subject has been erased)."""
    return _image(db, ctx, alert_id, AlertImage.REFERENCE, principal)


def _stale(db: Session, exc: StaleVersionError) -> ApiError:
    current = alert_public(db, exc.current)
    return ApiError(
        "someone else changed this alert first: " + str(exc),
        code=exc.code,
        status=409,
        details={"current": current.model_dump(mode="json")},
    )


@router.post("/{alert_id}/adjudication", dependencies=[decide])
def adjudication(
    alert_id: str, body: AdjudicationRequest, db: SessionDep, ctx: ContextDep, principal: CurrentUser
) -> AlertPublic:
    """Confirm, reject (with a reason code) or escalate. ``version`` must be the alert's current version;
    otherwise 409 ``stale_version`` with the alert as it now is in ``details.current``."""
    try:
        record = adjudicate(
            db,
            alert_id,
            decision=body.decision,
            version=body.version,
            by=principal,
            now=ctx.services.clock(),
            reason=body.reason,
            separation_of_duties=ctx.settings.governance.separation_of_duties,
            note=body.note or "",
            amendment_reason=body.amendment_reason or "",
            competence_required=ctx.settings.governance.require_competence,
        )
    except StaleVersionError as exc:
        db.rollback()
        raise _stale(db, exc) from None
    public = alert_public(db, record)
    db.commit()
    log.info("alert %s %s by %s", alert_id, public.status, principal.label)
    return public


@router.post("/{alert_id}/outcome", dependencies=[decide])
def outcome(
    alert_id: str, body: OutcomeRequest, db: SessionDep, ctx: ContextDep, principal: CurrentUser
) -> AlertPublic:
    """Record what happened after the review of a confirmed or rejected alert (same ``version`` rule as
    adjudication); changing a recorded outcome needs ``amendment_reason``. An outcome listed in
    ``governance.evidence_outcomes`` (default: arrested) puts the alert on legal hold."""
    try:
        record = record_outcome(
            db,
            alert_id,
            outcome=body.outcome,
            version=body.version,
            by=principal,
            now=ctx.services.clock(),
            note=body.note or "",
            amendment_reason=body.amendment_reason or "",
            evidence_outcomes=frozenset(ctx.settings.governance.evidence_outcomes),
        )
    except StaleVersionError as exc:
        db.rollback()
        raise _stale(db, exc) from None
    public = alert_public(db, record)
    db.commit()
    return public
