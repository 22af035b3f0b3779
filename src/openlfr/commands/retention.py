"""``lfr retention run|status|hold|release|holds``: purge alerts past the retention period; investigation holds.

Purges and holds are made by whoever is signed in (`lfr login` or ``LFR_TOKEN``), who needs retention:manage.
"""

from __future__ import annotations

import argparse
from typing import Any

from openlfr.commands.common import add_database_flag, print_json, require_principal, settings_with_database


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("retention", help="retention: purge old alerts now, holds for investigations")
    sub = parser.add_subparsers(dest="retention_command", metavar="ACTION", required=True)

    run = sub.add_parser("run", help="purge alerts past the retention period (not on hold) and their images now")
    run.add_argument("--days", type=int, default=None, help="retention period (default: governance setting, 31)")
    _common(run)
    run.set_defaults(handler=run_purge)

    status = sub.add_parser("status", help="how many alerts are due for purging, and how many are held")
    _common(status)
    status.set_defaults(handler=run_status)

    hold = sub.add_parser("hold", help="keep an alert past the retention period (investigation or court)")
    hold.add_argument("alert", metavar="ALERT_ID")
    hold.add_argument("--reason", required=True, help="why, e.g. the case reference")
    _common(hold)
    hold.set_defaults(handler=run_hold)

    release = sub.add_parser("release", help="lift a hold (the alert is purged on the next run if it is old)")
    release.add_argument("alert", metavar="ALERT_ID")
    release.add_argument("--reason", default="no longer needed", help="why the hold ends")
    _common(release)
    release.set_defaults(handler=run_release)

    holds = sub.add_parser("holds", help="alerts on hold")
    _common(holds)
    holds.set_defaults(handler=run_holds)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_database_flag(parser)


def run_purge(args: argparse.Namespace) -> int:
    from openlfr.auth.permissions import Permission
    from openlfr.errors import ConfigError
    from openlfr.retention.purge import purge_alerts
    from openlfr.store.context import open_store
    from openlfr.utc import utcnow

    settings = settings_with_database(args)
    days = args.days if args.days is not None else settings.governance.alert_retention_days
    if days < 1:
        raise ConfigError("--days must be at least 1")
    with open_store(settings) as store:
        with store.db.session() as session:
            principal = require_principal(args, settings, session, Permission.RETENTION_MANAGE)
        result = purge_alerts(store, now=utcnow(), retention_days=days, by=principal)
    if args.json:
        print_json({**result.as_dict(), "retention_days": days})
    else:
        print(
            f"purged {result.alerts} alerts and {result.media_files} image files decided before "
            f"{result.cutoff:%Y-%m-%d %H:%M} UTC ({days} days); {result.held} older alerts kept on hold"
        )
    return 0


def run_status(args: argparse.Namespace) -> int:
    from openlfr.retention.purge import cutoff_for, due_count
    from openlfr.store.context import open_store
    from openlfr.utc import utcnow

    settings = settings_with_database(args)
    days = settings.governance.alert_retention_days
    cutoff = cutoff_for(utcnow(), days)
    with open_store(settings) as store, store.db.session() as session:
        due, held = due_count(session, cutoff)
    if args.json:
        print_json({"retention_days": days, "cutoff": cutoff.isoformat(), "due": due, "held": held})
    else:
        print(f"retention {days} days: {due} alerts due for purging, {held} past the period kept on hold")
    return 0


def _hold_dict(record: Any) -> dict[str, Any]:
    return {
        "alert": record.id,
        "hold": record.hold,
        "hold_by": record.hold_by,
        "hold_reason": record.hold_reason,
        "hold_at": record.hold_at.isoformat() if record.hold_at else None,
        "deployment_id": record.deployment_id,
        "decided_at": record.decided_at.isoformat(),
    }


def run_hold(args: argparse.Namespace) -> int:
    from openlfr.auth.permissions import Permission
    from openlfr.retention.purge import place_hold
    from openlfr.store.context import open_store
    from openlfr.utc import utcnow

    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        principal = require_principal(args, settings, session, Permission.RETENTION_MANAGE)
        record = place_hold(session, args.alert, by=principal, reason=args.reason, now=utcnow())
        data = _hold_dict(record)
    print_json(data) if args.json else print(f"alert {args.alert} on hold: {args.reason}")
    return 0


def run_release(args: argparse.Namespace) -> int:
    from openlfr.auth.permissions import Permission
    from openlfr.retention.purge import lift_hold
    from openlfr.store.context import open_store

    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        principal = require_principal(args, settings, session, Permission.RETENTION_MANAGE)
        record = lift_hold(session, args.alert, by=principal, reason=args.reason)
        data = _hold_dict(record)
    print_json(data) if args.json else print(f"alert {args.alert}: hold lifted")
    return 0


def run_holds(args: argparse.Namespace) -> int:
    from openlfr.retention.purge import held_alerts
    from openlfr.store.context import open_store

    with open_store(settings_with_database(args)) as store, store.db.session() as session:
        rows = [_hold_dict(r) for r in held_alerts(session)]
    if args.json:
        print_json({"holds": rows})
        return 0
    for row in rows:
        print(f"{row['alert']}  held by {row['hold_by']} since {row['hold_at']}: {row['hold_reason']}")
    return 0
