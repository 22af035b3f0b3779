"""``lfr camera add|list|remove``: the registered cameras a deployment can name (the same rules as
``/api/cameras``: names, sources, ``sources.allowed_hosts``; a camera named by a deployment that is not over
cannot be removed). Every change is in the audit chain (``camera.add``, ``camera.remove``), written by the
registry (``openlfr.service.registry``)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from openlfr.commands.common import add_database_flag, print_json, settings_with_database

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from openlfr.auth.principal import Principal
    from openlfr.config.models import Settings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("camera", help="cameras: register the cameras deployments may name")
    sub = parser.add_subparsers(dest="camera_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="register a camera (rtsp://…, http(s)://…, webcam:N, or a video file)")
    add.add_argument("name", metavar="NAME", help="1-64 letters, digits, '_', '.' or '-' (the alerts' source)")
    add.add_argument("source", metavar="SOURCE", help="what to open; a URL may hold credentials (never shown)")
    add.add_argument("--location", default="", help="where it is")
    add.add_argument("--loop", action="store_true", help="play a video file in a loop (demonstrations)")
    _common(add)
    add.set_defaults(handler=run_add)

    listing = sub.add_parser("list", help="the registered cameras (sources shown without credentials)")
    _common(listing)
    listing.set_defaults(handler=run_list)

    remove = sub.add_parser("remove", help="remove a camera no deployment that is not over names")
    remove.add_argument("id", metavar="ID")
    _common(remove)
    remove.set_defaults(handler=run_remove)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    add_database_flag(parser)


def _principal(args: argparse.Namespace, settings: Settings, session: Session) -> Principal:
    """Who changes the camera registry: the signed-in principal (the registry checks it may manage cameras and
    writes it into the audit chain)."""
    from openlfr.auth.permissions import Permission
    from openlfr.commands.common import require_principal

    return require_principal(args, settings, session, Permission.CAMERAS_MANAGE)


def _public(record: Any) -> dict[str, object]:
    from openlfr.service.registry import redacted_target

    return {
        "id": record.id,
        "name": record.name,
        "target": redacted_target(record.source),
        "location": record.location,
        "loop": record.loop,
    }


def run_add(args: argparse.Namespace) -> int:
    from openlfr.service.registry import add_camera
    from openlfr.store.context import open_store

    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        record = add_camera(
            session,
            name=args.name,
            source=args.source,
            by=_principal(args, settings, session),
            location=args.location,
            loop=args.loop,
            allowed_hosts=settings.sources.allowed_hosts,
        )
        public = _public(record)
    if args.json:
        print_json(public)
    else:
        print(f"camera {public['name']} registered: id {public['id']} ({public['target']})")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from openlfr.service.registry import list_cameras
    from openlfr.store.context import open_store

    with open_store(settings_with_database(args)) as store, store.db.session() as session:
        cameras = [_public(r) for r in list_cameras(session)]
    if args.json:
        print_json({"cameras": cameras})
    else:
        for camera in cameras:
            print(f"{camera['id']}  {camera['name']:<20} {camera['target']}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from openlfr.service.registry import remove_camera
    from openlfr.store.context import open_store

    settings = settings_with_database(args)
    with open_store(settings) as store, store.db.session() as session:
        record = remove_camera(session, args.id, by=_principal(args, settings, session))
    if args.json:
        print_json({"removed": args.id})
    else:
        print(f"camera {record.name} removed")
    return 0
