"""Exports of the audit chain: JSON Lines plus a manifest with the file's sha256 and, when a key is
configured (``governance.audit_export_key``), an HMAC-SHA256 over the manifest, so a copy kept elsewhere can
prove later that the database's chain was not rewritten (``lfr audit verify --against``)."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy.orm import Session

from openlfr.audit.chain import (
    AuditError,
    ChainProblem,
    canonical_json,
    entry_hash,
    iso_utc,
    iter_entries,
)
from openlfr.files import open_private, write_private
from openlfr.store.governance_models import GENESIS_HASH
from openlfr.utc import utcnow

MANIFEST_SUFFIX: Final = ".manifest.json"
FORMAT: Final = "openlfr-audit-export/1"


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    manifest: Path
    entries: int
    last_seq: int
    sha256: str
    signed: bool


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + MANIFEST_SUFFIX)


def _signature(manifest: dict[str, Any], key: bytes) -> str:
    body = {k: v for k, v in manifest.items() if k != "hmac_sha256"}
    return hmac.new(key, canonical_json(body).encode("utf-8"), hashlib.sha256).hexdigest()


def export_audit(
    session: Session, path: Path, *, key: bytes | None = None, since: datetime | None = None
) -> ExportResult:
    """Write every entry (or those from ``since``) to ``path`` as JSON Lines, and its manifest beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    count, first_seq, last_seq, last_hash = 0, 0, 0, GENESIS_HASH
    tmp = path.with_name(path.name + ".part")
    with open_private(tmp, "wb") as out:
        for record in iter_entries(session, since=since):
            line = (canonical_json(record.to_json()) + "\n").encode("utf-8")
            out.write(line)
            digest.update(line)
            count += 1
            first_seq = first_seq or record.seq
            last_seq, last_hash = record.seq, record.hash
    tmp.replace(path)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "file": path.name,
        "sha256": digest.hexdigest(),
        "entries": count,
        "first_seq": first_seq,
        "last_seq": last_seq,
        "last_hash": last_hash,
        "exported_at": iso_utc(utcnow()),
    }
    if key is not None:
        manifest["hmac_sha256"] = _signature(manifest, key)
    write_private(manifest_path(path), json.dumps(manifest, indent=2) + "\n")
    return ExportResult(path, manifest_path(path), count, last_seq, manifest["sha256"], key is not None)


def check_export(path: Path, *, key: bytes | None = None) -> list[dict[str, Any]]:
    """The entries of an export after checking its manifest (sha256, HMAC when ``key`` is given) and the chain
    inside it; AuditError says what is wrong."""
    manifest_file = manifest_path(path)
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        data = path.read_bytes()
    except (OSError, ValueError) as exc:
        raise AuditError(f"cannot read the export {path} and its manifest: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise AuditError(f"{manifest_file} is not an OpenLFR audit export manifest")
    if hashlib.sha256(data).hexdigest() != manifest.get("sha256"):
        raise AuditError(f"{path} does not match the sha256 in its manifest (the export was changed)")
    if key is not None:
        signature = manifest.get("hmac_sha256")
        if not isinstance(signature, str):
            raise AuditError(f"{manifest_file} is not signed, but a key was given")
        if not hmac.compare_digest(signature, _signature(manifest, key)):
            raise AuditError(f"the signature of {manifest_file} does not verify with the configured key")
    entries = [json.loads(line) for line in data.decode("utf-8").splitlines() if line]
    previous: dict[str, Any] | None = None
    for entry in entries:
        if previous is not None and (entry["seq"] != previous["seq"] + 1 or entry["prev_hash"] != previous["hash"]):
            raise AuditError(f"the export's chain breaks at seq {entry['seq']}")
        recomputed = entry_hash(
            seq=entry["seq"],
            at=datetime.fromisoformat(entry["at"]),
            actor=entry["actor"],
            action=entry["action"],
            target_type=entry["target_type"],
            target_id=entry["target_id"],
            details_json=canonical_json(entry["details"]),
            prev_hash=entry["prev_hash"],
        )
        if recomputed != entry["hash"]:
            raise AuditError(f"the export's entry {entry['seq']} does not match its hash")
        previous = entry
    return entries


def compare_with_export(session: Session, entries: list[dict[str, Any]]) -> tuple[ChainProblem, ...]:
    """Every exported entry must still be in the database with the same hash: this catches a chain that was
    rewritten wholesale (every hash recomputed) after the export was taken."""
    problems: list[ChainProblem] = []
    if not entries:
        return ()
    first, last = entries[0]["seq"], entries[-1]["seq"]
    stored: dict[int, dict[str, Any]] = {}
    for record in iter_entries(session, after_seq=first - 1):
        if record.seq > last:
            break
        stored[record.seq] = record.to_json()
    for entry in entries:
        current = stored.get(entry["seq"])
        if current is None:
            problems.append(ChainProblem(entry["seq"], "entry in the export is missing from the database"))
        elif current != entry:
            problems.append(ChainProblem(entry["seq"], "entry differs from the exported copy (rewritten)"))
    return tuple(problems)
