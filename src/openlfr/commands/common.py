"""Helpers shared by sub-commands: settings, the engine, JSON output, progress bars."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from tqdm import tqdm

from openlfr.config.loader import load_settings
from openlfr.config.models import Settings

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
