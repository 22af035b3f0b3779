"""``lfr calibration save|list``: threshold calibrations kept in the database (docs/GOVERNANCE.md).

``lfr calibration save CAL.json`` takes the output of ``lfr calibrate --json`` (optionally with an
``equity_range``) and keeps it: from then on it sets the threshold floor — and default — of every deployment of
its model, for the size of each deployment's watchlist. Saving is a supervisor's decision, made in person
(`lfr login`) and written to the audit chain.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from openlfr.commands.common import add_database_flag, print_json, require_principal, settings_with_database


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "calibration", help="saved threshold calibrations: the floor of deployment thresholds"
    )
    sub = parser.add_subparsers(dest="calibration_command", metavar="ACTION", required=True)

    save = sub.add_parser("save", help="keep an `lfr calibrate --json` result as its model's threshold floor")
    save.add_argument("file", type=Path, metavar="CAL.json")
    save.add_argument("--json", action="store_true", help="print the saved record as JSON")
    add_database_flag(save)
    save.set_defaults(handler=run_save)

    listing = sub.add_parser("list", help="saved calibrations, oldest first (the newest of a model applies)")
    listing.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_database_flag(listing)
    listing.set_defaults(handler=run_list)


def run_save(args: argparse.Namespace) -> int:
    from openlfr.auth.permissions import Permission
    from openlfr.deployments.calibrations import CalibrationError, calibration_dict, save_calibration
    from openlfr.store.context import open_store
    from openlfr.utc import utcnow

    try:
        report = json.loads(args.file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CalibrationError(f"cannot read {args.file}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise CalibrationError(f"{args.file} is not JSON: {exc}") from exc
    if not isinstance(report, dict):
        raise CalibrationError(f"{args.file}: expected the JSON object `lfr calibrate --json` prints")
    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        principal = require_principal(args, settings, session, Permission.DEPLOYMENTS_AUTHORISE)
        data = calibration_dict(save_calibration(session, report, by=principal, now=utcnow()))
    if args.json:
        print_json(data)
    else:
        print(
            f"saved calibration {data['id']} for {data['model']}: threshold {data['threshold']:.4f} for "
            f"{data['watchlist_size']} subjects (at most {data['false_alerts']:g} false alert(s) per "
            f"{data['passers_by']} passers-by); it now sets the threshold floor of new deployments",
            file=sys.stderr,
        )
    return 0


def run_list(args: argparse.Namespace) -> int:
    from openlfr.deployments.calibrations import calibration_dict, list_calibrations
    from openlfr.store.context import open_store

    with open_store(settings_with_database(args)) as store, store.db.session() as session:
        rows = [calibration_dict(r) for r in list_calibrations(session)]
    if args.json:
        print_json({"calibrations": rows})
        return 0
    for row in rows:
        equity = row["equity_range"]
        note = f"  equity range {equity['low']:.3f}–{equity['high']:.3f}" if equity else ""
        print(
            f"{row['id']}  {row['saved_at']}  {row['model']}  threshold {row['threshold']:.4f} for "
            f"{row['watchlist_size']} subjects  by {row['saved_by']}{note}"
        )
    return 0
