"""Helpers shared by sub-commands: settings, the engine, JSON output, progress bars."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from tqdm import tqdm

from openlfr.config.loader import load_settings
from openlfr.config.models import Settings

if TYPE_CHECKING:
    from openlfr.eval.dataset import DatasetEmbeddings, LabelledImage

T = TypeVar("T")


def settings_from(args: argparse.Namespace) -> Settings:
    return load_settings(getattr(args, "config", None))


def print_json(payload: Any) -> None:
    json.dump(payload, sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")
    sys.stdout.flush()


def progress(items: Iterable[T], *, total: int | None, desc: str, enabled: bool | None = None) -> Iterator[T]:
    """A progress bar on stderr (stdout stays clean for JSON); hidden when stderr is not a terminal
    unless ``enabled`` forces it."""
    disable = None if enabled is None else not enabled
    yield from tqdm(items, total=total, desc=desc, unit="img", file=sys.stderr, disable=disable, leave=False)


def add_progress_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: only when stderr is a terminal)",
    )


def add_database_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="database URL, e.g. postgresql://user@host/db (default: $LFR_DATABASE_URL, else the embedded "
        "SQLite file <data_dir>/openlfr.db); the schema is created or migrated on first use",
    )


def settings_with_database(args: argparse.Namespace) -> Settings:
    """Settings with ``--db`` (when given) taking precedence over the config file and LFR_DATABASE_URL."""
    settings = settings_from(args)
    url = getattr(args, "db", None)
    return settings.model_copy(update={"database_url": url}) if url else settings


def iso_date(text: str) -> date:
    """argparse type for a YYYY-MM-DD date, with a readable error."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def embed_labelled_folder(args: argparse.Namespace) -> tuple[list[LabelledImage], DatasetEmbeddings]:
    """One embedding per image of ``args.dataset`` (DATASET/<identity>/<image>) with the configured engine: its
    largest face, or with ``--face centred`` the face nearest the centre."""
    from openlfr.engine import FaceEngine
    from openlfr.eval.dataset import embed_dataset, scan_dataset

    settings = settings_from(args)  # a bad config is reported before any work starts
    items = scan_dataset(args.dataset)
    engine = FaceEngine.from_settings(settings)
    data = embed_dataset(
        engine,
        items,
        progress=lambda it: progress(it, total=len(items), desc="embedding", enabled=args.progress),
        face=getattr(args, "face", "largest"),
    )
    return items, data


def add_face_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--face",
        choices=("largest", "centred"),
        default="largest",
        help="which face of an image is its subject: the largest (default) or the one nearest the centre "
        "(datasets cropped around their subject, such as LFW)",
    )
