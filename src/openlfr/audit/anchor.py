"""Anchors: the chain's head, written down outside the database.

``audit_head`` catches entries cut off the end only while nobody rewrites it too: someone who can delete the
last entries can also set the head back to the entry before them, and the chain then verifies. An anchor is
a small record (``seq``, ``hash``, ``at``) of the head at one moment, HMAC-signed with
``governance.audit_export_key`` when that is set, kept where the database's writers cannot reach (printed,
mailed to the DPO, stored on another machine). ``lfr audit verify --anchor FILE`` then checks that the
anchored entry is still in the chain with the same hash: a cut tail (the entry is gone) or a rewritten chain
(its hash changed) shows, whatever ``audit_head`` says.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.audit.chain import HEAD_ID, AuditError, ChainProblem, canonical_json, iso_utc
from openlfr.store.governance_models import AuditEntry, AuditHead

FORMAT: Final = "openlfr-audit-anchor/1"


@dataclass(frozen=True, slots=True)
class Anchor:
    seq: int
    hash: str
    at: datetime
    hmac_sha256: str | None = None

    def body(self) -> dict[str, Any]:
        return {"format": FORMAT, "seq": self.seq, "hash": self.hash, "at": iso_utc(self.at)}

    def to_json(self) -> dict[str, Any]:
        data = self.body()
        if self.hmac_sha256 is not None:
            data["hmac_sha256"] = self.hmac_sha256
        return data

    @property
    def signed(self) -> bool:
        return self.hmac_sha256 is not None


def _signature(body: dict[str, Any], key: bytes) -> str:
    return hmac.new(key, canonical_json(body).encode("utf-8"), hashlib.sha256).hexdigest()


def make_anchor(session: Session, *, key: bytes | None, now: datetime) -> Anchor:
    """An anchor of the current head (signed when ``key`` is given)."""
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID)).one_or_none()
    if head is None:
        raise AuditError("the audit chain head row is missing: run `lfr audit verify`")
    unsigned = Anchor(int(head.seq), str(head.hash), now)
    return Anchor(unsigned.seq, unsigned.hash, now, _signature(unsigned.body(), key) if key is not None else None)


def write_anchor(anchor: Anchor, path: Path) -> None:
    """Write the anchor as JSON, readable by its owner only (0600)."""
    text = json.dumps(anchor.to_json(), indent=2) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        path.chmod(0o600)  # an existing file keeps its mode through O_CREAT
    except OSError as exc:
        raise AuditError(f"cannot write the anchor {path}: {exc.strerror}") from exc


def read_anchor(path: Path, *, key: bytes | None) -> Anchor:
    """The anchor in ``path``, its signature checked with ``key``; AuditError says what is wrong."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AuditError(f"cannot read the anchor {path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise AuditError(f"{path} is not an OpenLFR audit anchor (made by `lfr audit anchor`)")
    try:
        anchor = Anchor(
            int(data["seq"]), str(data["hash"]), datetime.fromisoformat(data["at"]), data.get("hmac_sha256")
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise AuditError(f"{path}: the anchor is incomplete or malformed ({exc})") from exc
    if key is not None:
        if anchor.hmac_sha256 is None:
            raise AuditError(f"{path} is not signed, but a key is configured: an unsigned anchor could be forged")
        if not hmac.compare_digest(str(anchor.hmac_sha256), _signature(anchor.body(), key)):
            raise AuditError(f"the signature of the anchor {path} does not verify with the configured key")
    elif anchor.signed:
        raise AuditError(f"{path} is signed: set governance.audit_export_key (LFR_GOVERNANCE__AUDIT_EXPORT_KEY)")
    return anchor


def check_anchor(session: Session, anchor: Anchor) -> tuple[ChainProblem, ...]:
    """The anchored entry must still be in the chain with the anchored hash (a chain only ever grows)."""
    if anchor.seq == 0:
        return ()
    stored = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == anchor.seq))
    if stored is None:
        last = session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1)) or 0
        return (
            ChainProblem(
                anchor.seq,
                f"the anchor of {iso_utc(anchor.at)} names entry {anchor.seq}, but the log ends at {last} "
                "(entries cut from the end)"
                if last < anchor.seq
                else f"entry {anchor.seq} is missing (deleted)",
            ),
        )
    if stored != anchor.hash:
        return (
            ChainProblem(
                anchor.seq,
                f"entry {anchor.seq} does not have the hash anchored on {iso_utc(anchor.at)} (chain rewritten)",
            ),
        )
    return ()
