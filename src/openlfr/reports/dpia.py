"""The facts a data protection impact assessment needs about one deployment, read from the running
configuration and the database — not typed in by hand. Calibration and equity results are attached from the
JSON that ``lfr calibrate --json`` and ``lfr eval identify --groups --json`` print, when given."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from openlfr.audit import verify_chain
from openlfr.config.models import Settings
from openlfr.deployments.figures import get_counts
from openlfr.deployments.service import deployment_dict, get_deployment, threshold_policy
from openlfr.errors import OpenLFRError
from openlfr.store.db import database_url, safe_url
from openlfr.store.models import Snapshot


def _load(path: Path | None, what: str) -> Any:
    if path is None:
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OpenLFRError(f"cannot read the {what} JSON {path}: {exc}") from exc


def dpia_facts(
    session: Session,
    settings: Settings,
    deployment_id: str,
    *,
    calibration: Path | None = None,
    equity: Path | None = None,
) -> dict[str, Any]:
    deployment = get_deployment(session, deployment_id)
    record = deployment_dict(deployment, get_counts(session, deployment.id))
    snapshot = session.get(Snapshot, deployment.snapshot_id)
    policy = threshold_policy(
        session,
        settings.governance,
        deployment.model,
        snapshot.weights_sha256 if snapshot is not None else "",
        deployment.watchlist_size,
        snapshot.preprocessing if snapshot is not None else None,
    )
    governance = settings.governance
    encryption = (
        "encrypted at rest (Fernet)" if settings.media_key is not None else "NOT encrypted: no media key configured"
    )
    chain = verify_chain(session)
    equity_data = _load(equity, "equity")
    calibration_data = _load(calibration, "calibration")
    return {
        "deployment": {
            k: record[k]
            for k in (
                "id",
                "name",
                "status",
                "use_case",
                "purpose",
                "legal_basis",
                "justification",
                "location",
                "planned_start",
                "planned_end",
                "camera_ids",
                "signage_confirmed",
                "authorisation",
            )
        },
        "data_flows": [
            "camera video is decoded in memory on the server running `lfr serve`; frames are not recorded",
            "faces are detected and tracked in memory; a face is embedded (a template) only inside the pipeline and "
            "compared with the deployment's watchlist snapshot",
            "a face that does not match is discarded at once: no image, crop or template of it is written anywhere; "
            "only counts (frames, face detections, tracks = faces seen) are kept per deployment",
            "a match raises an alert: the probe crop and a context image are stored in the media store "
            f"({encryption}) "
            "and the alert row in the database for review by a trained officer",
            f"database: {safe_url(database_url(settings))}",
        ],
        "watchlist": {
            "snapshot_id": deployment.snapshot_id,
            "fingerprint": deployment.snapshot_fingerprint,
            "templates": deployment.watchlist_size,
            "subjects": deployment.subject_count,
            "excluded_at_snapshot": len(snapshot.excluded) if snapshot is not None else None,
            "model": deployment.model,
            "destroyed_at_end": True,
            "templates_destroyed": deployment.templates_destroyed,
        },
        "retention": {
            "non_matches": "not retained (deleted immediately, in memory)",
            "alerts_days": governance.alert_retention_days,
            "alerts_rule": "alerts and their images are purged after the period unless a supervisor placed a hold "
            "(investigation or court); the purge runs every "
            f"{governance.retention_interval_s:.0f} s in `lfr serve` and on demand (`lfr retention run`)",
            "watchlist_copy": "the deployment's template copy is destroyed when the deployment ends or is cancelled",
            "audit": "the audit chain is kept; it holds ids, counts and decisions, never biometric data",
        },
        "threshold": {
            "value": deployment.threshold,
            "calibrated_default": policy.default,
            "minimum": policy.minimum,
            "derivation": policy.derivation,
            "saved_calibration": policy.calibration_id,
            "saved_equity_range": None if policy.equity_low is None else [policy.equity_low, policy.equity_high],
            "equity_justification": record["threshold_equity_justification"],
            "separation_of_duties": governance.separation_of_duties,
            "override": record["threshold_override"],
            "calibration": calibration_data,
            "equity_range": _equity_range(calibration_data, deployment.threshold),
        },
        "equity": equity_data
        if equity_data is not None
        else "not provided: run `lfr eval identify DATASET --groups FILE.csv --json` and pass it with --equity",
        "safeguards": [
            "recognition runs only for a deployment authorised by a supervisor, live, and inside its planned window; "
            "it stops by itself at the planned end",
            "any change after authorisation requires re-authorisation",
            "a threshold below the minimum requires a supervisor override with a reason, shown on the record",
            "an alert is never raised on a single frame: per-track evidence is required",
            "every alert is reviewed by an officer before any engagement; decisions and outcomes are recorded",
            "signage confirmed before authorisation"
            + (" (confirmed)" if deployment.signage_confirmed else " (NOT confirmed)"),
            _signage_fact(session, deployment.id),
            _notice_fact(settings),
            "roles: supervisors authorise and hold; operators adjudicate; auditors read the audit chain",
            f"append-only hash-chained audit log: {chain.entries} entries, "
            + ("verified intact" if chain.ok else f"BROKEN at entry {chain.problems[0].seq}"),
        ],
    }


def _signage_fact(session: Session, deployment_id: str) -> str:
    from openlfr.deployments.notice import list_placements

    placements = list_placements(session, deployment_id)
    if not placements:
        return "signs recorded as put up before recognition starts: none recorded yet (recognition cannot start)"
    where = "; ".join(f"{p.location} ({p.placed_at:%Y-%m-%d %H:%M} UTC)" for p in placements)
    return f"signs recorded as put up before recognition starts: {len(placements)} placement(s): {where}"


def _notice_fact(settings: Settings) -> str:
    missing = settings.governance.notice.missing()
    if missing:
        return "public notice: signs and leaflets cannot be printed yet; missing settings: " + ", ".join(missing)
    return (
        "public notice: A3 signs and A5 leaflets with contact, subject access and a QR code to the published record; "
        "public feed of planned and past deployments at /public/notice"
    )


def _equity_range(calibration: Any, threshold: float) -> dict[str, Any] | str:
    """Where the deployment's threshold sits against the range of thresholds at which the calibration found no
    significant group differential (``lfr calibrate --groups``)."""
    if not isinstance(calibration, dict) or "equity_range" not in calibration:
        return "not provided: run `lfr calibrate DATASET … --groups FILE.csv --json` and pass it with --calibration"
    block = calibration["equity_range"]
    if block is None:
        return "the calibration found a significant group differential at every threshold it scanned"
    intervals = block.get("intervals") or [[block["low"], block["high"]]]
    inside = any(low - 1e-9 <= threshold <= high + 1e-9 for low, high in intervals)
    where = "inside" if inside else "OUTSIDE"
    statement = (
        f"the deployment threshold {threshold:.3f} is {where} the thresholds at which no {block['attribute']} "
        f"differential was significant on {block['dataset']} (widest range {block['low']:.3f}–{block['high']:.3f})"
    )
    if not inside:
        statement += ": the choice needs a recorded justification"
    return {**block, "deployment_threshold_inside": inside, "statement": statement}


def to_markdown(facts: dict[str, Any]) -> str:
    lines = [f"# DPIA facts: {facts['deployment']['name']} ({facts['deployment']['id']})", ""]
    for section, value in facts.items():
        lines.append(f"## {section.replace('_', ' ').capitalize()}")
        if isinstance(value, list):
            lines.extend(f"- {item}" for item in value)
        elif isinstance(value, dict):
            for key, item in value.items():
                text = json.dumps(item) if isinstance(item, dict | list) else item
                lines.append(f"- **{key}**: {text}")
        else:
            lines.append(str(value))
        lines.append("")
    return "\n".join(lines)
