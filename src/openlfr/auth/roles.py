"""The roles an account or API token can hold. What each role may do is decided in one table:
``openlfr.api.permissions.POLICY``."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    """manages accounts, tokens and settings"""
    SUPERVISOR = "supervisor"
    """the authorising officer: approves watchlists and deployments"""
    OPERATOR = "operator"
    """watches alerts and adjudicates them"""
    AUDITOR = "auditor"
    """reads records and metrics, changes nothing"""
