"""``lfr alert show|decide|outcome|history``: review an alert from the command line, as the console does.

Decisions and outcomes are made by the signed-in officer (``lfr login``; an API token is refused, as in the
API); the rules, the history row and the audit entry are ``openlfr.alerts.review``'s. A decided alert or a
recorded outcome is changed only with ``--amend "why"`` (docs/GOVERNANCE.md §5, "Reviewing alerts").
"""

from __future__ import annotations

import argparse
from typing import Any

from openlfr.alerts.vocabulary import Decision, EngagementOutcome, RejectReason
from openlfr.commands.common import add_database_flag, print_json, require_principal, settings_with_database

DECISIONS = tuple(Decision)
OUTCOMES = tuple(EngagementOutcome)
REJECT_REASONS = tuple(RejectReason)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("alert", help="review alerts: decide, record outcomes, amend, show history")
    sub = parser.add_subparsers(dest="alert_command", metavar="ACTION", required=True)

    show = sub.add_parser("show", help="an alert's current state (status, outcome, version, hold)")
    show.add_argument("alert", metavar="ALERT_ID")
    _common(show)
    show.set_defaults(handler=run_show)

    decide = sub.add_parser("decide", help="confirm, reject (with --reason) or escalate an alert")
    decide.add_argument("alert", metavar="ALERT_ID")
    decide.add_argument("decision", choices=DECISIONS)
    decide.add_argument("--version", type=int, required=True, help="the alert version you decided on")
    decide.add_argument("--reason", choices=REJECT_REASONS, default=None, help="why it is rejected (reject only)")
    decide.add_argument("--note", default="", help="your note, kept in the history and the audit log")
    decide.add_argument("--amend", default="", metavar="WHY", help="change a confirmed or rejected alert: why")
    _common(decide)
    decide.set_defaults(handler=run_decide)

    outcome = sub.add_parser("outcome", help="what happened when officers engaged (confirmed or rejected alert)")
    outcome.add_argument("alert", metavar="ALERT_ID")
    outcome.add_argument("outcome", choices=OUTCOMES)
    outcome.add_argument("--version", type=int, required=True, help="the alert version you recorded it on")
    outcome.add_argument("--note", default="", help="your note, kept in the history")
    outcome.add_argument("--amend", default="", metavar="WHY", help="change an outcome already recorded: why")
    _common(outcome)
    outcome.set_defaults(handler=run_outcome)

    history = sub.add_parser("history", help="every decision, outcome and amendment of an alert (who, when, why)")
    history.add_argument("alert", metavar="ALERT_ID")
    _common(history)
    history.set_defaults(handler=run_history)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_database_flag(parser)


def _state(record: Any) -> dict[str, Any]:
    return {
        "alert": record.id,
        "status": record.status,
        "reject_reason": record.reject_reason,
        "outcome": record.outcome,
        "version": record.version,
        "hold": record.hold,
        "deployment_id": record.deployment_id,
    }


def _print_state(state: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(state)
        return
    outcome = f", outcome {state['outcome']}" if state["outcome"] else ""
    hold = ", on hold" if state["hold"] else ""
    print(f"alert {state['alert']}: {state['status']}{outcome} (version {state['version']}{hold})")


def run_show(args: argparse.Namespace) -> int:
    from openlfr.alerts.viewing import view_alert
    from openlfr.auth.permissions import Permission
    from openlfr.store.context import open_store

    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        principal = require_principal(args, settings, session, Permission.ALERTS_READ)
        state = _state(view_alert(session, args.alert, by=principal))
    _print_state(state, args.json)
    return 0


def run_decide(args: argparse.Namespace) -> int:
    from openlfr.alerts.review import adjudicate
    from openlfr.auth.permissions import Permission
    from openlfr.store.context import open_store
    from openlfr.utc import utcnow

    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        principal = require_principal(args, settings, session, Permission.ALERTS_ADJUDICATE)
        record = adjudicate(
            session,
            args.alert,
            decision=Decision(args.decision),
            version=args.version,
            by=principal,
            now=utcnow(),
            reason=RejectReason(args.reason) if args.reason else None,
            separation_of_duties=settings.governance.separation_of_duties,
            note=args.note,
            amendment_reason=args.amend,
            competence_required=settings.governance.require_competence,
        )
        state = _state(record)
    _print_state(state, args.json)
    return 0


def run_outcome(args: argparse.Namespace) -> int:
    from openlfr.alerts.review import record_outcome
    from openlfr.auth.permissions import Permission
    from openlfr.store.context import open_store
    from openlfr.utc import utcnow

    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        principal = require_principal(args, settings, session, Permission.ALERTS_ADJUDICATE)
        record = record_outcome(
            session,
            args.alert,
            outcome=EngagementOutcome(args.outcome),
            version=args.version,
            by=principal,
            now=utcnow(),
            note=args.note,
            amendment_reason=args.amend,
            evidence_outcomes=frozenset(settings.governance.evidence_outcomes),
        )
        state = _state(record)
    _print_state(state, args.json)
    return 0


def run_history(args: argparse.Namespace) -> int:
    from openlfr.alerts.viewing import view_history
    from openlfr.auth.permissions import Permission
    from openlfr.store.context import open_store

    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        principal = require_principal(args, settings, session, Permission.ALERTS_READ)
        record, changes = view_history(session, args.alert, by=principal)
        state = _state(record)
    if args.json:
        print_json({**state, "changes": [{**vars_of(c), "at": c.at.isoformat()} for c in changes]})
        return 0
    _print_state(state, False)
    for c in changes:
        was = f" (was {c.previous})" if c.previous else ""
        reason = f" [{c.reject_reason}]" if c.reject_reason else ""
        why = f" — {'amended: ' if c.amended else ''}{c.note}" if c.note else ""
        print(f"  {c.at:%Y-%m-%d %H:%M:%S} UTC  {c.kind:<12} {c.value}{reason}{was} by {c.changed_by}{why}")
    return 0


def vars_of(change: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(change)
