"""``lfr demo --serve``: ``lfr serve`` with a ready demo, in a data folder of its own (default ``.demo/``).

Every run wipes that folder (only one this command made: it carries a marker file) and builds, with the same
domain functions as the ``lfr`` commands and each step done by a real account (the principal the rules check
and the audit chain names):

- an account for every role, each with a fresh random password: ``demo-admin`` and ``demo-supervisor``, the
  first of their roles in the empty database (bootstrap, as ``lfr user create`` does on a new system),
  ``demo-operator``, created by ``demo-supervisor``, and ``demo-auditor``, created by ``demo-admin`` (each side
  manages its own accounts). Every password is printed once, on stdout, when the server is up;
- current competence records (``governance.require_competence`` holds as in production): demo-supervisor
  records demo-operator's; a training lead, ``demo-trainer`` (a supervisor, disabled afterwards), records
  demo-supervisor's, since nobody records their own;
- ``demo-supervisor`` imports the watchlist ``demo`` from the sample data (``video/hamilton_refs``, the
  performer in the clip, and, when present, ``faces/knn``) and snapshots it; ``demo-admin`` registers a camera
  that plays ``video/hamilton_short.mp4`` in a loop;
- ``demo-operator`` plans a deployment of that snapshot on that camera (the threshold calibrated for the
  watchlist's size, an 8-hour window from now), ``demo-supervisor`` authorises it — separation of duties holds:
  the creator is not the authoriser — and ``demo-operator`` puts it live;

then runs the service exactly as ``lfr serve`` does (same steps, same defaults: 127.0.0.1:8000 unless
``--port`` or the settings say otherwise). Nothing here changes what ``lfr serve`` does with its own data:
there are still no default accounts, no default passwords and no way around the login.
"""

from __future__ import annotations

import argparse
import errno
import shutil
import socket
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from openlfr.errors import OpenLFRError

if TYPE_CHECKING:
    from argon2 import PasswordHasher
    from sqlalchemy.orm import Session

    from openlfr.auth.principal import Principal
    from openlfr.config.models import Settings
    from openlfr.engine import FaceEngine
    from openlfr.store.auth_models import User
    from openlfr.store.context import Store

DEFAULT_DATA_DIR = Path(".demo")
MARKER = ".openlfr-demo"
ADMIN = "demo-admin"
OPERATOR = "demo-operator"
SUPERVISOR = "demo-supervisor"
TRAINER = "demo-trainer"
TRAINING_VALID = timedelta(days=365)
AUDITOR = "demo-auditor"
WATCHLIST = "demo"
CAMERA = "hamilton-stage"
REFERENCES = Path("video") / "hamilton_refs"
PERFORMER = "lin_manuel_miranda"  # the one folder of REFERENCES: the person on stage in VIDEO
EXTRA_REFERENCES = Path("faces") / "knn"
VIDEO = Path("video") / "hamilton_short.mp4"
WINDOW = timedelta(hours=8)
PASSWORD_BYTES = 18  # 24 URL-safe characters (the rules want at least 12)


class DemoError(OpenLFRError):
    code = "demo_failed"


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    role: str
    password: str = field(repr=False)
    duty: str


@dataclass(frozen=True, slots=True)
class DemoState:
    """What ``prepare_demo`` built; ``accounts`` are the ones to print (one per role)."""

    data_dir: Path
    accounts: tuple[DemoAccount, ...]
    watchlist: str
    subjects: tuple[str, ...]
    rejected: int
    camera_id: str
    deployment_id: str
    threshold: float
    planned_end: datetime


def reset_data_dir(path: Path) -> Path:
    """Empty ``path`` for a new demo: only a folder this command made (it holds MARKER) is deleted; an empty
    or absent folder is (re)created; anything else is refused, so a real data folder is never touched."""
    path = path.expanduser()
    if path.is_symlink():
        raise DemoError(f"{path} is a symbolic link: give the demo a plain folder of its own (--data-dir)")
    if path.exists():
        if not path.is_dir():
            raise DemoError(f"{path} is not a folder")
        if (path / MARKER).is_file():
            shutil.rmtree(path)
        elif any(path.iterdir()):
            raise DemoError(
                f"{path} is not empty and was not made by `lfr demo --serve` (no {MARKER} in it): refusing to "
                "reset it; choose another --data-dir"
            )
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    (path / MARKER).write_text(
        "Made by `lfr demo --serve`, which deletes and rebuilds this folder on every run.\n", encoding="utf-8"
    )
    return path.resolve()


def check_port_free(host: str, port: int) -> None:
    """Fail before the demo folder is reset when the port is taken (often: a demo that is still running)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DemoError(f"cannot resolve the listen address {host!r}: {exc}") from exc
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise DemoError(
                    f"{host}:{port} is in use (is a demo or `lfr serve` still running?): stop it or pass --port"
                ) from exc
            raise DemoError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc


def _password() -> str:
    import secrets

    return secrets.token_urlsafe(PASSWORD_BYTES)


def _log(message: str) -> None:
    print(f"demo: {message}", file=sys.stderr)


def prepare_demo(
    settings: Settings,
    data: Path,
    *,
    engine: FaceEngine | None = None,
    log: Callable[[str], None] = _log,
) -> DemoState:
    """Reset ``settings.data_dir`` (see ``reset_data_dir``) and build the demo in it from the sample data in
    ``data``. ``settings`` must use the embedded database of that folder (``database_url`` None)."""
    from openlfr.engine import FaceEngine
    from openlfr.store.context import open_store
    from openlfr.utc import utcnow

    if settings.database_url:
        raise DemoError("the demo keeps its own embedded database in its data folder: database_url must be unset")
    video = data / VIDEO
    folders = [data / REFERENCES] + ([data / EXTRA_REFERENCES] if (data / EXTRA_REFERENCES).is_dir() else [])
    if not video.is_file() or not folders[0].is_dir():
        raise DemoError(f"{data}: expected {VIDEO} and {REFERENCES}/ (the shared sample data; see --data)")
    data_dir = reset_data_dir(settings.data_dir)
    settings = settings.model_copy(update={"data_dir": data_dir})
    now = utcnow()
    log(f"building the demo in {data_dir} (reset on every run)")
    if engine is None:
        engine = FaceEngine.from_settings(settings)
    accounts = (
        DemoAccount(OPERATOR, "operator", _password(), "watches and adjudicates alerts"),
        DemoAccount(SUPERVISOR, "supervisor", _password(), "watchlists, authorising deployments, escalations"),
        DemoAccount(AUDITOR, "auditor", _password(), "reads records, alerts, audit and metrics; changes nothing"),
        DemoAccount(ADMIN, "admin", _password(), "accounts, tokens, cameras, metrics (does not adjudicate)"),
    )
    with open_store(settings) as store:
        with store.db.session() as session:
            people = _create_accounts(session, accounts)
        refs, rejected, snapshot_id = _enrol(store, engine, settings, data, folders, people.supervisor, now, log)
        with store.db.session() as session:
            camera_id = _add_camera(session, settings, video, people.admin)
        deployment_id, threshold, planned_end = _deploy(store, settings, camera_id, snapshot_id, people, now)
    log(
        f"deployment {deployment_id} authorised by {SUPERVISOR} and live until {planned_end:%Y-%m-%d %H:%M} UTC "
        f"(threshold {threshold:.3f}); camera {CAMERA} plays {VIDEO} in a loop"
    )
    return DemoState(
        data_dir=data_dir,
        accounts=accounts,
        watchlist=WATCHLIST,
        subjects=refs,
        rejected=rejected,
        camera_id=camera_id,
        deployment_id=deployment_id,
        threshold=threshold,
        planned_end=planned_end,
    )


@dataclass(frozen=True, slots=True)
class DemoPeople:
    """The principals the demo acts as (each step is done by the account whose role it is)."""

    admin: Principal
    supervisor: Principal
    operator: Principal


def _create_accounts(session: Session, accounts: Iterable[DemoAccount]) -> DemoPeople:
    """demo-admin and demo-supervisor by bootstrap (the database is empty), demo-operator by demo-supervisor,
    demo-auditor by demo-admin."""
    from openlfr.auth.passwords import default_hasher
    from openlfr.auth.users import bootstrap_user, create_user, user_principal
    from openlfr.commands.session import os_user

    hasher = default_hasher()  # the production parameters, as `lfr user create`
    given = {account.username: account for account in accounts}
    admin = given[ADMIN]
    admin_user = bootstrap_user(session, hasher, admin.username, admin.password, admin.role, os_user=os_user())
    chief = given[SUPERVISOR]
    supervisor_user = bootstrap_user(session, hasher, chief.username, chief.password, chief.role, os_user=os_user())
    supervisor = user_principal(supervisor_user)
    operator = given[OPERATOR]
    operator_user = create_user(session, hasher, operator.username, operator.password, operator.role, by=supervisor)
    # Admins manage admin and auditor accounts: the auditor is demo-admin's.
    auditor = given[AUDITOR]
    create_user(session, hasher, auditor.username, auditor.password, auditor.role, by=user_principal(admin_user))
    _record_training(session, hasher, supervisor_user, operator_user)
    return DemoPeople(user_principal(admin_user), supervisor, user_principal(operator_user))


def _record_training(session: Session, hasher: PasswordHasher, supervisor_user: User, operator_user: User) -> None:
    """Competence records, so that the demo's officers may adjudicate and authorise (governance.require_competence
    holds as in production): demo-supervisor records demo-operator's; nobody records their own, so a training
    lead, ``demo-trainer`` (created by demo-supervisor, password never shown), records demo-supervisor's and
    is then disabled."""
    from openlfr.auth.competence import Competence, record_competence
    from openlfr.auth.users import create_user, set_disabled, user_principal
    from openlfr.utc import utcnow

    now = utcnow()
    supervisor = user_principal(supervisor_user)
    trainer_user = create_user(session, hasher, TRAINER, _password(), "supervisor", by=supervisor)
    trainer = user_principal(trainer_user)
    passed, expires = now.date(), now.date() + TRAINING_VALID
    course = "demo: recorded by `lfr demo --serve`, no course was taken"
    trained = (
        (supervisor_user, Competence.SUPERVISOR, trainer),
        (supervisor_user, Competence.OPERATOR, trainer),  # supervisors decide escalated alerts
        (operator_user, Competence.OPERATOR, supervisor),
    )
    for user, competence, by in trained:
        record_competence(
            session, user, competence=competence, course=course, passed_on=passed, expires_on=expires, by=by, now=now
        )
    set_disabled(session, trainer_user, True, by=supervisor, now=now)


def _enrol(
    store: Store,
    engine: FaceEngine,
    settings: Settings,
    data: Path,
    folders: list[Path],
    by: Principal,
    now: datetime,
    log: Callable[[str], None],
) -> tuple[tuple[str, ...], int, str]:
    """Import FOLDER/<person>/<images> of each folder into WATCHLIST, then snapshot it: (people, rejected
    images, snapshot id)."""
    from openlfr.watchlists.enrol import Enroller
    from openlfr.watchlists.importer import Importer, SubjectDefaults
    from openlfr.watchlists.manifest import Manifest, SubjectFields, scan_folder
    from openlfr.watchlists.snapshots import create_snapshot
    from openlfr.watchlists.types import Category

    manifests = [scan_folder(folder) for folder in folders]
    items = tuple(item for manifest in manifests for item in manifest.items)
    refs = tuple(sorted({item.subject_ref for item in items}))
    manifest = Manifest(
        items=items,
        # Names for the console; the folders are named after the people (lin_manuel_miranda → Lin Manuel Miranda).
        subjects={ref: SubjectFields(display_name=ref.replace("_", " ").title()) for ref in refs},
        problems=tuple(p for m in manifests for p in m.problems),
    )
    defaults = SubjectDefaults(
        by=by,
        review_by=now.date() + timedelta(days=settings.watchlist.review_after_days),
        category=Category.WITNESS,
        reason="OpenLFR demo: a public figure in the shared sample data, not a real watchlist entry",
        image_source="other",
        image_source_note=f"shared sample data ({', '.join(str(f.relative_to(data)) for f in folders)})",
    )
    log(f"enrolling {len(items)} reference images of {len(refs)} people into watchlist {WATCHLIST!r}")
    summary = Importer(Enroller(store, engine, settings.watchlist.duplicate_threshold), defaults).run(
        WATCHLIST, manifest
    )
    rejected = sum(summary.rejected.values())
    for reject in summary.rejects:
        log(f"  not enrolled: {reject.source} ({reject.code}: {reject.detail})")
    with store.db.session() as session:
        snapshot = create_snapshot(session, WATCHLIST, engine.contract, now.date(), by=by)
    if snapshot.templates == 0:
        raise DemoError("no reference image could be enrolled: the demo has no watchlist to search")
    return refs, rejected, snapshot.id


def _add_camera(session: Session, settings: Settings, video: Path, by: Principal) -> str:
    from openlfr.service.registry import add_camera

    camera = add_camera(
        session,
        name=CAMERA,
        source=str(video.resolve()),
        by=by,
        location=f"sample video {VIDEO}, played in a loop",
        loop=True,
        allowed_hosts=settings.sources.allowed_hosts,
    )
    return camera.id


def _deploy(
    store: Store, settings: Settings, camera_id: str, snapshot_id: str, people: DemoPeople, now: datetime
) -> tuple[str, float, datetime]:
    """The operator plans the deployment, the supervisor authorises it, the operator records the demo's
    "signs" and puts it live: (id, threshold, planned end)."""
    from openlfr.deployments.notice import record_placement
    from openlfr.deployments.service import authorise_deployment, create_deployment, start_deployment
    from openlfr.deployments.types import DeploymentPlan

    plan = DeploymentPlan(
        name="OpenLFR demo: Hamilton clip",
        use_case="demonstration",
        purpose="show OpenLFR end to end on the shared sample data: live alerts for a person to review",
        legal_basis="none needed: a local demonstration on public sample data, not an operational deployment",
        justification="started by `lfr demo --serve`; the only camera plays a sample video file, no member of "
        "the public is filmed",
        location="this computer (sample video)",
        planned_start=now - timedelta(minutes=1),
        planned_end=now + WINDOW,
        camera_ids=(camera_id,),
        snapshot=snapshot_id,
        threshold=None,  # calibrated for the watchlist's size, as for any deployment
        # No camera films a public place; the rules want the box ticked before authorisation.
        signage_confirmed=True,
    )
    with store.db.session() as session:
        deployment = create_deployment(session, plan, by=people.operator, config=settings.governance, now=now)
        deployment_id, threshold = deployment.id, deployment.threshold
    with store.db.session() as session:
        authorise_deployment(
            session,
            deployment_id,
            by=people.supervisor,
            text="Demo: sample video only, for the length of the demo (`lfr demo --serve`).",
            config=settings.governance,
            now=now,
        )
    with store.db.session() as session:
        # Recognition starts only once signs are recorded as up; here the "sign" is the demo's own notice.
        record_placement(
            session,
            deployment_id,
            location="no public place is filmed: the demo's camera plays a sample video on this computer",
            by=people.operator,
            now=now,
        )
        start_deployment(session, deployment_id, by=people.operator, now=now)
    return deployment_id, threshold, plan.planned_end


def credentials_text(state: DemoState, url: str) -> str:
    lines = [
        "",
        f"OpenLFR demo: open {url} and sign in as",
        *(f"  {a.role:<9} {a.username:<14} password: {a.password}   {a.duty}" for a in state.accounts),
        "These passwords are shown once, here; the server keeps only argon2id hashes (to replace one, sign in",
        f"as that account: `lfr login --db sqlite:///{state.data_dir / 'openlfr.db'}`, then `lfr user set-password`).",
        f"Watchlist {state.watchlist!r}: {len(state.subjects)} people of the sample data. Camera {CAMERA} plays "
        f"{VIDEO} in a loop",
        f"for deployment {state.deployment_id}, live until {state.planned_end:%Y-%m-%d %H:%M} UTC: the performer, "
        f"{PERFORMER}, raises an alert",
        f"within seconds. Ctrl-C stops the demo; the next `lfr demo --serve` deletes {state.data_dir} and starts "
        "afresh.",
        "",
    ]
    return "\n".join(lines)


def demo_settings(args: argparse.Namespace) -> Settings:
    """The configured settings, moved to the demo's own folder and embedded database (``--data-dir``), with
    ``--port`` applied; everything else (host, session rules, models…) as ``lfr serve`` would have it."""
    from openlfr.commands.common import settings_from

    settings = settings_from(args)
    update: dict[str, object] = {"data_dir": args.data_dir or DEFAULT_DATA_DIR, "database_url": None}
    if args.port is not None:
        update["api"] = settings.api.model_copy(update={"port": args.port})
    return settings.model_copy(update=update)


def run_demo_serve(args: argparse.Namespace) -> int:
    from openlfr.commands.serve import serve

    settings = demo_settings(args)
    check_port_free(settings.api.host, settings.api.port)
    state = prepare_demo(settings, args.data)
    settings = settings.model_copy(update={"data_dir": state.data_dir})

    def announce(running: Settings) -> None:
        # Once the server answers: the passwords are of no use before, and are never printed again.
        print(credentials_text(state, f"http://{running.api.host}:{running.api.port}/"), flush=True)

    return serve(settings, on_started=announce)
