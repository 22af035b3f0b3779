"""``lfr camera add|list|remove|zone``: the registered cameras a deployment can name (the same rules as
``/api/cameras``: names, sources, ``sources.allowed_hosts``; a camera named by a deployment that is not over
cannot be removed) and the zone each one looks at. Every change is in the audit chain (``camera.add``,
``camera.remove``, written by the registry, ``openlfr.service.registry``; ``camera.zone``, written by
``openlfr.service.zones.set_camera_zone``, the function ``PUT /api/cameras/{id}/zone`` calls)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from openlfr.commands.common import add_database_flag, print_json, settings_with_database

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from openlfr.auth.principal import Principal
    from openlfr.config.models import Settings
    from openlfr.store.camera_models import CameraRecord


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

    zone = sub.add_parser(
        "zone",
        help="show, set or clear the zone of a camera (the part of its view where recognition runs)",
        description="Without --set or --clear, show the camera's zone. Faces whose box centre lies outside the "
        "zone are neither tracked nor embedded. The zone cannot change while an authorised or live deployment "
        "names the camera.",
    )
    zone.add_argument("camera", metavar="CAMERA", help="the camera's id or name")
    change = zone.add_mutually_exclusive_group()
    change.add_argument(
        "--set",
        dest="points",
        metavar="POINTS",
        help="the polygon's corners in order, as fractions of the image (0,0 top left): 'x,y; x,y; x,y; ...' "
        "(at least three, inside [0, 1], edges that do not cross)",
    )
    change.add_argument("--clear", action="store_true", help="remove the zone: recognition on the whole view")
    _common(zone)
    zone.set_defaults(handler=run_zone)


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


def parse_points(text: str) -> list[list[float]]:
    """``'x,y; x,y; ...'`` (the console's typed form) as ``[[x, y], ...]``; ZoneError when a point is not two
    numbers (``Zone.parse`` then checks the polygon itself)."""
    from openlfr.zone import ZoneError

    points: list[list[float]] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        values = [v.strip() for v in part.split(",")]
        try:
            if len(values) != 2:
                raise ValueError(part)
            points.append([float(values[0]), float(values[1])])
        except ValueError:
            raise ZoneError(f"zone point {part!r} is not 'x,y' (two numbers between 0 and 1)") from None
    return points


def _find_camera(session: Session, camera: str) -> CameraRecord:
    """The camera with this id, else the one with this name (NotFoundError when neither)."""
    from openlfr.service.registry import list_cameras
    from openlfr.store.camera_models import CameraRecord
    from openlfr.store.errors import NotFoundError

    record = session.get(CameraRecord, camera)
    if record is not None:
        return record
    for found in list_cameras(session):
        if found.name == camera:
            return found
    raise NotFoundError(f"no camera with id or name {camera!r}")


def _zone_public(record: CameraRecord) -> dict[str, object]:
    from openlfr.store.camera_models import camera_zone

    zone = camera_zone(record)
    return {
        "id": record.id,
        "name": record.name,
        "zone": zone.as_lists() if zone is not None else None,
        "described": zone.describe() if zone is not None else "the whole view",
        "points": "; ".join(f"{x:g},{y:g}" for x, y in zone.points) if zone is not None else None,
    }


def run_zone(args: argparse.Namespace) -> int:
    from openlfr.service.zones import set_camera_zone
    from openlfr.store.context import open_store
    from openlfr.zone import Zone

    settings = settings_with_database(args)
    changing = args.points is not None or args.clear
    # Parsed before the database is opened: a typo is refused without touching anything.
    zone = Zone.parse(parse_points(args.points)) if args.points is not None else None
    with open_store(settings) as store, store.db.session() as session:
        record = _find_camera(session, args.camera)
        if changing:
            record = set_camera_zone(session, record.id, zone, by=_principal(args, settings, session))
        public = _zone_public(record)
    if args.json:
        print_json(public)
        return 0
    verb = ("zone set" if zone is not None else "zone cleared") if changing else "zone"
    print(f"camera {public['name']} {verb}: {public['described']}")
    if public["points"] is not None:
        print(f"  points: {public['points']}")
    return 0
