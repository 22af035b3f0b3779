"""Bulk import into a watchlist. Each image is enrolled in its own transaction, so an interrupted import
keeps what it finished and a re-run skips it (same digest, same subject: ``already_enrolled``); a failure
in one file is reported for that file and the import goes on.

The audit chain follows the import as it goes: ``watchlist.import.start`` before the first image, one
``watchlist.import.enrol`` entry inside each enrolment's transaction (subject, reference image, whether
the subject is new), and the summary (``watchlist.import``, written by the caller) at the end. So an import
killed half-way leaves a start entry and exactly one entry per image it enrolled, and no summary."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from openlfr.audit import append_audit
from openlfr.auth.principal import Principal
from openlfr.csvsafe import SafeWriter
from openlfr.errors import OpenLFRError
from openlfr.files import open_private
from openlfr.store.errors import MediaKeyError, StorageError
from openlfr.store.models import new_id
from openlfr.watchlists.enrol import Enroller, EnrolRequest, StoredImage
from openlfr.watchlists.manifest import ImportItem, Manifest, SubjectFields
from openlfr.watchlists.subjects import create_watchlist, find_watchlist, validate_info
from openlfr.watchlists.types import Category, EnrolResult, ImportSummary, Outcome, Reject, RejectCode, SubjectInfo

log = logging.getLogger(__name__)

REJECT_COLUMNS = ("source", "subject_ref", "code", "detail")
Progress = Callable[[Iterable[ImportItem]], Iterable[ImportItem]]


@dataclass(frozen=True, slots=True)
class SubjectDefaults:
    """Metadata for subjects the import file says nothing about (command-line options), and who imports them
    (the ``added_by`` of every new subject)."""

    by: Principal
    review_by: date
    category: Category | None = None
    reason: str | None = None
    image_source: str | None = None
    image_source_note: str | None = None

    def as_fields(self) -> SubjectFields:
        return SubjectFields(
            category=self.category,
            reason=self.reason,
            image_source=self.image_source,
            image_source_note=self.image_source_note,
            review_by=self.review_by,
        )


def subject_info(ref: str, given: SubjectFields | None, defaults: SubjectDefaults) -> SubjectInfo | str:
    """The full info for a new subject, or what is missing (as a message for the rejects report)."""
    merged = (given or SubjectFields()).filled_from(defaults.as_fields())
    missing = [
        label
        for label, value in (
            ("category", merged.category),
            ("reason (legal basis)", merged.reason),
            ("image_source", merged.image_source),
        )
        if value is None
    ]
    if missing:
        return f"no {', '.join(missing)} for new subject {ref!r}: add it to the CSV or pass it as an option"
    assert merged.category is not None and merged.reason is not None and merged.image_source is not None
    info = SubjectInfo(
        external_ref=ref,
        category=merged.category,
        reason=merged.reason,
        image_source=merged.image_source,
        added_by=defaults.by.label,
        review_by=merged.review_by or defaults.review_by,
        display_name=merged.display_name or "",
        image_source_note=merged.image_source_note or "",
        date_of_birth=merged.date_of_birth,
        under_18=bool(merged.under_18),
        minor_justification=merged.minor_justification or "",
    )
    try:
        return validate_info(info)
    except ValueError as exc:
        return str(exc)


class Importer:
    def __init__(self, enroller: Enroller, defaults: SubjectDefaults, *, force: bool = False) -> None:
        self.enroller = enroller
        self.defaults = defaults
        self.actor = defaults.by.actor  # the signed-in importer names every audit entry of the import
        self.force = force
        self.import_id = new_id()

    def run(self, watchlist_name: str, manifest: Manifest, progress: Progress = iter) -> ImportSummary:
        watchlist_id = self._watchlist(watchlist_name)
        self._audit_start(watchlist_name, watchlist_id, manifest)
        infos = {
            ref: subject_info(ref, manifest.subjects.get(ref), self.defaults)
            for ref in {item.subject_ref for item in manifest.items}
        }
        counts: Counter[str] = Counter()
        rejected: Counter[str] = Counter(r.code for r in manifest.problems)
        rejects = list(manifest.problems)
        duplicates = 0
        mismatched: list[Reject] = []
        for item in progress(manifest.items):
            result = self._one(item, infos[item.subject_ref], watchlist_id)
            counts[result.outcome] += 1
            if result.warning is not None:
                mismatched.append(Reject(item.source, item.subject_ref, result.warning.code, result.warning.detail))
            duplicates += result.duplicate_of is not None
            if result.outcome in (Outcome.REJECTED, Outcome.DUPLICATE):
                code = result.code or RejectCode.INTERNAL_ERROR
                rejects.append(Reject(item.source, item.subject_ref, code, result.detail))
                if result.outcome == Outcome.REJECTED:
                    rejected[code] += 1
        summary = ImportSummary(
            watchlist=watchlist_name,
            items=len(manifest.items),
            enrolled=counts[Outcome.ENROLLED],
            already_enrolled=counts[Outcome.ALREADY_ENROLLED],
            rejected=dict(rejected),
            duplicates=duplicates,
            rejects=tuple(rejects),
            import_id=self.import_id,
            mismatched=tuple(mismatched),
        )
        self._audit_finish(summary)
        return summary

    def _audit_start(self, name: str, watchlist_id: str, manifest: Manifest) -> None:
        with self.enroller.store.db.session() as session:
            append_audit(
                session,
                actor=self.actor,
                action="watchlist.import.start",
                target_type="watchlist",
                target_id=watchlist_id,
                details={"import": self.import_id, "name": name, "items": len(manifest.items)},
            )

    def _audit_finish(self, summary: ImportSummary) -> None:
        """The import's closing record (counts only): its start and each enrolment were recorded as they
        happened, under the same ``import`` id, so a killed import still shows what it added."""
        with self.enroller.store.db.session() as session:
            append_audit(
                session,
                actor=self.actor,
                action="watchlist.import",
                target_type="watchlist",
                target_id=None,
                details={
                    "import": summary.import_id,
                    "name": summary.watchlist,
                    "items": summary.items,
                    "enrolled": summary.enrolled,
                    "already_enrolled": summary.already_enrolled,
                    "rejected": sum(summary.rejected.values()),
                    "duplicates": summary.duplicates,
                },
            )

    def _audit_enrolled(self, session: Session, stored: StoredImage) -> None:
        append_audit(
            session,
            actor=self.actor,
            action="watchlist.import.enrol",
            target_type="subject",
            target_id=stored.subject_id,
            details={"import": self.import_id, "image_id": stored.image_id, "new_subject": stored.new_subject},
        )

    def _watchlist(self, name: str) -> str:
        """The watchlist's id; an import into a name that does not exist yet creates it."""
        with self.enroller.store.db.session() as session:
            watchlist = find_watchlist(session, name)
            return watchlist.id if watchlist is not None else create_watchlist(session, name, by=self.defaults.by).id

    def _one(self, item: ImportItem, info: SubjectInfo | str, watchlist_id: str) -> EnrolResult:
        try:
            data = item.path.read_bytes()
        except FileNotFoundError:
            return EnrolResult(Outcome.REJECTED, RejectCode.MISSING_FILE, f"{item.path}: no such file")
        except OSError as exc:
            return EnrolResult(Outcome.REJECTED, RejectCode.UNREADABLE, f"{item.path}: {exc.strerror or exc}")
        request = EnrolRequest(
            subject_ref=item.subject_ref,
            data=data,
            source_name=item.path.name,
            info=info if isinstance(info, SubjectInfo) else None,
            info_error=info if isinstance(info, str) else None,
            watchlist_id=watchlist_id,
            force=self.force,
            by=self.defaults.by,
            on_stored=self._audit_enrolled,
        )
        try:
            return self.enroller.enrol(request)
        except (StorageError, MediaKeyError):
            raise  # the store itself is unusable: every further image would fail the same way
        except DBAPIError as exc:
            raise StorageError(f"database error while enrolling {item.source}: {exc.orig or exc}") from exc
        except OpenLFRError as exc:
            return EnrolResult(Outcome.REJECTED, RejectCode.INTERNAL_ERROR, f"[{exc.code}] {exc}")
        except Exception as exc:
            log.exception("unexpected failure enrolling %s", item.source)
            return EnrolResult(Outcome.REJECTED, RejectCode.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")


def write_rejects(path: Path, rejects: Iterable[Reject]) -> None:
    """The rejects report: where each rejected image came from and why — never any of its content."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open_private(path, "w", newline="", encoding="utf-8") as handle:
            writer = SafeWriter(handle)
            writer.writerow(REJECT_COLUMNS)
            for reject in rejects:
                writer.writerow([reject.source, reject.subject_ref, reject.code, reject.detail])
    except OSError as exc:
        raise StorageError(f"cannot write the rejects report {path}: {exc.strerror}") from exc
