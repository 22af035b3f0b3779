"""What a bulk import will enrol: read from a folder (FOLDER/<subject_ref>/<images>, optional
FOLDER/subjects.csv) or from a CSV file with one image per row. Bad rows become rejects, never errors;
only a file that cannot be read at all is an error."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date
from pathlib import Path

from openlfr.errors import DatasetError
from openlfr.watchlists.types import Category, Reject, RejectCode

SUBJECTS_CSV = "subjects.csv"
REF_COLUMNS = ("subject_ref", "external_ref")
IMAGE_COLUMNS = ("image_path", "image")
MAX_REF = 200


@dataclass(frozen=True, slots=True)
class SubjectFields:
    """Subject metadata given by an import file; None where the file says nothing."""

    display_name: str | None = None
    category: Category | None = None
    reason: str | None = None
    image_source: str | None = None
    image_source_note: str | None = None
    review_by: date | None = None
    date_of_birth: date | None = None
    under_18: bool | None = None
    minor_justification: str | None = None

    def filled_from(self, other: SubjectFields) -> SubjectFields:
        """These fields, with the gaps filled from ``other``."""
        gaps = {f.name: getattr(other, f.name) for f in fields(self) if getattr(self, f.name) is None}
        return replace(self, **gaps)


@dataclass(frozen=True, slots=True)
class ImportItem:
    source: str
    subject_ref: str
    path: Path


@dataclass(frozen=True, slots=True)
class Manifest:
    items: tuple[ImportItem, ...]
    subjects: Mapping[str, SubjectFields]
    problems: tuple[Reject, ...]


def parse_fields(row: Mapping[str, str | None]) -> SubjectFields:
    """Metadata columns of one CSV row; ValueError naming the bad column."""

    def text(name: str) -> str | None:
        value = (row.get(name) or "").strip()
        return value or None

    if text("added_by"):
        raise ValueError(
            "the added_by column is not accepted: subjects are added by whoever runs the import (lfr login)"
        )
    category = text("category")
    review_by = text("review_by")
    born = text("date_of_birth")
    flag = (text("under_18") or "").lower()
    if flag not in ("", "yes", "no", "true", "false", "1", "0"):
        raise ValueError(f"under_18 {flag!r} is not yes/no")
    try:
        parsed_born = date.fromisoformat(born) if born else None
    except ValueError:
        raise ValueError(f"date_of_birth {born!r} is not a date (YYYY-MM-DD)") from None
    try:
        parsed_category = Category(category) if category else None
    except ValueError:
        raise ValueError(f"unknown category {category!r} (one of: {', '.join(c.value for c in Category)})") from None
    try:
        parsed_review = date.fromisoformat(review_by) if review_by else None
    except ValueError:
        raise ValueError(f"review_by {review_by!r} is not a date (YYYY-MM-DD)") from None
    return SubjectFields(
        display_name=text("display_name"),
        category=parsed_category,
        reason=text("reason"),
        image_source=text("image_source"),
        image_source_note=text("image_source_note"),
        review_by=parsed_review,
        date_of_birth=parsed_born,
        under_18=flag in ("yes", "true", "1") if flag else None,
        minor_justification=text("minor_justification"),
    )


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str | None], list[str]]]:
    """(line number, row, header) for each data row; DatasetError when the file is unreadable as CSV."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip() for name in reader.fieldnames or []]
            reader.fieldnames = header
            for row in reader:
                yield reader.line_num, {k: v for k, v in row.items() if isinstance(k, str)}, header
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror})") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{path}: not a readable UTF-8 CSV file ({exc})") from exc


def _column(row: Mapping[str, str | None], names: tuple[str, ...]) -> str:
    for name in names:
        value = (row.get(name) or "").strip()
        if value:
            return value
    return ""


def _check_ref(ref: str) -> str | None:
    if not ref:
        return f"no {REF_COLUMNS[0]}"
    if len(ref) > MAX_REF:
        return f"{REF_COLUMNS[0]} longer than {MAX_REF} characters"
    return None


def _merge(subjects: dict[str, SubjectFields], ref: str, given: SubjectFields) -> None:
    # The first row that gives a value wins; later rows only fill gaps.
    subjects[ref] = subjects[ref].filled_from(given) if ref in subjects else given


def read_subjects_csv(path: Path) -> tuple[dict[str, SubjectFields], list[Reject]]:
    subjects: dict[str, SubjectFields] = {}
    problems: list[Reject] = []
    for line, row, header in _rows(path):
        if not set(REF_COLUMNS) & set(header):
            raise DatasetError(f"{path}: needs a {REF_COLUMNS[0]} column (has: {', '.join(header) or 'none'})")
        source = f"{path.name}:{line}"
        ref = _column(row, REF_COLUMNS)
        try:
            if (error := _check_ref(ref)) is not None:
                raise ValueError(error)
            _merge(subjects, ref, parse_fields(row))
        except ValueError as exc:
            problems.append(Reject(source, ref, RejectCode.INVALID_ROW, str(exc)))
    return subjects, problems


def scan_folder(folder: Path) -> Manifest:
    """FOLDER/<subject_ref>/<image files>, plus FOLDER/subjects.csv when present."""
    if not folder.is_dir():
        raise DatasetError(f"{folder}: not a folder (expected FOLDER/<subject_ref>/<images>)")
    subjects: dict[str, SubjectFields] = {}
    problems: list[Reject] = []
    if (folder / SUBJECTS_CSV).is_file():
        subjects, problems = read_subjects_csv(folder / SUBJECTS_CSV)
    items: list[ImportItem] = []
    for subject_dir in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if (error := _check_ref(subject_dir.name)) is not None:
            problems.append(Reject(str(subject_dir), subject_dir.name, RejectCode.INVALID_ROW, error))
            continue
        for image in sorted(p for p in subject_dir.iterdir() if not p.name.startswith(".") and not p.is_dir()):
            items.append(ImportItem(str(image), subject_dir.name, image))
    return Manifest(tuple(items), subjects, tuple(problems))


def scan_csv(path: Path) -> Manifest:
    """One row per image: subject_ref, image_path (relative to the CSV's folder) and optional metadata."""
    subjects: dict[str, SubjectFields] = {}
    problems: list[Reject] = []
    items: list[ImportItem] = []
    for line, row, header in _rows(path):
        if not set(REF_COLUMNS) & set(header) or not set(IMAGE_COLUMNS) & set(header):
            raise DatasetError(
                f"{path}: needs {REF_COLUMNS[0]} and {IMAGE_COLUMNS[0]} columns (has: {', '.join(header) or 'none'})"
            )
        source = f"{path.name}:{line}"
        ref, image = _column(row, REF_COLUMNS), _column(row, IMAGE_COLUMNS)
        try:
            if (error := _check_ref(ref)) is not None:
                raise ValueError(error)
            if not image:
                raise ValueError(f"no {IMAGE_COLUMNS[0]}")
            given = parse_fields(row)
        except ValueError as exc:
            problems.append(Reject(source, ref, RejectCode.INVALID_ROW, str(exc)))
            continue
        _merge(subjects, ref, given)
        image_path = Path(image) if Path(image).is_absolute() else path.parent / image
        items.append(ImportItem(f"{source} {image}", ref, image_path))
    return Manifest(tuple(items), subjects, tuple(problems))
