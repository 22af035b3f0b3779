"""``lfr deployment create|list|show|update|authorise|start|end|cancel`` (docs/GOVERNANCE.md).

Every change is made by whoever is signed in (`lfr login`, or ``LFR_TOKEN``): the domain functions check the
permission and separation of duties and record that principal. There is no option to name somebody else.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from openlfr.commands.common import add_database_flag, print_json, require_principal, settings_with_database
from openlfr.utc import as_utc


def iso_datetime(text: str) -> datetime:
    """argparse type: ISO 8601 date-time; without a zone it is UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date-time (e.g. 2026-12-01T09:00+00:00)") from None
    return as_utc(value)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "deployment", help="deployments: plan, authorise, start, end (recognition runs only inside one)"
    )
    sub = parser.add_subparsers(dest="deployment_command", metavar="ACTION", required=True)

    create = sub.add_parser("create", help="plan a deployment (a draft, to be authorised)")
    _plan_options(create, required=True)
    create.set_defaults(handler=run_create)

    update = sub.add_parser("update", help="change a draft or authorised deployment (it then needs re-authorising)")
    update.add_argument("id", metavar="ID")
    _plan_options(update, required=False)
    update.set_defaults(handler=run_update)

    listing = sub.add_parser("list", help="deployments, oldest first")
    listing.add_argument("--status", choices=("draft", "authorised", "live", "ended", "cancelled"), default=None)
    _common(listing)
    listing.set_defaults(handler=run_list)

    show = sub.add_parser("show", help="one deployment's full record")
    show.add_argument("id", metavar="ID")
    _common(show)
    show.set_defaults(handler=run_show)

    authorise = sub.add_parser(
        "authorise", help="authorise a draft (a signed-in supervisor, not the deployment's creator)"
    )
    authorise.add_argument("id", metavar="ID")
    authorise.add_argument("--text", required=True, help="the authorisation: what, why necessary and proportionate")
    _common(authorise)
    authorise.set_defaults(handler=run_authorise)

    start = sub.add_parser("start", help="put an authorised deployment live (recognition runs inside its window)")
    start.add_argument("id", metavar="ID")
    _common(start)
    start.set_defaults(handler=run_start)

    end = sub.add_parser("end", help="end a live deployment (destroys its copy of the watchlist templates)")
    end.add_argument("id", metavar="ID")
    end.add_argument("--reason", default="ended by operator", help="why it ended (kept on the record)")
    _common(end)
    end.set_defaults(handler=run_end)

    cancel = sub.add_parser("cancel", help="cancel a draft or authorised deployment")
    cancel.add_argument("id", metavar="ID")
    cancel.add_argument("--reason", required=True, help="why (kept on the record)")
    _common(cancel)
    cancel.set_defaults(handler=run_cancel)

    from openlfr.commands.deployment_review import register_review

    register_review(sub, _common)

    from openlfr.commands.notice import register_deployment

    register_deployment(sub)  # signage-placed, signage


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_database_flag(parser)


def _plan_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--name", required=required, help="short title, e.g. 'Oxford Circus, Sat 1 Dec'")
    parser.add_argument("--use-case", required=required, help="e.g. 'crime hotspot', 'public event', 'missing person'")
    parser.add_argument("--purpose", required=required, help="what the deployment is for")
    parser.add_argument("--legal-basis", required=required, help="the law relied on (and policy document)")
    parser.add_argument("--justification", required=required, help="why necessary and proportionate, here and now")
    parser.add_argument("--location", required=required, help="where (text)")
    parser.add_argument("--lat", type=float, default=None, help="latitude (WGS84), optional")
    parser.add_argument("--lon", type=float, default=None, help="longitude (WGS84), optional")
    parser.add_argument("--start", type=iso_datetime, required=required, help="planned start (ISO; UTC if no zone)")
    parser.add_argument("--end", type=iso_datetime, required=required, help="planned end (ISO; UTC if no zone)")
    parser.add_argument(
        "--camera", action="append", default=None, required=required, metavar="ID", help="camera id (repeat)"
    )
    parser.add_argument(
        "--snapshot",
        required=required,
        metavar="ID_OR_FINGERPRINT",
        help="the watchlist snapshot (lfr watchlist snapshot)",
    )
    parser.add_argument(
        "--threshold", type=float, default=None, help="alert threshold (default: the model's calibrated default)"
    )
    parser.add_argument(
        "--signage-confirmed",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="signs telling the public that LFR is in use will be displayed (required to authorise)",
    )
    parser.add_argument(
        "--override-reason",
        default=None,
        help="why the threshold is below the floor (you must be a supervisor other than the deployment's creator)",
    )
    parser.add_argument(
        "--equity-justification",
        default=None,
        help="why the threshold lies outside the saved calibration's equity range",
    )
    _common(parser)


def _reasons(args: argparse.Namespace) -> Any:
    from openlfr.deployments.types import ThresholdReasons

    return ThresholdReasons(args.override_reason, args.equity_justification)


def _print(deployment: Any, args: argparse.Namespace, session: Any) -> None:
    from openlfr.deployments.figures import get_counts
    from openlfr.deployments.service import deployment_dict

    data = deployment_dict(deployment, get_counts(session, deployment.id))
    if args.json:
        print_json(data)
        return
    print(f"{data['id']}  {data['status']}  {data['name']}")
    for key in ("use_case", "location", "planned_start", "planned_end", "camera_ids", "snapshot_fingerprint"):
        print(f"  {key:>20}: {data[key]}")
    print(f"  {'watchlist_size':>20}: {data['watchlist_size']} templates of {data['subject_count']} subjects")
    print(
        f"  {'threshold':>20}: {data['threshold']} (calibrated {data['threshold_default']}, "
        f"floor {data['threshold_minimum']}, calibration {data['threshold_calibration'] or 'shipped'})"
    )
    if data["threshold_override"]:
        o = data["threshold_override"]
        print(f"  {'threshold override':>20}: by {o['by']} at {o['at']}: {o['reason']}")
    if data["threshold_equity_justification"]:
        e = data["threshold_equity_justification"]
        print(f"  {'outside equity range':>20}: by {e['by']}: {e['text']}")
    print(f"  {'signage_confirmed':>20}: {data['signage_confirmed']}")
    print(f"  {'created_by':>20}: {data['created_by']}")
    if data["authorisation"]:
        a = data["authorisation"]
        current = "" if a["current"] else "  (NOT CURRENT: changed since; re-authorise)"
        print(f"  {'authorised':>20}: by {a['by']} at {a['at']}{current}: {a['text']}")
    for key in ("started_at", "ended_at", "end_reason", "templates_destroyed", "counts"):
        if data[key] is not None:
            print(f"  {key:>20}: {data[key]}")


def run_create(args: argparse.Namespace) -> int:
    from openlfr.auth.permissions import Permission
    from openlfr.deployments.service import create_deployment
    from openlfr.deployments.types import DeploymentPlan
    from openlfr.store.context import open_store
    from openlfr.utc import utcnow

    settings = settings_with_database(args)
    plan = DeploymentPlan(
        name=args.name,
        use_case=args.use_case,
        purpose=args.purpose,
        legal_basis=args.legal_basis,
        justification=args.justification,
        location=args.location,
        planned_start=args.start,
        planned_end=args.end,
        camera_ids=tuple(args.camera),
        snapshot=args.snapshot,
        threshold=args.threshold,
        latitude=args.lat,
        longitude=args.lon,
        signage_confirmed=bool(args.signage_confirmed),
    )
    with open_store(settings) as store, store.db.session() as session:
        principal = require_principal(args, settings, session, Permission.DEPLOYMENTS_MANAGE)
        deployment = create_deployment(
            session, plan, by=principal, config=settings.governance, now=utcnow(), reasons=_reasons(args)
        )
        _print(deployment, args, session)
    return 0


def run_update(args: argparse.Namespace) -> int:
    from openlfr.auth.permissions import Permission
    from openlfr.deployments.service import update_deployment
    from openlfr.deployments.types import DeploymentChanges
    from openlfr.store.context import open_store
    from openlfr.utc import utcnow

    settings = settings_with_database(args)
    changes = DeploymentChanges(
        name=args.name,
        use_case=args.use_case,
        purpose=args.purpose,
        legal_basis=args.legal_basis,
        justification=args.justification,
        location=args.location,
        planned_start=args.start,
        planned_end=args.end,
        camera_ids=tuple(args.camera) if args.camera else None,
        snapshot=args.snapshot,
        threshold=args.threshold,
        latitude=args.lat,
        longitude=args.lon,
        signage_confirmed=args.signage_confirmed,
    )
    with open_store(settings) as store, store.db.session() as session:
        principal = require_principal(args, settings, session, Permission.DEPLOYMENTS_MANAGE)
        deployment = update_deployment(
            session, args.id, changes, by=principal, config=settings.governance, now=utcnow(), reasons=_reasons(args)
        )
        _print(deployment, args, session)
    return 0


def run_list(args: argparse.Namespace) -> int:
    from openlfr.deployments.service import deployment_dict, list_deployments
    from openlfr.store.context import open_store

    with open_store(settings_with_database(args)) as store, store.db.session() as session:
        rows = [deployment_dict(d) for d in list_deployments(session, args.status)]
    if args.json:
        print_json({"deployments": rows})
        return 0
    for row in rows:
        print(f"{row['id']}  {row['status']:<10} {row['planned_start']} → {row['planned_end']}  {row['name']}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from openlfr.deployments.service import get_deployment
    from openlfr.store.context import open_store

    with open_store(settings_with_database(args)) as store, store.db.session() as session:
        _print(get_deployment(session, args.id), args, session)
    return 0


def run_authorise(args: argparse.Namespace) -> int:
    from openlfr.auth.permissions import Permission
    from openlfr.deployments.service import authorise_deployment, deployment_composition, get_deployment
    from openlfr.store.context import open_store
    from openlfr.utc import utcnow
    from openlfr.watchlists.composition import describe

    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        principal = require_principal(args, settings, session, Permission.DEPLOYMENTS_AUTHORISE)
        now = utcnow()
        # The supervisor sees the watchlist's composition before the authorisation is recorded.
        shown = deployment_composition(session, get_deployment(session, args.id), now)
        for line in describe(shown):
            print(line, file=sys.stderr)
        deployment = authorise_deployment(
            session,
            args.id,
            by=principal,
            text=args.text,
            config=settings.governance,
            now=now,
            composition_digest=shown.digest,
        )
        _print(deployment, args, session)
    return 0


def run_start(args: argparse.Namespace) -> int:
    from openlfr.auth.permissions import Permission
    from openlfr.deployments.service import in_window, start_deployment
    from openlfr.store.context import open_store
    from openlfr.utc import utcnow

    now = utcnow()
    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        principal = require_principal(args, settings, session, Permission.DEPLOYMENTS_MANAGE)
        deployment = start_deployment(session, args.id, by=principal, now=now)
        _print(deployment, args, session)
        if not in_window(deployment, now):
            print("live: recognition starts in `lfr serve` when the planned window opens", file=sys.stderr)
    return 0


def run_end(args: argparse.Namespace) -> int:
    from openlfr.auth.permissions import Permission
    from openlfr.deployments.service import end_deployment
    from openlfr.store.context import open_store
    from openlfr.utc import utcnow

    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        principal = require_principal(args, settings, session, Permission.DEPLOYMENTS_MANAGE)
        deployment = end_deployment(session, args.id, by=principal, reason=args.reason, now=utcnow())
        _print(deployment, args, session)
    return 0


def run_cancel(args: argparse.Namespace) -> int:
    from openlfr.auth.permissions import Permission
    from openlfr.deployments.service import cancel_deployment
    from openlfr.store.context import open_store
    from openlfr.utc import utcnow

    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        principal = require_principal(args, settings, session, Permission.DEPLOYMENTS_MANAGE)
        deployment = cancel_deployment(session, args.id, by=principal, reason=args.reason, now=utcnow())
        _print(deployment, args, session)
    return 0
