"""``lfr subject add|show|update|remove|erase|search``.

Changes and searches are made by whoever is signed in (`lfr login` or ``LFR_TOKEN``): the subject's
``added_by``, the erasure record's ``erased_by`` and the audit entries name that principal.
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openlfr.commands.common import add_database_flag, iso_date, print_json, require_principal, settings_with_database
from openlfr.errors import OpenLFRError

if TYPE_CHECKING:
    from openlfr.watchlists.types import EnrolResult


class EnrolmentRefusedError(OpenLFRError):
    """At least one image given on the command line was not enrolled (the message says which and why)."""

    code = "enrolment_refused"


def register(subparsers: Any) -> None:
    from openlfr.watchlists.types import Category

    categories = [c.value for c in Category]
    parser = subparsers.add_parser("subject", help="watchlist subjects: add, show, update, remove, erase")
    sub = parser.add_subparsers(dest="subject_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="add a subject, with reference images")
    add.add_argument("ref", metavar="REF", help="external reference (custody or case number)")
    add.add_argument(
        "--image", action="append", default=[], type=Path, metavar="FILE", dest="images", help="reference image"
    )
    add.add_argument("--name", default="", help="display name")
    add.add_argument("--category", required=True, choices=categories, help="APP watchlist category")
    add.add_argument("--reason", required=True, help="reason / legal basis for the entry")
    _safeguard_options(add, required=True)
    add.add_argument("--review-by", type=iso_date, help="review-by date (default: today + review_after_days)")
    add.add_argument("--watchlist", action="append", default=[], metavar="NAME", help="put on this watchlist")
    _enrol_options(add)
    add.set_defaults(handler=run_add)

    show = sub.add_parser("show", help="a subject's record, images and their quality")
    show.add_argument("ref", metavar="REF", help="external reference or id")
    show.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_database_flag(show)
    show.set_defaults(handler=run_show)

    update = sub.add_parser("update", help="change a subject's record or add reference images")
    update.add_argument("ref", metavar="REF", help="external reference or id")
    update.add_argument(
        "--image", action="append", default=[], type=Path, metavar="FILE", dest="images", help="add a reference image"
    )
    update.add_argument("--name", default=None, help="display name")
    update.add_argument("--category", choices=categories, default=None)
    update.add_argument("--reason", default=None, help="reason / legal basis")
    _safeguard_options(update, required=False)
    update.add_argument("--review-by", type=iso_date, default=None)
    update.add_argument("--watchlist", action="append", default=[], metavar="NAME", help="also put on this watchlist")
    _enrol_options(update)
    update.set_defaults(handler=run_update)

    remove = sub.add_parser("remove", help="take a subject off a watchlist (the record stays)")
    remove.add_argument("ref", metavar="REF")
    remove.add_argument("--watchlist", required=True, metavar="NAME")
    add_database_flag(remove)
    remove.set_defaults(handler=run_remove)

    erase = sub.add_parser("erase", help="erase a subject's images, templates and record everywhere")
    erase.add_argument("ref", metavar="REF")
    erase.add_argument("--reason", required=True, help="why (kept in the erasure record)")
    erase.add_argument("--yes", action="store_true", help="confirm: erasure cannot be undone")
    erase.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_database_flag(erase)
    erase.set_defaults(handler=run_erase)
    _register_search(sub)


def _register_search(sub: Any) -> None:
    search = sub.add_parser(
        "search", help="subject access: every subject and alert whose face matches a photo (export or erase them)"
    )
    search.add_argument("--image", type=Path, required=True, metavar="FILE", help="a photo of the requester")
    search.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="score at or above which a record matches (default: the model's calibrated alert threshold)",
    )
    search.add_argument("--export", type=Path, default=None, metavar="DIR", help="write records.json and images")
    search.add_argument("--erase-alerts", action="store_true", help="delete the matching alerts (not those on hold)")
    search.add_argument("--reason", default=None, help="why the alerts are erased (with --erase-alerts)")
    search.add_argument("--yes", action="store_true", help="confirm --erase-alerts")
    search.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_database_flag(search)
    search.set_defaults(handler=run_search)


def _enrol_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true", help="enrol faces flagged as possible duplicate identities")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_database_flag(parser)


def _manager(args: argparse.Namespace, settings: Any, store: Any) -> Any:
    from openlfr.auth.permissions import Permission

    with store.db.session() as session:
        return require_principal(args, settings, session, Permission.WATCHLISTS_MANAGE)


def _enrol_files(
    args: argparse.Namespace, store: Any, settings: Any, info: Any, principal: Any
) -> list[tuple[Path, EnrolResult]]:
    """Enrol each image given: what happened to each."""
    from openlfr.engine import FaceEngine
    from openlfr.watchlists.enrol import Enroller, EnrolRequest
    from openlfr.watchlists.types import EnrolResult, Outcome, RejectCode

    enroller = Enroller(store, FaceEngine.from_settings(settings), settings.watchlist.duplicate_threshold)
    results = []
    for path in args.images:
        try:
            data = path.read_bytes()
        except OSError as exc:
            result = EnrolResult(Outcome.REJECTED, RejectCode.UNREADABLE, f"{path}: {exc.strerror or exc}")
        else:
            request = EnrolRequest(args.ref, data, path.name, info=info, force=args.force, by=principal)
            result = enroller.enrol(request)
        results.append((path, result))
    return results


def _finish(args: argparse.Namespace, store: Any, enrolled: list[tuple[Path, EnrolResult]], principal: Any) -> int:
    from openlfr.watchlists.enrol import record_enrolment
    from openlfr.watchlists.subjects import find_subject, subject_view

    with store.db.session() as session:
        subject = find_subject(session, args.ref)
        view = subject_view(session, subject).as_dict() if subject is not None else None
        record_enrolment(session, subject.id if subject is not None else None, [r for _, r in enrolled], by=principal)
    results = [
        {
            "image": str(path),
            "outcome": str(result.outcome),
            "code": result.code,
            "detail": result.detail,
            "duplicate_of": result.duplicate_of,
            "duplicate_score": result.duplicate_score,
            "warning": result.warning.as_dict() if result.warning else None,
        }
        for path, result in enrolled
    ]
    if args.json:
        print_json({"subject": view, "images": results})
    else:
        for path, result in enrolled:
            note = f" ({result.code}: {result.detail})" if result.code else ""
            print(f"{path}: {result.outcome}{note}")
            if result.warning is not None:
                print(f"  WARNING {result.warning.code}: {result.warning.detail}")
    failed = [r for r in results if r["outcome"] not in ("enrolled", "already_enrolled")]
    if failed:
        raise EnrolmentRefusedError(f"{len(failed)} of {len(results)} image(s) not enrolled (see above)")
    return 0


def _safeguard_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    from openlfr.watchlists.types import ImageSource

    parser.add_argument(
        "--image-source",
        required=required,
        choices=[s.value for s in ImageSource],
        default=None,
        help="where the images come from: custody_image, other_police_image, or other (with --image-source-note)",
    )
    parser.add_argument(
        "--image-source-note", default=None, metavar="TEXT", help="what the source is and why it may be used"
    )
    parser.add_argument("--date-of-birth", type=iso_date, default=None, metavar="YYYY-MM-DD")
    parser.add_argument(
        "--under-18",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="flag the subject as a child when the date of birth is unknown",
    )
    parser.add_argument(
        "--minor-justification", default=None, metavar="TEXT", help="why a child is on the watchlist (required for one)"
    )


def run_add(args: argparse.Namespace) -> int:
    from openlfr.store.context import open_store
    from openlfr.store.errors import ConflictError
    from openlfr.watchlists.subjects import add_member, create_subject, find_subject, get_watchlist, validate_info
    from openlfr.watchlists.types import Category, SubjectInfo

    settings = settings_with_database(args)
    with open_store(settings) as store:
        principal = _manager(args, settings, store)
        try:
            info = validate_info(
                SubjectInfo(
                    external_ref=args.ref,
                    category=Category(args.category),
                    reason=args.reason,
                    image_source=args.image_source,
                    added_by=principal.label,
                    review_by=args.review_by or date.today() + timedelta(days=settings.watchlist.review_after_days),
                    display_name=args.name,
                    image_source_note=args.image_source_note or "",
                    date_of_birth=args.date_of_birth,
                    under_18=bool(args.under_18),
                    minor_justification=args.minor_justification or "",
                )
            )
        except ValueError as exc:
            raise OpenLFRError(str(exc)) from exc
        with store.db.session() as session:
            if find_subject(session, info.external_ref) is not None:
                raise ConflictError(f"subject {info.external_ref!r} exists: use `lfr subject update` to change it")
            for name in args.watchlist:
                get_watchlist(session, name)  # fail before enrolling anything
            if not args.images:
                create_subject(session, info, by=principal)
        results = _enrol_files(args, store, settings, info, principal)
        with store.db.session() as session:
            subject = find_subject(session, info.external_ref)
            if subject is not None:
                for name in args.watchlist:
                    add_member(session, get_watchlist(session, name), subject, by=principal)
        return _finish(args, store, results, principal)


def run_show(args: argparse.Namespace) -> int:
    from openlfr.store.context import open_store
    from openlfr.watchlists.subjects import get_subject, subject_view

    with open_store(settings_with_database(args)) as store, store.db.session() as session:
        view = subject_view(session, get_subject(session, args.ref))
    data = view.as_dict()
    if args.json:
        print_json(data)
        return 0
    for key in (
        "external_ref",
        "display_name",
        "category",
        "reason",
        "image_source",
        "image_source_note",
        "date_of_birth",
        "under_18",
        "minor_justification",
        "added_by",
        "review_by",
    ):
        print(f"{key:>19}: {data[key]}")
    print(f"{'watchlists':>19}: {', '.join(data['watchlists']) or '-'}")
    for image in data["images"]:
        template = "yes" if image["has_template"] else "no"
        print(f"  image {image['digest'][:16]}… {image['source_name']} template={template}")
    return 0


def run_update(args: argparse.Namespace) -> int:
    from openlfr.store.context import open_store
    from openlfr.watchlists.subjects import add_member, get_subject, get_watchlist, update_subject
    from openlfr.watchlists.types import Category, SubjectChanges

    changes = SubjectChanges(
        display_name=args.name,
        category=Category(args.category) if args.category else None,
        reason=args.reason,
        image_source=args.image_source,
        image_source_note=args.image_source_note,
        review_by=args.review_by,
        date_of_birth=args.date_of_birth,
        under_18=args.under_18,
        minor_justification=args.minor_justification,
    )
    settings = settings_with_database(args)
    with open_store(settings) as store:
        principal = _manager(args, settings, store)
        with store.db.session() as session:
            subject = get_subject(session, args.ref)
            args.ref = subject.external_ref
            try:
                update_subject(session, subject, changes, by=principal)
            except ValueError as exc:
                raise OpenLFRError(str(exc)) from exc
            for name in args.watchlist:
                add_member(session, get_watchlist(session, name), subject, by=principal)
        results = _enrol_files(args, store, settings, None, principal)
        return _finish(args, store, results, principal)


def run_remove(args: argparse.Namespace) -> int:
    from openlfr.auth.permissions import Permission
    from openlfr.store.context import open_store
    from openlfr.watchlists.subjects import get_subject, get_watchlist, remove_member

    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        principal = require_principal(args, settings, session, Permission.WATCHLISTS_MANAGE)
        subject = get_subject(session, args.ref)
        watchlist = get_watchlist(session, args.watchlist)
        remove_member(session, watchlist, subject, by=principal)
    print(f"removed {args.ref!r} from watchlist {args.watchlist!r} (the record stays; `lfr subject erase` deletes it)")
    return 0


def run_erase(args: argparse.Namespace) -> int:
    from openlfr.store.context import open_store
    from openlfr.watchlists.erase import erase_subject

    if not args.yes:
        raise OpenLFRError(f"erasing {args.ref!r} deletes its images and templates for good: add --yes to confirm")
    settings = settings_with_database(args)
    with open_store(settings) as store:
        principal = _manager(args, settings, store)
        try:
            result = erase_subject(store, args.ref, by=principal, reason=args.reason)
        except ValueError as exc:
            raise OpenLFRError(str(exc)) from exc
    if args.json:
        print_json(result.as_dict())
    else:
        print(
            f"erased subject {result.subject_id}: {result.images} images, {result.templates} templates, "
            f"{result.snapshots_redacted} snapshots redacted (record {result.record_id})"
        )
    return 0


def run_search(args: argparse.Namespace) -> int:
    from openlfr.auth.permissions import Permission
    from openlfr.engine import FaceEngine
    from openlfr.errors import ConfigError
    from openlfr.pipeline.thresholds import default_threshold
    from openlfr.retention.access import erase_alerts, export_access, search_by_face
    from openlfr.store.context import open_store

    if args.erase_alerts and not (args.yes and args.reason):
        raise OpenLFRError("--erase-alerts deletes alerts for good: add --reason and --yes")
    try:
        photo = args.image.read_bytes()
    except OSError as exc:
        raise OpenLFRError(f"cannot read {args.image}: {exc.strerror or exc}") from exc
    settings = settings_with_database(args)
    engine = FaceEngine.from_settings(settings)
    try:
        threshold = args.threshold if args.threshold is not None else default_threshold(engine.contract)
    except ConfigError as exc:
        raise ConfigError(f"{exc} (give --threshold)") from exc
    with open_store(settings) as store:
        with store.db.session() as session:
            principal = require_principal(args, settings, session, Permission.RETENTION_MANAGE)
        result = search_by_face(store, engine, photo, threshold=threshold, by=principal)
        exported = export_access(store, result, args.export, by=principal) if args.export else None
        erased = (
            erase_alerts(store, [a.alert_id for a in result.alerts], by=principal, reason=args.reason)
            if args.erase_alerts
            else None
        )
    payload = {
        **result.as_dict(),
        "export": str(exported) if exported else None,
        "erased_alerts": erased[0] if erased else None,
    }
    if args.json:
        print_json(payload)
        return 0
    print(f"{result.faces_in_photo} face(s) in the photo; threshold {threshold:.3f}")
    for hit in result.subjects:
        print(f"  subject {hit.external_ref} ({hit.subject_id}) score {hit.score:.3f}")
        print(f"    erase: lfr subject erase {hit.external_ref} --reason '...' --yes")
    for alert in result.alerts:
        how = f"score {alert.score:.3f}" if alert.score is not None else "via its subject"
        held = "  ON HOLD" if alert.hold else ""
        print(f"  alert {alert.alert_id} {alert.decided_at} deployment {alert.deployment_id} {how}{held}")
    if exported:
        print(f"records written to {exported}")
    if erased:
        print(f"erased {erased[0]} alerts and {erased[1]} image files")
    return 0
