"""Configuration changes in the audit chain. The configuration is read at start-up (YAML and environment), so
``lfr serve`` records at every start a fingerprint of the effective settings — secrets replaced by whether
they are set — and the values that governance depends on; a start whose fingerprint differs from the last
recorded one is a ``config.changed`` entry naming the sections that changed."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import SecretStr
from sqlalchemy.orm import Session

from openlfr.audit.chain import append_audit, canonical_json, iter_entries
from openlfr.config.models import Settings

ACTIONS = ("config.loaded", "config.changed")


def _redact(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return "set"
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    return value


def effective_settings(settings: Settings) -> dict[str, Any]:
    """The settings as JSON with every secret replaced by ``"set"`` (None stays None)."""
    raw = _redact(settings.model_dump(mode="python"))
    if settings.database_url:
        from openlfr.store.db import database_url, safe_url

        raw["database_url"] = safe_url(database_url(settings))  # never the password
    result: dict[str, Any] = json.loads(json.dumps(raw, default=str))
    return result


def _section_hashes(effective: dict[str, Any]) -> dict[str, str]:
    return {k: hashlib.sha256(canonical_json(v).encode()).hexdigest()[:16] for k, v in sorted(effective.items())}


def record_configuration(session: Session, settings: Settings, *, actor: str = "system:serve") -> bool:
    """Append ``config.loaded`` (first start) or ``config.changed`` (settings differ from the last recorded);
    nothing when unchanged. True when an entry was appended."""
    effective = effective_settings(settings)
    sections = _section_hashes(effective)
    fingerprint = hashlib.sha256(canonical_json(effective).encode()).hexdigest()
    last = None
    for action in ACTIONS:
        for record in iter_entries(session, action=action):
            if last is None or record.seq > last.seq:
                last = record
    if last is not None and last.details.get("fingerprint") == fingerprint:
        return False
    governance = effective["governance"]
    details: dict[str, object] = {
        "fingerprint": fingerprint,
        "sections": sections,
        "governance": {k: v for k, v in governance.items() if k != "audit_export_key"},
        "audit_export_signed": governance.get("audit_export_key") is not None,
        "media_encrypted": settings.media_key is not None,
        "embedder": effective["engine"]["embedder"]["type"],
    }
    if last is not None:
        previous = last.details.get("sections", {})
        details["changed_sections"] = sorted(k for k, v in sections.items() if previous.get(k) != v)
    append_audit(
        session,
        actor=actor,
        action="config.changed" if last is not None else "config.loaded",
        target_type="configuration",
        target_id=None,
        details=details,
    )
    return True
