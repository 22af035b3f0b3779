"""Encounters: the alerts one subject raises on one camera in one deployment while they stay in view, shown to
the officer as one card instead of one card per alert.

A person standing in front of a camera raises an alert every cooldown (60 s by default): over a shift that
floods the queue with repeats of the same few people. Alerts of the same (subject, camera, deployment) belong
to one encounter while each follows the previous one within ``gap_s``; a longer quiet gap starts a new
encounter. Alerts whose subject has been erased are never grouped (nothing says they are the same person).

Each alert is given its encounter's key when it is stored (``AlertRecord.encounter_key``, by the rule above
with the default gap), so at the default gap the database groups and counts (one GROUP BY on an indexed
column) and only the alerts of the page's encounters are read. Another gap is grouped here, from a few columns
of every matching alert. Either way the true number of encounters is known.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.orm import Session

from openlfr.alerts.review import AlertFilter, _filtered
from openlfr.alerts.vocabulary import AlertStatus
from openlfr.store.alert_models import AlertRecord

DEFAULT_GAP_S = 300.0
"""five cooldowns: someone who lingers stays one encounter; someone who comes back later is a new one"""

_STATUS_ORDER = (AlertStatus.PENDING, AlertStatus.ESCALATED, AlertStatus.CONFIRMED, AlertStatus.REJECTED)
"""an encounter shows the status that most needs an officer"""


@dataclass(frozen=True, slots=True)
class MemberRow:
    """The columns of one alert that grouping and deciding need."""

    id: str
    seq: int
    subject_id: str | None
    source: str
    deployment_id: str | None
    decided_at: datetime
    score: float
    status: str
    version: int


@dataclass(frozen=True, slots=True)
class Encounter:
    members: tuple[MemberRow, ...]
    """oldest first"""

    @property
    def key(self) -> str:
        """the id of its first alert: stable while the encounter grows"""
        return self.members[0].id

    @property
    def newest(self) -> MemberRow:
        return self.members[-1]

    @property
    def best(self) -> MemberRow:
        """the alert with the highest score (the newest of equals): its face is the one shown"""
        return max(self.members, key=lambda m: (m.score, m.seq))

    @property
    def status(self) -> str:
        present = {m.status for m in self.members}
        return next((s for s in _STATUS_ORDER if s in present), self.newest.status)


@dataclass(frozen=True, slots=True)
class EncounterPage:
    items: list[Encounter]
    """newest first (by their newest alert)"""
    total: int
    """encounters that match the filter"""
    alerts: int
    """alerts that match the filter"""
    more: bool
    """whether older encounters follow this page"""


def group(rows: Iterable[MemberRow], gap_s: float) -> list[Encounter]:
    """Alerts in ``seq`` order → encounters, in the order they started."""
    groups: list[list[MemberRow]] = []
    open_by_key: dict[tuple[str, str, str | None], list[MemberRow]] = {}
    for row in rows:
        if row.subject_id is None:
            groups.append([row])
            continue
        key = (row.subject_id, row.source, row.deployment_id)
        current = open_by_key.get(key)
        # abs(): cameras store their alerts independently, so seq order and time order can differ a little.
        if current is not None and abs((row.decided_at - current[-1].decided_at).total_seconds()) <= gap_s:
            current.append(row)
            continue
        current = [row]
        open_by_key[key] = current
        groups.append(current)
    return [Encounter(tuple(members)) for members in groups]


_COLUMNS = (
    AlertRecord.id,
    AlertRecord.seq,
    AlertRecord.subject_id,
    AlertRecord.source,
    AlertRecord.deployment_id,
    AlertRecord.decided_at,
    AlertRecord.score,
    AlertRecord.status,
    AlertRecord.version,
)


def _rows(session: Session, f: AlertFilter) -> Sequence[MemberRow]:
    query = cast("Select[Any]", select(*_COLUMNS))  # _filtered is typed for one-entity selects
    result = session.execute(_filtered(query, f).order_by(AlertRecord.seq))
    return [MemberRow(*row) for row in result]


def list_encounters(
    session: Session, f: AlertFilter, *, gap_s: float, limit: int, before_seq: int | None = None
) -> EncounterPage:
    """The encounters of the alerts that match ``f``, newest first; ``before_seq`` pages on: only encounters
    whose newest alert has a lower ``seq`` (a cursor, so alerts arriving meanwhile shift nothing)."""
    if gap_s == DEFAULT_GAP_S:
        return _stored_page(session, f, limit=limit, before_seq=before_seq)
    rows = _rows(session, f)
    encounters = sorted(group(rows, gap_s), key=lambda e: e.newest.seq, reverse=True)
    wanted = [e for e in encounters if before_seq is None or e.newest.seq < before_seq]
    return EncounterPage(items=wanted[:limit], total=len(encounters), alerts=len(rows), more=len(wanted) > limit)


def _stored_key() -> ColumnElement[str]:
    """An alert's stored encounter key; its own id when its subject was erased (never grouped then) or when it
    has none."""
    return case(
        (AlertRecord.subject_id.is_(None), AlertRecord.id),
        else_=func.coalesce(AlertRecord.encounter_key, AlertRecord.id),
    )


def _stored_page(session: Session, f: AlertFilter, *, limit: int, before_seq: int | None) -> EncounterPage:
    """``list_encounters`` at the default gap, from the keys stored with the alerts."""
    key = _stored_key().label("key")
    counted = cast("Select[Any]", select(func.count(func.distinct(key)), func.count()))
    total, alerts = session.execute(_filtered(counted, f)).one()
    newest = func.max(AlertRecord.seq)
    keyed = _filtered(cast("Select[Any]", select(key, newest.label("newest"))), f).group_by(key)
    if before_seq is not None:
        keyed = keyed.having(newest < before_seq)
    page = session.execute(keyed.order_by(newest.desc()).limit(limit + 1)).all()
    keys = [row.key for row in page[:limit]]
    members: dict[str, list[MemberRow]] = {k: [] for k in keys}
    if keys:
        # Two indexed lookups (the CASE itself has no index); rows whose own key is another are skipped.
        found = or_(AlertRecord.encounter_key.in_(keys), AlertRecord.id.in_(keys))
        query = _filtered(cast("Select[Any]", select(key, *_COLUMNS)), f).where(found)
        for row in session.execute(query.order_by(AlertRecord.seq)):
            if row[0] in members:
                members[row[0]].append(MemberRow(*row[1:]))
    items = [Encounter(tuple(members[k])) for k in keys]
    return EncounterPage(items=items, total=int(total), alerts=int(alerts), more=len(page) > limit)
