"""The append-only, hash-chained audit log (docs/GOVERNANCE.md): ``append_audit`` inside the caller's
transaction, ``verify_chain`` to prove it intact, exports that can be checked later."""

from __future__ import annotations

from openlfr.audit.chain import (
    AuditError,
    AuditRecord,
    ChainProblem,
    VerifyResult,
    append_audit,
    iter_entries,
    verify_chain,
)

__all__ = [
    "AuditError",
    "AuditRecord",
    "ChainProblem",
    "VerifyResult",
    "append_audit",
    "iter_entries",
    "verify_chain",
]
