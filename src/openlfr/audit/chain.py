"""The hash-chained audit log: append inside the caller's transaction, verify, read.

Each entry's hash is the sha256 of a canonical serialisation (sorted keys, no whitespace, UTF-8) of
``seq``, ``at`` (UTC, microseconds), ``actor``, ``action``, ``target_type``, ``target_id``, ``details`` and
``prev_hash``, the hash of the entry before it (64 zeros for the first). So an edited entry no longer matches
its hash, a deleted one leaves a gap in ``seq`` and a broken link, and two swapped entries break both their
hashes (``seq`` is hashed). ``audit_head`` holds the last seq and hash, so entries cut off the end show too
(unless the head is rewritten with them).

What the chain cannot catch by itself is someone with write access rewriting the head, or recomputing every
hash after an edit: that is what anchors (``lfr audit anchor``, checked with ``lfr audit verify --anchor``)
and exports (``lfr audit export``, checked with ``--against``) kept elsewhere are for.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from openlfr.errors import OpenLFRError
from openlfr.store.governance_models import GENESIS_HASH, AuditEntry, AuditHead
from openlfr.utc import as_utc, utcnow

HEAD_ID: Final = 1
# Guards against biometric data slipping into an audit entry: details are short facts, never vectors or images.
MAX_TEXT: Final = 4000
MAX_NUMBERS_IN_LIST: Final = 32
FORBIDDEN_KEYS: Final = frozenset({"embedding", "embeddings", "vector", "vectors", "image", "crop", "face", "media"})


class AuditError(OpenLFRError):
    code = "audit_invalid"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": iso_utc(self.at),
            "actor": self.actor,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "details": self.details,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True, slots=True)
class ChainProblem:
    seq: int
    problem: str


@dataclass(frozen=True, slots=True)
class VerifyResult:
    entries: int
    last_seq: int
    last_hash: str
    problems: tuple[ChainProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def iso_utc(value: datetime) -> str:
    return as_utc(value).isoformat(timespec="microseconds")


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    target_type: str,
    target_id: str | None,
    details_json: str,
    prev_hash: str,
) -> str:
    payload = {
        "seq": seq,
        "at": iso_utc(at),
        "actor": actor,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "details": json.loads(details_json),
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def _check_details(value: object, path: str) -> None:
    if value is None or isinstance(value, bool | int | str):
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise AuditError(f"audit detail {path} is longer than {MAX_TEXT} characters")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise AuditError(f"audit detail {path} is not a finite number")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise AuditError(f"audit detail keys must be strings (at {path})")
            if key.lower() in FORBIDDEN_KEYS:
                raise AuditError(f"audit detail {path}.{key}: audit entries never hold biometric data")
            _check_details(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        numbers = sum(isinstance(item, float) for item in value)
        if numbers > MAX_NUMBERS_IN_LIST:
            raise AuditError(f"audit detail {path} looks like a vector: audit entries never hold biometric data")
        for index, item in enumerate(value):
            _check_details(item, f"{path}[{index}]")
        return
    raise AuditError(f"audit detail {path} has unsupported type {type(value).__name__}")


def append_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    target_type: str,
    target_id: str | None,
    details: Mapping[str, object],
    at: datetime | None = None,
) -> None:
    """Append one entry to the audit chain inside ``session``'s transaction (it commits or rolls back with
    the change it records). Concurrent appends are serialised by updating the chain head first."""
    _check_details(details, "details")
    if not actor or not action or not target_type:
        raise AuditError("an audit entry needs an actor, an action and a target type")
    details_json = canonical_json(dict(details))
    # Writing the head row before reading it takes the lock (SQLite: the database write lock; PostgreSQL:
    # the row lock, held to commit) so a second appender waits and then reads our committed head.
    session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=AuditHead.seq + 1))
    row = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID)).one()
    seq, prev_hash = int(row.seq), str(row.hash)
    when = as_utc(at or utcnow())
    digest = entry_hash(
        seq=seq,
        at=when,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details_json=details_json,
        prev_hash=prev_hash,
    )
    session.add(
        AuditEntry(
            seq=seq,
            at=when,
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            details=details_json,
            prev_hash=prev_hash,
            hash=digest,
        )
    )
    session.flush()
    session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(hash=digest))


def _record(entry: AuditEntry) -> AuditRecord:
    return AuditRecord(
        seq=entry.seq,
        at=as_utc(entry.at),
        actor=entry.actor,
        action=entry.action,
        target_type=entry.target_type,
        target_id=entry.target_id,
        details=json.loads(entry.details),
        prev_hash=entry.prev_hash,
        hash=entry.hash,
    )


def iter_entries(
    session: Session,
    *,
    after_seq: int = 0,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    batch: int = 1000,
) -> Iterator[AuditRecord]:
    """Entries in chain order, read in batches, optionally filtered."""
    last = after_seq
    while True:
        query = select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)
        if action is not None:
            query = query.where(AuditEntry.action == action)
        if target_type is not None:
            query = query.where(AuditEntry.target_type == target_type)
        if target_id is not None:
            query = query.where(AuditEntry.target_id == target_id)
        if since is not None:
            query = query.where(AuditEntry.at >= since)
        if until is not None:
            query = query.where(AuditEntry.at < until)
        rows = session.scalars(query).all()
        if not rows:
            return
        for row in rows:
            yield _record(row)
        last = rows[-1].seq


def verify_chain(session: Session) -> VerifyResult:
    """Recompute every hash and link; each problem names the seq where the chain breaks."""
    problems: list[ChainProblem] = []
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    last_seq = 0
    last = session.execute(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one_or_none()
    for entry in _raw_entries(session):
        count += 1
        if entry.seq != expected_seq:
            missing = f"{expected_seq}" if entry.seq == expected_seq + 1 else f"{expected_seq}..{entry.seq - 1}"
            problems.append(ChainProblem(entry.seq, f"entries {missing} are missing (deleted?)"))
        if entry.prev_hash != prev_hash:
            problems.append(
                ChainProblem(entry.seq, "prev_hash does not match the entry before it (deleted or reordered)")
            )
        try:
            digest = entry_hash(
                seq=entry.seq,
                at=as_utc(entry.at),
                actor=entry.actor,
                action=entry.action,
                target_type=entry.target_type,
                target_id=entry.target_id,
                details_json=entry.details,
                prev_hash=entry.prev_hash,
            )
        except ValueError:
            digest = ""
        if digest != entry.hash:
            problems.append(ChainProblem(entry.seq, "content does not match its hash (edited)"))
        prev_hash, expected_seq, last_seq = entry.hash, entry.seq + 1, entry.seq
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID)).one_or_none()
    if head is None:
        problems.append(ChainProblem(last_seq, "the chain head row is missing"))
    elif int(head.seq) != (last or 0) or str(head.hash) != prev_hash:
        problems.append(
            ChainProblem(
                int(head.seq),
                f"the chain head says the last entry is {head.seq}, the log ends at {last or 0} "
                "(entries removed from the end, or the head edited)",
            )
        )
    return VerifyResult(entries=count, last_seq=last_seq, last_hash=prev_hash, problems=tuple(problems))


def _raw_entries(session: Session, batch: int = 2000) -> Iterator[Row[Any]]:
    """Plain rows (not ORM objects), so a long log does not fill the session's identity map."""
    table = AuditEntry.__table__
    last = -1
    while True:
        rows = session.execute(select(table).where(table.c.seq > last).order_by(table.c.seq).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = int(rows[-1].seq)
