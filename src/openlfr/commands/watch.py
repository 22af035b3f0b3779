"""``lfr watch``: the evaluation tool — the live pipeline over recorded video files or image folders against a
watchlist (a folder enrolled in memory, or a watchlist of the database) — and the way to join a live,
authorised deployment from the command line (``--deployment ID``).

Live sources (camera streams, webcams) run only inside a deployment: ``--source`` refuses them (the sources
layer does, whoever calls it). Every run is in the audit chain (``recognition.run_start`` /
``recognition.run_end``: who, the sources, the watchlist fingerprint, the threshold, the counts). Alerts go
where retention and subject access see them: the alert table and media store of the data folder
(``"mode": "evaluation"``, or ``"production"`` with the deployment id), then one JSON line each on stdout or
``--jsonl`` (a 0600 file).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from openlfr.commands.common import add_database_flag, settings_with_database
from openlfr.errors import OpenLFRError

if TYPE_CHECKING:
    from openlfr.alerts.sinks import AlertSink
    from openlfr.config.models import Settings
    from openlfr.engine import FaceEngine
    from openlfr.pipeline.app import RunSummary, WatchPipeline
    from openlfr.pipeline.config import PipelineConfig
    from openlfr.pipeline.gallery import WatchlistSnapshot
    from openlfr.sources.base import FrameSource
    from openlfr.sources.mandate import RecognitionMandate
    from openlfr.store.context import Store

EXIT_USAGE = 2


class WatchUsageError(OpenLFRError):
    code = "watch_arguments"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "watch",
        help="run recognition on recorded video against a watchlist (evaluation), or join a live deployment",
        description="Prints one JSON line per alert (stdout or --jsonl) and a summary JSON object on stderr. "
        "Alerts are stored in the database and media store of the data folder (retention and subject access "
        "cover them); every run is recorded in the audit chain.",
    )
    parser.add_argument(
        "--watchlist",
        default=None,
        metavar="WL",
        help="a folder WL/<subject_id>/<images> (enrolled in memory), else the name of a watchlist in the database",
    )
    parser.add_argument(
        "--source",
        action="append",
        default=None,
        metavar="SRC",
        help="a video file or an image folder (repeat for several); live cameras run only inside a deployment",
    )
    parser.add_argument(
        "--deployment",
        default=None,
        metavar="ID",
        help="join this live, authorised deployment: its registered cameras, snapshot and threshold "
        "(--watchlist, --source and --threshold are refused with it)",
    )
    parser.add_argument(
        "--threshold", type=float, default=None, help="alert threshold (default: the model's calibrated one)"
    )
    parser.add_argument("--jsonl", type=Path, default=None, metavar="FILE", help="append alerts here, not stdout")
    parser.add_argument("--realtime", action="store_true", help="play files at their own speed (as a camera would)")
    add_database_flag(parser)
    parser.set_defaults(handler=run_watch)


def _run_actor(args: argparse.Namespace, store: Store, *, production: bool) -> str:
    """Who runs this recognition run, as the audit chain records it (the one place that says so).

    Joining a live deployment is a governed action: it needs a signed-in person or token (`lfr login`,
    ``LFR_TOKEN``) allowed to run deployments. An evaluation run on recordings is recorded as the signed-in
    principal when there is one, else as the operating-system account that ran it (``cli:<user>``)."""
    from openlfr.auth.permissions import Permission
    from openlfr.commands.common import cli_principal, require_principal

    settings = settings_with_database(args)
    with store.db.session() as session:
        if production:
            return require_principal(args, settings, session, Permission.DEPLOYMENTS_MANAGE).actor
        principal = cli_principal(settings, session)
    if principal is not None:
        return principal.actor
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli:unknown"


@dataclass(frozen=True, slots=True)
class _Gallery:
    snapshot: WatchlistSnapshot
    facts: dict[str, object]
    """what the audit chain records about the watchlist (kind, name, fingerprint, sizes)"""
    stored_subjects: bool
    """subject ids are subjects of this database (an alert about an erased one is refused)"""


def run_watch(args: argparse.Namespace) -> int:
    try:
        _check_arguments(args)
    except WatchUsageError as exc:
        print(f"lfr watch: error [{exc.code}]: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from openlfr.engine import FaceEngine
    from openlfr.pipeline.app import pipeline_settings
    from openlfr.store.context import open_store

    settings = pipeline_settings(settings_with_database(args))
    engine = FaceEngine.from_settings(settings)
    with open_store(settings) as store:
        if args.deployment is not None:
            return _join_deployment(args, settings, engine, store)
        return _evaluate(args, settings, engine, store)


def _check_arguments(args: argparse.Namespace) -> None:
    if args.deployment is not None:
        given = [f"--{name}" for name in ("watchlist", "source", "threshold") if getattr(args, name) is not None]
        if given:
            raise WatchUsageError(
                f"{', '.join(given)} cannot be given with --deployment: a deployment runs its own registered "
                "cameras, watchlist snapshot and threshold"
            )
        return
    missing = [f"--{name}" for name in ("watchlist", "source") if not getattr(args, name)]
    if missing:
        raise WatchUsageError(f"{' and '.join(missing)} needed (or --deployment ID to join a live deployment)")


def _pipeline_config(settings: Settings, threshold: float | None) -> PipelineConfig:
    """The configuration's ``pipeline`` section; a threshold given here (the flag, a deployment's) wins."""
    if threshold is None:
        return settings.pipeline
    return settings.pipeline.model_copy(update={"threshold": threshold})


def _evaluate(args: argparse.Namespace, settings: Settings, engine: FaceEngine, store: Store) -> int:
    from openlfr.alerts.db_store import DbAlertStore
    from openlfr.alerts.dispatch import AlertDispatcher
    from openlfr.errors import SourceError
    from openlfr.pipeline.app import WatchPipeline
    from openlfr.utc import utcnow

    gallery = _evaluation_gallery(args.watchlist, engine, store, utcnow().date())
    sources, failed = _open_sources(args.source, realtime=args.realtime, settings=settings)
    if not sources:
        raise SourceError("no source could be opened: " + "; ".join(f"{f['source']}: {f['error']}" for f in failed))
    try:
        alert_store = DbAlertStore(store.db, store.media, check_subjects=gallery.stored_subjects)
        pipeline = WatchPipeline(
            engine,
            gallery.snapshot,
            sources,
            AlertDispatcher(alert_store, _sinks(args)),
            _pipeline_config(settings, args.threshold),
            mode="evaluation",
            # --realtime plays files as cameras: frames the models cannot keep up with are dropped and counted.
            drop_when_behind=args.realtime or None,
        )
    except BaseException:
        for source in sources:
            source.close()
        raise
    actor = _run_actor(args, store, production=False)
    record = _RunRecord(store, actor, "evaluation", target=("recognition_run", None))
    record.start(pipeline, sources, gallery.facts, failed)
    summary = _run_until_signal(pipeline, record)
    failed += [{"source": c.source_id, "error": c.error} for c in pipeline.status().cameras if c.error]
    return _finish(summary, pipeline, record, gallery.facts, [s.source_id for s in sources], failed)


def _join_deployment(args: argparse.Namespace, settings: Settings, engine: FaceEngine, store: Store) -> int:
    from openlfr.alerts.db_store import DbAlertStore
    from openlfr.alerts.dispatch import AlertDispatcher
    from openlfr.deployments.mandate import issue_mandate
    from openlfr.pipeline.app import WatchPipeline
    from openlfr.service.supervisor import load_snapshot
    from openlfr.sources.factory import open_source
    from openlfr.utc import utcnow
    from openlfr.watchlists.erase import on_erasure

    with store.db.session() as session:
        mandate = issue_mandate(session, args.deployment, now=utcnow())
        snapshot = load_snapshot(session, mandate.snapshot_id)
    sources: list[FrameSource] = []
    try:
        for grant in mandate.cameras:
            sources.append(
                open_source(
                    grant.source,
                    source_id=grant.name,
                    realtime=True,
                    loop=grant.loop,
                    config=settings.sources,
                    mandate=mandate,
                )
            )
        alert_store = DbAlertStore(store.db, store.media, deployment_id=mandate.deployment_id, check_subjects=True)
        pipeline = WatchPipeline(
            engine,
            snapshot,
            sources,
            AlertDispatcher(alert_store, _sinks(args)),
            _pipeline_config(settings, mandate.threshold),
            mode="production",
            mandate=mandate,
        )
    except BaseException:
        for source in sources:
            source.close()
        raise
    facts: dict[str, object] = {
        "kind": "snapshot",
        "snapshot_id": mandate.snapshot_id,
        "fingerprint": mandate.snapshot_fingerprint,
        "templates": len(snapshot.templates),
        "subjects": snapshot.subjects,
    }
    record = _RunRecord(
        store, _run_actor(args, store, production=True), "production", target=("deployment", mandate.deployment_id)
    )
    names = [grant.name for grant in mandate.cameras]
    record.start(pipeline, sources, facts, [])
    stop_listening = on_erasure(pipeline.forget_subject)
    guard = _DeploymentGuard(store, mandate, pipeline, settings.governance.scheduler_interval_s)
    guard.start()
    try:
        summary = _run_until_signal(pipeline, record, extra_stop=guard.revoked)
    finally:
        guard.stop()
        stop_listening()
    failed = [{"source": c.source_id, "error": c.error} for c in pipeline.status().cameras if c.error]
    if guard.reason is not None:
        print(f"lfr watch: recognition stopped: {guard.reason}", file=sys.stderr)
    return _finish(summary, pipeline, record, facts, names, failed, revoked=guard.reason)


class _DeploymentGuard:
    """While ``lfr watch --deployment`` runs: every ``interval_s`` the deployment must still be live,
    authorised and inside its window (else recognition stops, with the reason), and erasures made by another
    process are applied to the pipeline's gallery."""

    def __init__(self, store: Store, mandate: RecognitionMandate, pipeline: WatchPipeline, interval_s: float) -> None:
        self.store = store
        self.mandate = mandate
        self.pipeline = pipeline
        self.interval_s = interval_s
        self.revoked = threading.Event()
        self.reason: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="deployment-guard", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.check()

    def check(self) -> None:
        from sqlalchemy import select

        from openlfr.deployments.mandate import issue_mandate
        from openlfr.store.models import SnapshotTemplate
        from openlfr.utc import utcnow

        try:
            with self.store.db.session() as session:
                current = issue_mandate(session, self.mandate.deployment_id, now=utcnow())
                present = set(
                    session.scalars(
                        select(SnapshotTemplate.subject_id).where(
                            SnapshotTemplate.snapshot_id == self.mandate.snapshot_id
                        )
                    )
                )
        except OpenLFRError as exc:
            self.reason = str(exc)
            self.revoked.set()
            return
        if current.revision != self.mandate.revision:
            self.reason = f"deployment {self.mandate.deployment_id} changed (revision {current.revision})"
            self.revoked.set()
            return
        for subject_id in sorted(self.pipeline.searched_subjects() - present):
            self.pipeline.forget_subject(subject_id)  # erased by another process


class _RunRecord:
    """The run's two audit entries, written in their own transactions."""

    def __init__(self, store: Store, actor: str, mode: str, *, target: tuple[str, str | None]) -> None:
        from openlfr.store.models import new_id

        self.store = store
        self.actor = actor
        self.mode = mode
        self.run_id = new_id()
        self.target_type, target_id = target
        self.target_id = target_id or self.run_id

    def _audit(self, action: str, details: dict[str, object]) -> None:
        from openlfr.audit import append_audit

        with self.store.db.session() as session:
            append_audit(
                session,
                actor=self.actor,
                action=action,
                target_type=self.target_type,
                target_id=self.target_id,
                details={"run_id": self.run_id, "mode": self.mode, **details},
            )

    def start(
        self,
        pipeline: WatchPipeline,
        sources: list[FrameSource],
        watchlist: dict[str, object],
        failed: list[dict[str, str]],
    ) -> None:
        from openlfr.sources.redact import redact

        self._audit(
            "recognition.run_start",
            {
                "source_ids": [s.source_id for s in sources],
                "sources": [s.health().target for s in sources],  # paths, or URLs without credentials
                "failed_sources": [redact(f["source"]) for f in failed],
                "watchlist": watchlist,
                "threshold": pipeline.threshold,
                "model": pipeline.runner.snapshot.contract.model,
            },
        )

    def end(self, summary: RunSummary | None, error: str | None, revoked: str | None = None) -> None:
        details: dict[str, object] = {"error": error, "revoked": revoked}
        if summary is not None:
            details.update(
                frames=summary.frames,
                faces=summary.faces,
                tracks=summary.tracks,
                embedded=summary.embedded,
                alerts=summary.alerts,
                dropped_frames=summary.dropped_frames,
                dropped_erased=summary.dropped_erased,
                stopped=summary.stopped,
                halted=summary.halted,
                wall_s=round(summary.wall_s, 3),
            )
        self._audit("recognition.run_end", details)


def _run_until_signal(
    pipeline: WatchPipeline, record: _RunRecord, extra_stop: threading.Event | None = None
) -> RunSummary:
    """Run until the sources end, SIGINT/SIGTERM, or ``extra_stop``; the run's end is audited either way."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    def forward() -> None:
        assert extra_stop is not None
        extra_stop.wait()
        stop.set()

    if extra_stop is not None:
        threading.Thread(target=forward, name="watch-stop", daemon=True).start()
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    print(f"lfr watch: running (run {record.run_id}); Ctrl-C stops", file=sys.stderr, flush=True)
    try:
        summary = pipeline.run(stop)
    except BaseException as exc:
        record.end(None, f"{type(exc).__name__}: {exc}"[:500])
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return summary


def _finish(
    summary: RunSummary,
    pipeline: WatchPipeline,
    record: _RunRecord,
    watchlist: dict[str, object],
    sources: list[str],
    failed: list[dict[str, str]],
    revoked: str | None = None,
) -> int:
    from openlfr.sources.redact import redact

    record.end(summary, None, revoked)
    report = {
        "mode": record.mode,
        "run_id": record.run_id,
        "watchlist": watchlist,
        "sources": [redact(s) for s in sources],
        "failed_sources": failed,
        **summary.as_dict(),
    }
    print(json.dumps(report), file=sys.stderr)
    if summary.stopped or revoked is not None:
        return 130 if revoked is None else 1
    return 1 if failed else 0


def _sinks(args: argparse.Namespace) -> list[AlertSink]:
    from openlfr.alerts.sinks import JsonlSink
    from openlfr.files import open_private

    sinks: list[AlertSink] = []
    if args.jsonl is not None:
        sinks.append(JsonlSink(open_private(args.jsonl, "a", encoding="utf-8"), owns_stream=True))
    else:
        sinks.append(JsonlSink(sys.stdout))
    return sinks


def _evaluation_gallery(spec: str, engine: FaceEngine, store: Store, today: date) -> _Gallery:
    """A folder enrolled in memory, else the database watchlist named ``spec`` (the templates a snapshot taken
    today would hold; no snapshot is stored)."""
    from openlfr.errors import DatasetError
    from openlfr.pipeline.gallery import build_snapshot, enrol_folder
    from openlfr.store.errors import NotFoundError
    from openlfr.watchlists.snapshots import evaluation_gallery

    folder = Path(spec).expanduser()
    if folder.is_dir():
        snapshot, skipped = enrol_folder(engine, folder)
        for item in skipped:
            print(f"lfr watch: skipped reference {item.path}: {item.reason}", file=sys.stderr)
        facts: dict[str, object] = {
            "kind": "folder",
            "name": folder.name,
            "fingerprint": _fingerprint_of(snapshot),
            "templates": len(snapshot.templates),
            "subjects": snapshot.subjects,
            "skipped": len(skipped),
        }
        return _Gallery(snapshot, facts, stored_subjects=False)
    try:
        with store.db.session() as session:
            found = evaluation_gallery(session, spec, engine.contract, today)
    except NotFoundError:
        raise DatasetError(
            f"{spec}: neither a folder (WL/<subject_id>/<images>) nor a watchlist in the database "
            "(see `lfr watchlist list`)"
        ) from None
    if not found.subject_ids:
        raise DatasetError(f"watchlist {found.watchlist}: no subject with a template of this model to search")
    snapshot = build_snapshot(
        f"watchlist:{found.watchlist}", found.matrix, found.subject_ids, found.image_ids, found.contract
    )
    facts = {
        "kind": "database",
        "name": found.watchlist,
        "fingerprint": found.fingerprint,
        "templates": len(found.subject_ids),
        "subjects": snapshot.subjects,
        "excluded": found.excluded,
        "snapshot": None,
    }
    return _Gallery(snapshot, facts, stored_subjects=True)


def _fingerprint_of(snapshot: WatchlistSnapshot) -> str:
    """A folder watchlist's fingerprint, by the snapshot formula (sha256 over its sorted template digests)."""
    from openlfr.watchlists.enrol import template_digest
    from openlfr.watchlists.snapshots import fingerprint

    return fingerprint([template_digest(snapshot.contract, vector) for vector in snapshot.templates])


def _open_sources(
    specs: list[str], *, realtime: bool, settings: Settings
) -> tuple[list[FrameSource], list[dict[str, str]]]:
    """Open every source that can be opened; a broken one is reported (stderr and the summary) and skipped so
    the other cameras still run. A live source is refused outright (RecognitionNotAuthorisedError): it needs a
    deployment, and nothing starts."""
    from openlfr.errors import SourceError
    from openlfr.sources.factory import open_source
    from openlfr.sources.mandate import RecognitionNotAuthorisedError
    from openlfr.sources.redact import redact

    sources: list[FrameSource] = []
    failed: list[dict[str, str]] = []
    try:
        for index, spec in enumerate(specs):
            try:
                source = open_source(spec, realtime=realtime, config=settings.sources)
                if source.source_id in {s.source_id for s in sources}:
                    source.close()
                    source = open_source(
                        spec, source_id=f"{source.source_id}#{index}", realtime=realtime, config=settings.sources
                    )
            except RecognitionNotAuthorisedError:
                raise
            except SourceError as exc:
                print(f"lfr watch: error [source_unavailable]: {exc} (the other sources go on)", file=sys.stderr)
                failed.append({"source": redact(spec), "error": str(exc)})
                continue
            sources.append(source)
    except BaseException:
        for source in sources:
            source.close()
        raise
    return sources, failed
