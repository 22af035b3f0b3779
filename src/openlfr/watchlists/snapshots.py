"""Watchlist snapshots: the immutable, dated set of templates one deployment uses.

The fingerprint is sha256 over the sorted template digests (one per line), so it identifies exactly
which templates (vectors and model contract) a deployment searched, whatever the database or the order
of enrolment. Subjects past their review-by date, or without a template of the current model, are left
out and reported.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.audit import append_audit
from openlfr.auth.permissions import Permission
from openlfr.auth.principal import Principal
from openlfr.store.errors import NotFoundError
from openlfr.store.models import Snapshot, SnapshotTemplate, Template, Watchlist
from openlfr.types import FloatArray, ModelContract
from openlfr.utc import as_utc
from openlfr.watchlists.enrol import contract_of, vector_from
from openlfr.watchlists.subjects import get_watchlist, members
from openlfr.watchlists.types import Exclusion, SnapshotResult

REVIEW_OVERDUE = "review_overdue"
NO_TEMPLATES = "no_templates"


def fingerprint(template_digests: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(template_digests)).encode("ascii")).hexdigest()


def select_templates(
    session: Session, watchlist: Watchlist, contract: ModelContract, today: date
) -> tuple[list[Template], list[Exclusion]]:
    """The templates a snapshot of ``watchlist`` taken ``today`` holds (sorted by digest), and who is left out."""
    excluded: list[Exclusion] = []
    chosen: list[Template] = []
    for subject in members(session, watchlist):
        if subject.review_by < today:
            excluded.append(Exclusion(subject.id, subject.external_ref, REVIEW_OVERDUE))
            continue
        templates = [
            t
            for t in session.scalars(select(Template).where(Template.subject_id == subject.id))
            if contract_of(t) == contract
        ]
        if not templates:
            excluded.append(Exclusion(subject.id, subject.external_ref, NO_TEMPLATES))
            continue
        chosen.extend(templates)
    chosen.sort(key=lambda t: t.digest)
    return chosen, excluded


@dataclass(frozen=True, slots=True)
class EvaluationGallery:
    """What an evaluation run (``lfr watch --watchlist NAME``) searches: the templates a snapshot taken now
    would hold, in memory only (no snapshot is stored: a stored copy is destroyed only by a deployment)."""

    watchlist: str
    fingerprint: str
    """the fingerprint a snapshot of the same templates has"""
    matrix: FloatArray
    subject_ids: list[str]
    image_ids: list[str]
    contract: ModelContract
    excluded: int


def evaluation_gallery(
    session: Session, watchlist_name: str, contract: ModelContract, today: date
) -> EvaluationGallery:
    import numpy as np

    watchlist = get_watchlist(session, watchlist_name)
    chosen, excluded = select_templates(session, watchlist, contract, today)
    matrix = (
        np.stack([vector_from(t.vector) for t in chosen]).astype(np.float32)
        if chosen
        else np.zeros((0, contract.dimension), np.float32)
    )
    return EvaluationGallery(
        watchlist.name,
        fingerprint([t.digest for t in chosen]),
        matrix,
        [t.subject_id for t in chosen],
        [t.image_id for t in chosen],
        contract,
        len(excluded),
    )


def create_snapshot(
    session: Session, watchlist_name: str, contract: ModelContract, today: date, *, by: Principal
) -> SnapshotResult:
    """Freeze the watchlist's templates of ``contract`` as of ``today`` and audit it (``snapshot.create``)."""
    by.require(Permission.WATCHLISTS_MANAGE)
    watchlist = get_watchlist(session, watchlist_name)
    chosen, excluded = select_templates(session, watchlist, contract, today)
    snapshot = Snapshot(
        watchlist_id=watchlist.id,
        as_of=today,
        fingerprint=fingerprint([t.digest for t in chosen]),
        template_count=len(chosen),
        subject_count=len({t.subject_id for t in chosen}),
        excluded=[{"subject_id": e.subject_id, "reason": e.reason} for e in excluded],
        model=contract.model,
        weights_sha256=contract.weights_sha256,
        dimension=contract.dimension,
        preprocessing=contract.preprocessing,
    )
    session.add(snapshot)
    session.flush()
    session.add_all(
        SnapshotTemplate(snapshot_id=snapshot.id, subject_id=t.subject_id, template_digest=t.digest, vector=t.vector)
        for t in chosen
    )
    session.flush()
    append_audit(
        session,
        actor=by.actor,
        action="snapshot.create",
        target_type="snapshot",
        target_id=snapshot.id,
        details={
            "watchlist": watchlist.name,
            "fingerprint": snapshot.fingerprint,
            "templates": snapshot.template_count,
            "subjects": snapshot.subject_count,
            "excluded": len(excluded),
        },
    )
    return SnapshotResult(
        id=snapshot.id,
        watchlist=watchlist.name,
        created_at=as_utc(snapshot.created_at),
        fingerprint=snapshot.fingerprint,
        templates=snapshot.template_count,
        subjects=snapshot.subject_count,
        excluded=tuple(excluded),
    )


def list_snapshots(session: Session, watchlist: Watchlist) -> list[Snapshot]:
    query = select(Snapshot).where(Snapshot.watchlist_id == watchlist.id).order_by(Snapshot.created_at)
    return list(session.scalars(query))


def snapshot_templates(session: Session, snapshot_id: str) -> tuple[FloatArray, list[str], ModelContract]:
    """The (N, D) matrix and subject ids a deployment loads into its matching index."""
    import numpy as np

    snapshot = session.get(Snapshot, snapshot_id)
    if snapshot is None:
        raise NotFoundError(f"no snapshot {snapshot_id!r}")
    contract = ModelContract(snapshot.model, snapshot.weights_sha256, snapshot.dimension, snapshot.preprocessing)
    rows = session.scalars(
        select(SnapshotTemplate)
        .where(SnapshotTemplate.snapshot_id == snapshot_id)
        .order_by(SnapshotTemplate.template_digest)
    ).all()
    if not rows:
        return np.zeros((0, contract.dimension), np.float32), [], contract
    matrix = np.stack([vector_from(row.vector) for row in rows]).astype(np.float32)
    return matrix, [row.subject_id for row in rows], contract
