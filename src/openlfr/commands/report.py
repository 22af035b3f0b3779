"""``lfr report deployment|transparency|dpia-facts``: published records and assessment facts."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from openlfr.commands.common import add_database_flag, iso_date, print_json, require_principal, settings_with_database


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("report", help="deployment records, transparency report, DPIA facts, public notice")
    sub = parser.add_subparsers(dest="report_command", metavar="REPORT", required=True)

    deployment = sub.add_parser("deployment", help="one deployment's record (the fields the Met publishes)")
    deployment.add_argument("id", metavar="DEPLOYMENT")
    deployment.add_argument("--format", choices=("json", "csv", "html"), default="json")
    deployment.add_argument("--output", "-o", type=Path, default=None, help="write here instead of stdout")
    add_database_flag(deployment)
    deployment.set_defaults(handler=run_deployment)

    transparency = sub.add_parser("transparency", help="all deployments started in a period, with charts")
    transparency.add_argument("--from", dest="date_from", type=iso_date, required=True, help="YYYY-MM-DD (inclusive)")
    transparency.add_argument("--to", dest="date_to", type=iso_date, required=True, help="YYYY-MM-DD (exclusive)")
    transparency.add_argument("--format", choices=("html", "json", "csv"), default="html")
    transparency.add_argument("--output", "-o", type=Path, default=None, help="write here instead of stdout")
    add_database_flag(transparency)
    transparency.set_defaults(handler=run_transparency)

    dpia = sub.add_parser("dpia-facts", help="the facts an impact assessment needs, from the real configuration")
    dpia.add_argument("id", metavar="DEPLOYMENT")
    dpia.add_argument("--calibration", type=Path, default=None, help="JSON from `lfr calibrate --json`")
    dpia.add_argument("--equity", type=Path, default=None, help="JSON from `lfr eval identify --groups F --json`")
    dpia.add_argument("--json", action="store_true", help="print one JSON object (default: Markdown)")
    add_database_flag(dpia)
    dpia.set_defaults(handler=run_dpia)

    from openlfr.commands.notice import register_reports

    register_reports(sub)  # signage, leaflet, notice-feed


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    from openlfr.files import write_private

    output.parent.mkdir(parents=True, exist_ok=True)
    write_private(output, text)
    print(f"wrote {output}", file=sys.stderr)


def _reader(args: argparse.Namespace, settings: Any, session: Any) -> Any:
    """Reports are audited reads: whoever makes one is signed in (deployments:read)."""
    from openlfr.auth.permissions import Permission

    return require_principal(args, settings, session, Permission.DEPLOYMENTS_READ)


def _audit(session: Any, by: Any, kind: str, target_id: str | None, details: dict[str, object]) -> None:
    from openlfr.reports.reads import record_report

    record_report(session, kind, target_id, details, by=by)


def run_deployment(args: argparse.Namespace) -> int:
    from openlfr.reports.deployment import build_record, render_record
    from openlfr.store.context import open_store

    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        reader = _reader(args, settings, session)
        record = build_record(session, args.id)
        _audit(session, reader, "deployment", record.deployment_id, {"format": args.format})
    body, _ = render_record(record, args.format)
    _write(body, args.output)
    return 0


def run_transparency(args: argparse.Namespace) -> int:
    from openlfr.errors import OpenLFRError
    from openlfr.reports.transparency import build_transparency, render_transparency
    from openlfr.store.context import open_store

    start = datetime.combine(args.date_from, time.min, UTC)
    end = datetime.combine(args.date_to, time.min, UTC)
    if end <= start:
        raise OpenLFRError("--to must be after --from")
    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        reader = _reader(args, settings, session)
        report = build_transparency(session, start, end)
        _audit(
            session,
            reader,
            "transparency",
            None,
            {"from": args.date_from.isoformat(), "to": args.date_to.isoformat(), "deployments": len(report.records)},
        )
    _write(render_transparency(report, args.format), args.output)
    return 0


def run_dpia(args: argparse.Namespace) -> int:
    from openlfr.reports.dpia import dpia_facts, to_markdown
    from openlfr.store.context import open_store

    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        reader = _reader(args, settings, session)
        facts = dpia_facts(session, settings, args.id, calibration=args.calibration, equity=args.equity)
        _audit(session, reader, "dpia_facts", facts["deployment"]["id"], {})
    if args.json:
        print_json(facts)
    else:
        sys.stdout.write(to_markdown(facts))
    return 0
