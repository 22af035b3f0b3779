"""The API's one call into the audit trail: ``audit(session, principal, action, …)`` appends a hash-chained
entry (``openlfr.audit.append_audit``) inside the request's transaction, so the entry and the change commit
together, or neither does.

``details`` never hold biometric data or personal details: ids, codes and versions only.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from openlfr.audit import append_audit
from openlfr.auth.principal import Principal


def actor_of(principal: Principal) -> str:
    return principal.actor


def audit(
    session: Session,
    principal: Principal,
    action: str,
    target_type: str,
    target_id: str | None,
    details: Mapping[str, object],
) -> None:
    append_audit(
        session, actor=actor_of(principal), action=action, target_type=target_type, target_id=target_id, details=details
    )
