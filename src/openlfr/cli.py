"""The ``lfr`` command: one entry point, one sub-command module per area (see ``openlfr.commands``)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from openlfr import __version__
from openlfr.errors import OpenLFRError

# Each module exposes ``register(subparsers)``; the handler it sets returns the exit code.
COMMAND_MODULES = (
    "demo",
    "eval",
    "bench",
    "watchlist",
    "subject",
    "calibrate",
    "watch",
    "session",
    "user",
    "serve",
    "audit",
    "camera",
    "deployment",
    "calibration",
    "retention",
    "alert",
    "report",
    "cluster",
)

LOG_LEVELS = ("debug", "info", "warning", "error")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(
        prog="lfr",
        description="OpenLFR: live facial recognition with watchlist governance, privacy and audit.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--log-level", choices=LOG_LEVELS, default="warning", help="logging verbosity (stderr)")
    parser.add_argument("--config", type=Path, default=None, help="YAML settings file (default: $LFR_CONFIG)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"openlfr.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from openlfr.models.runtime import block_runtime_telemetry

    block_runtime_telemetry()  # before any command can import a runtime (docs/ENGINE.md, "Telemetry")
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(handler(args))
    except OpenLFRError as exc:
        print(f"lfr: error [{exc.code}]: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lfr: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`lfr ... | head`): not an error worth a traceback. Point stdout at devnull so
        # the interpreter's final flush does not raise again, and exit as a SIGPIPE'd process would.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
