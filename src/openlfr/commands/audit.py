"""``lfr audit verify|export|anchor|log``: the hash-chained audit log (docs/GOVERNANCE.md)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openlfr.commands.common import add_database_flag, iso_date, print_json, settings_with_database

EXIT_TAMPERED = 3


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("audit", help="audit log: verify the hash chain, export it, read it")
    sub = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)

    verify = sub.add_parser(
        "verify", help=f"check every entry's hash and link: exit 0 intact, {EXIT_TAMPERED} tampered (says where)"
    )
    verify.add_argument(
        "--against",
        type=Path,
        metavar="EXPORT",
        default=None,
        help="also check that every entry of an earlier `lfr audit export` is still in the database unchanged "
        "(catches a chain rewritten with recomputed hashes); its manifest is checked with the configured key",
    )
    verify.add_argument(
        "--anchor",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="also check an anchor from `lfr audit anchor` (repeatable): its entry must still be in the chain "
        "with the same hash, which catches entries cut from the end even when audit_head was rewritten",
    )
    verify.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_database_flag(verify)
    verify.set_defaults(handler=run_verify)

    anchor = sub.add_parser(
        "anchor",
        help="print the chain head (seq, hash, time; HMAC-signed with governance.audit_export_key when set) "
        "to keep off the server and check later with `verify --anchor`",
    )
    anchor.add_argument("-o", "--output", type=Path, default=None, metavar="FILE", help="also write it (mode 0600)")
    add_database_flag(anchor)
    anchor.set_defaults(handler=run_anchor)

    export = sub.add_parser("export", help="write the log as JSON Lines with a sha256/HMAC-signed manifest")
    export.add_argument("output", type=Path, metavar="FILE", help="the .jsonl file (FILE.manifest.json beside it)")
    export.add_argument("--since", type=iso_date, default=None, help="only entries from this date (YYYY-MM-DD)")
    add_database_flag(export)
    export.set_defaults(handler=run_export)

    log = sub.add_parser("log", help="print entries (newest last)")
    log.add_argument("--action", default=None, help="only this action, e.g. deployment.authorise")
    log.add_argument("--target", default=None, metavar="ID", help="only entries about this id")
    log.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_database_flag(log)
    log.set_defaults(handler=run_log)


def _key(settings: Any) -> bytes | None:
    secret = settings.governance.audit_export_key
    return secret.get_secret_value().encode("utf-8") if secret is not None else None


def run_verify(args: argparse.Namespace) -> int:
    from openlfr.audit import verify_chain
    from openlfr.audit.anchor import check_anchor, read_anchor
    from openlfr.audit.export import check_export, compare_with_export
    from openlfr.store.context import open_store

    settings = settings_with_database(args)
    exported = check_export(args.against, key=_key(settings)) if args.against is not None else None
    anchors = [read_anchor(path, key=_key(settings)) for path in args.anchor]
    with open_store(settings) as store, store.db.session() as session:
        result = verify_chain(session)
        problems = list(result.problems)
        if exported is not None:
            problems.extend(compare_with_export(session, exported))
        for anchor in anchors:
            problems.extend(check_anchor(session, anchor))
    if args.json:
        print_json(
            {
                "ok": not problems,
                "entries": result.entries,
                "last_seq": result.last_seq,
                "last_hash": result.last_hash,
                "checked_against_export": len(exported) if exported is not None else None,
                "checked_anchors": len(anchors),
                "problems": [{"seq": p.seq, "problem": p.problem} for p in problems],
            }
        )
    if problems:
        for problem in problems:
            print(f"lfr: audit chain broken at entry {problem.seq}: {problem.problem}", file=sys.stderr)
        return EXIT_TAMPERED
    if not args.json:
        against = f", {len(exported)} exported entries match" if exported is not None else ""
        against += f", {len(anchors)} anchor(s) hold" if anchors else ""
        print(f"audit chain intact: {result.entries} entries, last {result.last_seq} {result.last_hash}{against}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from openlfr.audit import append_audit
    from openlfr.audit.export import export_audit
    from openlfr.auth.permissions import Permission
    from openlfr.commands.common import require_principal
    from openlfr.store.context import open_store

    settings = settings_with_database(args)
    since = datetime.combine(args.since, datetime.min.time(), UTC) if args.since else None
    with open_store(settings) as store:
        with store.db.session() as session:
            principal = require_principal(args, settings, session, Permission.AUDIT_READ)
            result = export_audit(session, args.output, key=_key(settings), since=since)
        with store.db.session() as session:
            append_audit(
                session,
                actor=principal.actor,
                action="audit.export",
                target_type="audit",
                target_id=None,
                details={
                    "file": args.output.name,
                    "entries": result.entries,
                    "last_seq": result.last_seq,
                    "sha256": result.sha256,
                    "signed": result.signed,
                },
            )
    signed = "HMAC-signed" if result.signed else "sha256 only (set governance.audit_export_key to sign)"
    print(f"exported {result.entries} entries to {result.path}; manifest {result.manifest} ({signed})")
    return 0


def run_anchor(args: argparse.Namespace) -> int:
    import json

    from openlfr.audit.anchor import make_anchor, write_anchor
    from openlfr.store.context import open_store
    from openlfr.utc import utcnow

    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        anchor = make_anchor(session, key=_key(settings), now=utcnow())
    if args.output is not None:
        write_anchor(anchor, args.output)
    print(json.dumps(anchor.to_json(), indent=2))
    if not anchor.signed:
        print(
            "lfr: note: unsigned (set governance.audit_export_key to sign anchors); keep it off this server",
            file=sys.stderr,
        )
    return 0


def run_log(args: argparse.Namespace) -> int:
    from openlfr.audit import iter_entries
    from openlfr.store.context import open_store

    with open_store(settings_with_database(args)) as store, store.db.session() as session:
        records = list(iter_entries(session, action=args.action, target_id=args.target))
    if args.json:
        print_json({"entries": [r.to_json() for r in records]})
        return 0
    for r in records:
        target = f"{r.target_type}/{r.target_id}" if r.target_id else r.target_type
        print(f"{r.seq:>6} {r.at:%Y-%m-%d %H:%M:%S} {r.actor:<24} {r.action:<28} {target}  {r.details}")
    return 0
