"""``lfr deployment review ID`` and ``lfr deployment sign-off ID``: the review after a deployment."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from openlfr.commands.common import print_json, require_principal, settings_with_database


def register_review(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    review = sub.add_parser("review", help="an ended deployment's alerts nobody decided, and its sign-off")
    review.add_argument("id", metavar="ID")
    common(review)
    review.set_defaults(handler=run_review)

    sign_off = sub.add_parser(
        "sign-off", help="a supervisor (signed in: lfr login) signs off an ended deployment's record"
    )
    sign_off.add_argument("id", metavar="ID")
    sign_off.add_argument("--notes", required=True, help="the review: what went well, what did not, follow-ups")
    sign_off.add_argument(
        "--correction", action="append", default=[], metavar="TEXT", help="a correction to the record (repeatable)"
    )
    common(sign_off)
    sign_off.set_defaults(handler=run_sign_off)


def _sign_off_dict(found: Any) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "by": found.by,
        "at": found.at.isoformat(),
        "notes": found.notes,
        "corrections": list(found.corrections),
        "unreviewed_alerts": list(found.unreviewed_alerts),
    }


def run_review(args: argparse.Namespace) -> int:
    from openlfr.deployments.service import get_deployment
    from openlfr.deployments.signoff import get_sign_off, unreviewed_alerts
    from openlfr.store.context import open_store

    with open_store(settings_with_database(args)) as store, store.db.session() as session:
        deployment = get_deployment(session, args.id)
        pending = unreviewed_alerts(session, deployment.id)
        found = _sign_off_dict(get_sign_off(session, deployment.id))
    if args.json:
        print_json(
            {
                "deployment_id": args.id,
                "unreviewed_alerts": [
                    {"id": a.alert_id, "status": a.status, "source": a.source, "decided_at": a.decided_at.isoformat()}
                    for a in pending
                ],
                "sign_off": found,
            }
        )
        return 0
    print(f"{len(pending)} alert(s) nobody decided")
    for alert in pending:
        print(f"  {alert.alert_id}  {alert.status:<9} {alert.source}  {alert.decided_at.isoformat()}")
    print("signed off: " + (f"by {found['by']} at {found['at']}" if found else "not yet"))
    return 0


def run_sign_off(args: argparse.Namespace) -> int:
    from openlfr.auth.permissions import Permission
    from openlfr.deployments.signoff import sign_off_deployment
    from openlfr.store.context import open_store
    from openlfr.utc import utcnow

    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        principal = require_principal(args, settings, session, Permission.DEPLOYMENTS_AUTHORISE)
        found = sign_off_deployment(
            session,
            args.id,
            by=principal,
            notes=args.notes,
            corrections=tuple(args.correction),
            now=utcnow(),
        )
        data = _sign_off_dict(found)
    if args.json:
        print_json(data)
    else:
        assert data is not None
        print(f"signed off by {data['by']}; {len(data['unreviewed_alerts'])} alert(s) were unreviewed", file=sys.stderr)
    return 0
