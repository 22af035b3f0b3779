"""Threshold calibrations saved by a supervisor: ``lfr calibrate --json`` output kept in the database, where
it sets the floor (and default) of the alert threshold of every deployment of its model from then on.

The impostor tail fit and the false-alert budget of the saved calibration give the threshold for any
watchlist size (``openlfr.pipeline.thresholds.TailCalibration``), so a calibration made for 1,000 subjects
also holds a 50-subject deployment to the same false-alert budget. The newest calibration saved for a model
contract applies; without one, the calibration shipped with the model does. When the calibration carries an
``equity_range`` (the thresholds at which no group differential was significant), a deployment threshold
outside it needs a recorded justification.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openlfr.audit import append_audit
from openlfr.audit.chain import canonical_json, iso_utc
from openlfr.auth.permissions import Permission
from openlfr.auth.principal import Principal
from openlfr.errors import OpenLFRError
from openlfr.pipeline.thresholds import TailCalibration
from openlfr.store.errors import NotFoundError
from openlfr.store.governance_models import ThresholdCalibration

# A saved threshold must be the one its own tail fit gives for its size (a hand-edited number is refused).
_CONSISTENCY = 1e-3


class CalibrationError(OpenLFRError):
    """The calibration file is not a usable `lfr calibrate --json` result (the message says what is wrong)."""

    code = "calibration_invalid"


@dataclass(frozen=True, slots=True)
class EquityRange:
    attribute: str
    low: float
    high: float
    dataset: str

    def contains(self, threshold: float) -> bool:
        return self.low <= threshold <= self.high


def _number(data: dict[str, Any], key: str, where: str = "") -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CalibrationError(f"{where}{key} must be a number")
    return float(value)


def _section(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise CalibrationError(f"{key} is missing (give the output of `lfr calibrate --json`)")
    return value


def _equity(report: dict[str, Any]) -> EquityRange | None:
    block = report.get("equity_range")
    if block is None:
        return None
    if not isinstance(block, dict):
        raise CalibrationError("equity_range must be an object {attribute, low, high, dataset}")
    low, high = _number(block, "low", "equity_range."), _number(block, "high", "equity_range.")
    if not -1 <= low <= high <= 1:
        raise CalibrationError("equity_range needs -1 <= low <= high <= 1")
    return EquityRange(str(block.get("attribute", "")), low, high, str(block.get("dataset", "")))


def parse_calibration(report: dict[str, Any]) -> ThresholdCalibration:
    """The (unsaved) record of a calibration report; CalibrationError when it is not one."""
    model = _section(report, "model")
    scores = _section(report, "impostor_scores")
    fit = _section(scores, "tail_fit")
    size, passers, false_alerts = (
        _number(report, "watchlist_size"),
        _number(report, "passers_by"),
        _number(report, "false_alerts"),
    )
    if size < 1 or passers < 1 or not 0 < false_alerts < passers:
        raise CalibrationError("need watchlist_size >= 1, passers_by >= 1 and 0 < false_alerts < passers_by")
    count, tail_scores = _number(scores, "count", "impostor_scores."), _number(fit, "tail_scores", "tail_fit.")
    if not 0 < tail_scores <= count:
        raise CalibrationError("impostor_scores: need 0 < tail_fit.tail_scores <= count")
    threshold = _number(report, "threshold")
    if not -1 <= threshold <= 1:
        raise CalibrationError("threshold must be a cosine score in [-1, 1]")
    record = ThresholdCalibration(
        model=str(model.get("model") or ""),
        weights_sha256=str(model.get("weights_sha256") or ""),
        dataset=str(report.get("dataset") or ""),
        watchlist_size=int(size),
        passers_by=int(passers),
        false_alerts=false_alerts,
        threshold=threshold,
        tail_location=_number(fit, "location", "tail_fit."),
        tail_shape=_number(fit, "shape", "tail_fit."),
        tail_scale=_number(fit, "scale", "tail_fit."),
        tail_rate=tail_scores / count,
        report_sha256=hashlib.sha256(canonical_json(report).encode("utf-8")).hexdigest(),
    )
    if not record.model or len(record.weights_sha256) != 64:
        raise CalibrationError("model.model and model.weights_sha256 (64 hex digits) are needed")
    if record.tail_scale <= 0:
        raise CalibrationError("tail_fit.scale must be positive")
    tail = tail_of(record)
    if tail.per_comparison_target(record.watchlist_size) < tail.rate:
        expected = tail.threshold_for_size(record.watchlist_size)
        if abs(expected - threshold) > _CONSISTENCY:
            raise CalibrationError(
                f"threshold {threshold:.4f} is not what its own tail fit gives for {record.watchlist_size} "
                f"subjects ({expected:.4f}): the file was edited; run `lfr calibrate --json` again"
            )
    equity = _equity(report)
    if equity is not None:
        record.equity_attribute, record.equity_low, record.equity_high = equity.attribute, equity.low, equity.high
        record.equity_dataset = equity.dataset
    return record


def tail_of(record: ThresholdCalibration) -> TailCalibration:
    return TailCalibration(
        location=record.tail_location,
        shape=record.tail_shape,
        scale=record.tail_scale,
        rate=record.tail_rate,
        passers_by=record.passers_by,
        false_alerts=record.false_alerts,
    )


def equity_of(record: ThresholdCalibration) -> EquityRange | None:
    if record.equity_low is None or record.equity_high is None:
        return None
    return EquityRange(
        record.equity_attribute or "", record.equity_low, record.equity_high, record.equity_dataset or ""
    )


def save_calibration(session: Session, report: dict[str, Any], *, by: Principal, now: datetime) -> ThresholdCalibration:
    """Keep a calibration (a supervisor, in person); it becomes the threshold floor of its model. Audited as
    ``calibration.save`` with what it decides."""
    by.require(Permission.DEPLOYMENTS_AUTHORISE)
    record = parse_calibration(report)
    record.saved_by, record.saved_at = by.label, now
    session.add(record)
    session.flush()
    append_audit(
        session,
        actor=by.actor,
        action="calibration.save",
        target_type="threshold_calibration",
        target_id=record.id,
        details={
            key: value
            for key, value in calibration_dict(record).items()
            if key not in ("id", "saved_by", "saved_at", "tail_fit")
        },
    )
    return record


def latest_calibration(session: Session, model: str, weights_sha256: str) -> ThresholdCalibration | None:
    query = (
        select(ThresholdCalibration)
        .where(ThresholdCalibration.model == model, ThresholdCalibration.weights_sha256 == weights_sha256)
        .order_by(ThresholdCalibration.saved_at.desc(), ThresholdCalibration.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def list_calibrations(session: Session) -> list[ThresholdCalibration]:
    return list(session.scalars(select(ThresholdCalibration).order_by(ThresholdCalibration.saved_at)))


def get_calibration(session: Session, calibration_id: str) -> ThresholdCalibration:
    record = session.get(ThresholdCalibration, calibration_id)
    if record is None:
        raise NotFoundError(f"no saved calibration {calibration_id!r}")
    return record


def calibration_dict(record: ThresholdCalibration) -> dict[str, Any]:
    equity = equity_of(record)
    return {
        "id": record.id,
        "model": record.model,
        "weights_sha256": record.weights_sha256,
        "dataset": record.dataset,
        "watchlist_size": record.watchlist_size,
        "passers_by": record.passers_by,
        "false_alerts": record.false_alerts,
        "threshold": record.threshold,
        "tail_fit": {
            "location": record.tail_location,
            "shape": record.tail_shape,
            "scale": record.tail_scale,
            "rate": record.tail_rate,
        },
        "equity_range": (
            None
            if equity is None
            else {"attribute": equity.attribute, "low": equity.low, "high": equity.high, "dataset": equity.dataset}
        ),
        "report_sha256": record.report_sha256,
        "saved_by": record.saved_by,
        "saved_at": iso_utc(record.saved_at) if record.saved_at is not None else None,
    }
