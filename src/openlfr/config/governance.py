"""Settings of governance: deployments, threshold policy, retention, audit (``Settings.governance``; env
``LFR_GOVERNANCE__<FIELD>``). See docs/GOVERNANCE.md."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from openlfr.config.notice import NoticeConfig

EngagementOutcomeName = Literal["spoken_to", "arrested", "no_action", "not_the_person", "not_located", "not_engaged"]
"""the engagement outcomes an officer records (openlfr.alerts.review.EngagementOutcome)"""


def _arrest_only() -> list[EngagementOutcomeName]:
    return ["arrested"]


class GovernanceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    alert_retention_days: int = Field(
        31,
        ge=1,
        le=3650,
        description="alerts (and their images) older than this are purged unless a supervisor placed them on hold "
        "(the Met keeps alert data up to 31 days; South Wales 24 h)",
    )
    retention_interval_s: float = Field(
        3600.0, gt=0, description="how often `lfr serve` runs the retention purge (seconds)"
    )
    scheduler_interval_s: float = Field(
        5.0,
        gt=0,
        le=300,
        description="how often `lfr serve` checks deployment windows: recognition stops at most this late after "
        "the planned end",
    )
    minimum_thresholds: dict[str, float] = Field(
        default_factory=dict,
        description="raises the alert threshold floor of a model id (e.g. {'sface-2021dec-int8bq': 0.65}); the floor "
        "itself is the threshold calibrated for the watchlist's size (the newest calibration saved with `lfr "
        "calibration save`, else the model's shipped one): a configured value below it is ignored, never lowers it",
    )
    separation_of_duties: bool = Field(
        True,
        description="the creator of a deployment can neither authorise it nor override its threshold, and an "
        "escalated alert is decided by another officer than the one who escalated it (a token counts as its "
        "creator); turn off only where one officer must do everything, and say so in the DPIA",
    )
    evidence_outcomes: list[EngagementOutcomeName] = Field(
        default_factory=_arrest_only,
        description="engagement outcomes that make an alert evidence: recording one puts the alert on legal hold "
        "automatically (kept past the retention period until a supervisor lifts the hold)",
    )
    require_competence: bool = Field(
        True,
        description="adjudicating an alert needs a current operator competence record and authorising a "
        "deployment a current supervisor competence record (`lfr user competence add`, recorded by a supervisor); "
        "turn off only where training is recorded elsewhere, and say so in the DPIA",
    )
    max_watchlist_subjects: int = Field(
        20_000,
        ge=1,
        description="largest watchlist (subjects in its snapshot) a deployment may use; the Met's have held "
        "~10,000-18,800 images, South Wales' ~1,000: a list beyond the cap is refused at planning and at "
        "authorisation",
    )
    audit_export_key: SecretStr | None = Field(
        None,
        description="key (at least 32 characters) that signs `lfr audit export` manifests with HMAC-SHA256; "
        "without it exports carry a sha256 only",
    )
    notice: NoticeConfig = Field(
        default_factory=NoticeConfig,
        description="public notice: contact and subject-access details and the public address that signs, "
        "leaflets and the public feed show (docs/GOVERNANCE.md, Public notice)",
    )

    @field_validator("audit_export_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("audit_export_key must be at least 32 characters")
        return value

    @field_validator("minimum_thresholds")
    @classmethod
    def _in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for model, threshold in value.items():
            if not -1.0 <= threshold <= 1.0:
                raise ValueError(f"minimum threshold of {model} must be a cosine score in [-1, 1]")
        return value
