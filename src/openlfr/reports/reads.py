"""Reports are audited reads: each deployment record, transparency report, DPIA facts sheet, notice or public
feed someone makes is written to the audit chain (``report.<kind>``) here, whoever makes it (API or CLI)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from openlfr.audit import append_audit
from openlfr.auth.principal import Principal


def record_report(
    session: Session, kind: str, target_id: str | None, details: Mapping[str, object], *, by: Principal
) -> None:
    """Record that ``by`` made the report ``kind`` (about deployment ``target_id``, or a general one); the
    caller commits."""
    append_audit(
        session,
        actor=by.actor,
        action=f"report.{kind}",
        target_type="deployment" if target_id else "report",
        target_id=target_id,
        details=details,
    )
