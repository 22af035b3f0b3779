"""``lfr watchlist create|list|show|import|snapshot|export-report|delete|keygen``."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openlfr.commands.common import (
    add_database_flag,
    add_progress_flag,
    iso_date,
    print_json,
    progress,
    require_principal,
    settings_with_database,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from openlfr.auth.principal import Principal


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("watchlist", help="watchlists: create, import, snapshot, report, delete")
    sub = parser.add_subparsers(dest="watchlist_command", metavar="ACTION", required=True)

    create = _with_db(sub.add_parser("create", help="create an empty watchlist"))
    create.add_argument("name", metavar="NAME")
    create.add_argument("--description", default="", help="what the watchlist is for")
    create.set_defaults(handler=run_create)

    listing = _with_db(sub.add_parser("list", help="all watchlists with their sizes"))
    listing.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    listing.set_defaults(handler=run_list)

    show = _with_db(sub.add_parser("show", help="one watchlist: subjects and snapshots"))
    show.add_argument("name", metavar="NAME")
    show.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    show.set_defaults(handler=run_show)

    _register_import(sub)

    snapshot = _with_db(sub.add_parser("snapshot", help="freeze the current templates for a deployment"))
    snapshot.add_argument("name", metavar="NAME")
    snapshot.add_argument("--as-of", type=iso_date, default=None, help="review-by cut-off date (default: today)")
    snapshot.add_argument("--json", action="store_true", help="print fingerprint, templates, subjects, excluded")
    snapshot.set_defaults(handler=run_snapshot)

    report = _with_db(sub.add_parser("export-report", help="review report of the subjects (CSV or JSON)"))
    report.add_argument("name", metavar="NAME")
    report.add_argument("--output", type=Path, metavar="FILE", help="write here (default: stdout)")
    report.add_argument("--json", action="store_true", help="JSON instead of CSV")
    report.set_defaults(handler=run_export_report)

    remove = _with_db(sub.add_parser("delete", help="delete a watchlist and its snapshots (subjects stay)"))
    remove.add_argument("name", metavar="NAME")
    remove.add_argument("--yes", action="store_true", help="confirm")
    remove.set_defaults(handler=run_delete)

    keygen = sub.add_parser("keygen", help="print a new media encryption key (for LFR_MEDIA_KEY)")
    keygen.set_defaults(handler=run_keygen)


def _with_db(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    add_database_flag(parser)
    return parser


def _register_import(sub: Any) -> None:
    from openlfr.watchlists.types import Category

    parser = _with_db(
        sub.add_parser(
            "import",
            help="bulk-enrol FOLDER/<subject_ref>/<images> (+ optional subjects.csv) or a CSV of images",
            description="Enrol many images. Re-running the same import is safe: what is enrolled is skipped. "
            "Exit status 0 when the import ran to the end, whatever it rejected.",
        )
    )
    parser.add_argument("name", metavar="NAME", help="watchlist (created if it does not exist)")
    parser.add_argument("folder", nargs="?", type=Path, metavar="FOLDER", help="FOLDER/<subject_ref>/<images>")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="CSV with subject_ref, image_path (+ metadata)")
    parser.add_argument("--category", choices=[c.value for c in Category], help="for subjects the files omit")
    parser.add_argument("--reason", help="reason / legal basis, for subjects the files omit")
    parser.add_argument(
        "--image-source",
        choices=("custody_image", "other_police_image", "other"),
        help="where the images come from, for subjects the files omit (other needs --image-source-note)",
    )
    parser.add_argument("--image-source-note", default=None, help="for --image-source other: what and why")
    parser.add_argument("--review-by", type=iso_date, help="review-by date (default: today + review_after_days)")
    parser.add_argument("--force", action="store_true", help="enrol faces flagged as possible duplicate identities")
    parser.add_argument("--rejects", type=Path, metavar="FILE", help="rejects CSV (default: under data_dir/reports)")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object on stdout")
    add_progress_flag(parser)
    parser.set_defaults(handler=run_import)


def _manager(args: argparse.Namespace, settings: Any, session: Session) -> Principal:
    from openlfr.auth.permissions import Permission

    return require_principal(args, settings, session, Permission.WATCHLISTS_MANAGE)


def run_create(args: argparse.Namespace) -> int:
    from openlfr.store.context import open_store
    from openlfr.watchlists.subjects import create_watchlist

    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        create_watchlist(session, args.name, args.description, by=_manager(args, settings, session))
    print(f"created watchlist {args.name!r}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from openlfr.store.context import open_store
    from openlfr.watchlists.report import list_watchlists

    with open_store(settings_with_database(args)) as store, store.db.session() as session:
        infos = list_watchlists(session)
    if args.json:
        print_json({"watchlists": [info.as_dict() for info in infos]})
        return 0
    for info in infos:
        print(f"{info.name:<30} {info.subjects:>6} subjects  {len(info.snapshots):>3} snapshots  {info.description}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from openlfr.store.context import open_store
    from openlfr.watchlists.report import review_report, watchlist_info
    from openlfr.watchlists.subjects import get_watchlist

    today = datetime.now(UTC).date()
    with open_store(settings_with_database(args)) as store, store.db.session() as session:
        info = watchlist_info(session, get_watchlist(session, args.name))
        rows = review_report(session, args.name, today)
    if args.json:
        print_json({**info.as_dict(), "members": [row.as_dict() for row in rows]})
        return 0
    print(f"{info.name}: {info.subjects} subjects, created {info.created_at:%Y-%m-%d}  {info.description}")
    for row in rows:
        overdue = "  REVIEW OVERDUE" if row.review_overdue else ""
        print(
            f"  {row.external_ref:<24} {row.category:<22} {row.templates:>2} templates  "
            f"review by {row.review_by}{overdue}"
        )
    for snap in info.snapshots:
        print(f"  snapshot {snap.created_at:%Y-%m-%d %H:%M} {snap.fingerprint[:16]}… {snap.templates} templates")
    return 0


def _default_rejects_path(data_dir: Path, name: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "watchlist"
    return data_dir / "reports" / f"import-{safe}-{datetime.now(UTC):%Y%m%dT%H%M%S}-rejects.csv"


def run_import(args: argparse.Namespace) -> int:
    from openlfr.engine import FaceEngine
    from openlfr.errors import DatasetError
    from openlfr.store.context import open_store
    from openlfr.watchlists.enrol import Enroller
    from openlfr.watchlists.importer import Importer, SubjectDefaults, write_rejects
    from openlfr.watchlists.manifest import scan_csv, scan_folder
    from openlfr.watchlists.types import Category

    if (args.folder is None) == (args.csv is None):
        raise DatasetError("give either FOLDER or --csv FILE (one of them)")
    settings = settings_with_database(args)
    manifest = scan_folder(args.folder) if args.folder is not None else scan_csv(args.csv)
    rejects_path = args.rejects or _default_rejects_path(settings.data_dir, args.name)
    with open_store(settings) as store:
        with store.db.session() as session:
            principal = _manager(args, settings, session)
        defaults = SubjectDefaults(
            by=principal,
            review_by=args.review_by or date.today() + timedelta(days=settings.watchlist.review_after_days),
            category=Category(args.category) if args.category else None,
            reason=args.reason,
            image_source=args.image_source,
            image_source_note=args.image_source_note,
        )
        enroller = Enroller(store, FaceEngine.from_settings(settings), settings.watchlist.duplicate_threshold)
        summary = Importer(enroller, defaults, force=args.force).run(
            args.name,
            manifest,
            progress=lambda items: progress(items, total=len(manifest.items), desc="enrolling", enabled=args.progress),
        )
    write_rejects(rejects_path, summary.rejects)
    payload = {**summary.as_dict(), "rejects_file": str(rejects_path)}
    if args.json:
        print_json(payload)
        return 0
    print(
        f"{summary.watchlist}: {summary.items} images — {summary.enrolled} enrolled, "
        f"{summary.already_enrolled} already enrolled, {sum(summary.rejected.values())} rejected, "
        f"{summary.duplicates} possible duplicate identities"
    )
    for code, count in sorted(summary.rejected.items()):
        print(f"  rejected {code}: {count}")
    for warned in summary.mismatched:
        print(f"  WARNING {warned.code}: {warned.source} ({warned.subject_ref}): {warned.detail}")
    print(f"rejects report: {rejects_path}")
    return 0


def run_snapshot(args: argparse.Namespace) -> int:
    from openlfr.embed.base import create_embedder
    from openlfr.store.context import open_store
    from openlfr.watchlists.snapshots import create_snapshot

    settings = settings_with_database(args)
    # Only the embedder's contract is needed: templates of other models are left out of the snapshot.
    contract = create_embedder(settings.engine.embedder, settings.models_cache_dir).contract
    as_of = args.as_of or datetime.now(UTC).date()
    with open_store(settings) as store, store.db.session() as session:
        principal = _manager(args, settings, session)
        result = create_snapshot(session, args.name, contract, as_of, by=principal)
    if args.json:
        print_json(result.as_dict())
        return 0
    print(result.fingerprint)
    print(f"{result.watchlist}: {result.templates} templates of {result.subjects} subjects", file=sys.stderr)
    for exclusion in result.excluded:
        print(f"  excluded {exclusion.external_ref}: {exclusion.reason}", file=sys.stderr)
    return 0


def run_export_report(args: argparse.Namespace) -> int:
    import json

    from openlfr.store.context import open_store
    from openlfr.watchlists.report import review_report, write_report_csv

    with open_store(settings_with_database(args)) as store, store.db.session() as session:
        rows = review_report(session, args.name, datetime.now(UTC).date())
    from openlfr.files import open_private

    handle = open_private(args.output, "w", newline="", encoding="utf-8") if args.output else sys.stdout
    try:
        if args.json:
            json.dump({"watchlist": args.name, "subjects": [row.as_dict() for row in rows]}, handle, indent=2)
            handle.write("\n")
        else:
            write_report_csv(handle, rows)
    finally:
        if args.output:
            handle.close()
    return 0


def run_delete(args: argparse.Namespace) -> int:
    from openlfr.errors import OpenLFRError
    from openlfr.store.context import open_store
    from openlfr.watchlists.subjects import delete_watchlist

    if not args.yes:
        raise OpenLFRError(f"deleting watchlist {args.name!r} removes its snapshots: add --yes to confirm")
    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        members = delete_watchlist(session, args.name, by=_manager(args, settings, session))
    print(f"deleted watchlist {args.name!r} ({members} subjects stay on record; erase them with `lfr subject erase`)")
    return 0


def run_keygen(args: argparse.Namespace) -> int:
    from openlfr.store.media import generate_key

    print(generate_key())
    return 0
