"""Public notice on the command line (docs/GOVERNANCE.md, "Public notice"):

- ``lfr deployment signage-placed ID --location TEXT [--at ISO]`` records that signs were put up (recognition
  cannot start before one is recorded); ``lfr deployment signage ID`` lists them;
- ``lfr report signage|leaflet ID --format pdf|html -o FILE`` prints a sign (A3) or leaflet (A5);
- ``lfr report notice-feed [--format html|json]`` writes the public notice feed.

Files written here are readable by their owner only (mode 0600).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openlfr.commands.common import add_database_flag, print_json, require_principal, settings_with_database
from openlfr.commands.deployment import iso_datetime

if TYPE_CHECKING:
    from openlfr.auth.principal import Principal


def signed_in(args: argparse.Namespace, settings: Any, session: Any, *, manage: bool = False) -> Principal:
    """Who a notice command is recorded as: the person signed in (``lfr login``) or the API token in
    ``LFR_TOKEN``, never a typed name. Recording signs needs deployments:manage; printing a notice or the feed
    is an audited read (deployments:read), as for the other reports. The one place this module names its actor."""
    from openlfr.auth.permissions import Permission

    permission = Permission.DEPLOYMENTS_MANAGE if manage else Permission.DEPLOYMENTS_READ
    return require_principal(args, settings, session, permission)


def register_deployment(sub: Any) -> None:
    """Sub-commands of ``lfr deployment``."""
    placed = sub.add_parser(
        "signage-placed", help="record that signs telling the public were put up (needed before start)"
    )
    placed.add_argument("id", metavar="ID")
    placed.add_argument("--location", required=True, help="where the signs are, e.g. 'both station exits'")
    placed.add_argument(
        "--at", type=iso_datetime, default=None, help="when they went up (ISO; UTC if no zone; default now)"
    )
    placed.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_database_flag(placed)
    placed.set_defaults(handler=run_signage_placed)

    listing = sub.add_parser("signage", help="where and when signs were put up for a deployment, and by whom")
    listing.add_argument("id", metavar="ID")
    listing.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_database_flag(listing)
    listing.set_defaults(handler=run_signage_list)


def register_reports(sub: Any) -> None:
    """Sub-commands of ``lfr report``."""
    for kind, size in (("signage", "A3 sign"), ("leaflet", "A5 leaflet, two sides")):
        parser = sub.add_parser(kind, help=f"the public notice of a deployment as a printable {size}")
        parser.add_argument("id", metavar="DEPLOYMENT")
        parser.add_argument("--format", choices=("pdf", "html"), default="pdf")
        parser.add_argument("--output", "-o", type=Path, default=None, help="write here (needed for pdf)")
        add_database_flag(parser)
        parser.set_defaults(handler=run_notice, notice_kind=kind)

    feed = sub.add_parser("notice-feed", help="the public notice feed: planned and past deployments, no personal data")
    feed.add_argument("--format", choices=("html", "json"), default="html")
    feed.add_argument("--output", "-o", type=Path, default=None, help="write here instead of stdout")
    add_database_flag(feed)
    feed.set_defaults(handler=run_notice_feed)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by its owner only (also when the file existed with another mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb", closefd=False) as out:
            out.write(data)
    finally:
        os.close(fd)
    print(f"wrote {path}", file=sys.stderr)


def _emit(data: bytes, output: Path | None) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        write_private(output, data)


def _audit(session: Any, who: Principal, kind: str, target_id: str | None, details: dict[str, object]) -> None:
    from openlfr.reports.reads import record_report

    record_report(session, kind, target_id, details, by=who)


def run_signage_placed(args: argparse.Namespace) -> int:
    from openlfr.deployments.notice import record_placement
    from openlfr.store.context import open_store
    from openlfr.utc import utcnow

    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        by = signed_in(args, settings, session, manage=True)
        placement = record_placement(session, args.id, location=args.location, by=by, now=utcnow(), placed_at=args.at)
    if args.json:
        print_json(placement.as_dict())
    else:
        print(f"signs recorded for {placement.deployment_id}: {placement.location} (from {placement.placed_at:%c})")
    return 0


def run_signage_list(args: argparse.Namespace) -> int:
    from openlfr.deployments.notice import list_placements
    from openlfr.store.context import open_store

    with open_store(settings_with_database(args)) as store, store.db.session() as session:
        placements = list_placements(session, args.id)
    if args.json:
        print_json({"deployment_id": args.id, "placements": [p.as_dict() for p in placements]})
        return 0
    if not placements:
        print("no signs recorded: recognition cannot start (lfr deployment signage-placed)", file=sys.stderr)
    for p in placements:
        print(f"{p.placed_at.isoformat(timespec='minutes')}  {p.placed_by:<24} {p.location}")
    return 0


def run_notice(args: argparse.Namespace) -> int:
    from openlfr.deployments.service import get_deployment
    from openlfr.errors import OpenLFRError
    from openlfr.reports.notice import NoticeKind, build_notice, render_notice
    from openlfr.reports.zones import zone_lines
    from openlfr.store.context import open_store

    if args.format == "pdf" and args.output is None:
        raise OpenLFRError("a PDF needs a file: give --output FILE.pdf")
    kind = NoticeKind(args.notice_kind)
    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        reader = signed_in(args, settings, session)
        deployment = get_deployment(session, args.id)
        areas = zone_lines(session, deployment.camera_ids)
        content = build_notice(deployment, settings.governance, camera_areas=areas)
        body, _ = render_notice(kind, content, args.format)
        _audit(session, reader, kind.value, args.id, {"format": args.format})
    _emit(body, args.output)
    return 0


def run_notice_feed(args: argparse.Namespace) -> int:
    from openlfr.reports.public_feed import feed_html, feed_json, public_feed
    from openlfr.store.context import open_store
    from openlfr.utc import utcnow

    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        reader = signed_in(args, settings, session)
        items = public_feed(session, settings.governance)
        _audit(session, reader, "notice_feed", None, {"format": args.format, "deployments": len(items)})
    config = settings.governance
    text = feed_json(items, config, utcnow()) if args.format == "json" else feed_html(items, config)
    _emit(text.encode("utf-8"), args.output)
    return 0
