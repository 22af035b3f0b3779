"""An app on a fresh SQLite database with a movable clock, a cheap argon2 hasher, and helpers that make
accounts and tokens directly in the store."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from openlfr.alerts.sinks import AlertBus
from openlfr.api import Services, create_app
from openlfr.api.enrolment import UploadEnroller
from openlfr.auth.principal import Principal
from openlfr.auth.roles import Role
from openlfr.config.api import ApiConfig
from openlfr.config.models import EngineConfig, FakeDetectorConfig, FakeEmbedderConfig, Settings
from openlfr.engine import FaceEngine
from openlfr.store.context import Store
from openlfr.store.db import Database, open_database
from openlfr.store.media import MediaStore
from tests.helpers.accounts import PASSWORD, fast_hasher, insert_user, mint_token, person
from tests.helpers.cameras import camera_service

__all__ = ["PASSWORD", "Api", "Clock", "build_api", "fast_hasher", "make_settings"]


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 26, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class Api:
    app: FastAPI
    db: Database
    clock: Clock
    settings: Settings
    hasher: PasswordHasher

    def client(self, *, https: bool = False) -> TestClient:
        return TestClient(self.app, base_url="https://testserver" if https else "http://testserver")

    def user(self, username: str, role: Role | str, password: str = PASSWORD, *, competent: bool = True) -> str:
        """A user inserted as a fixture (the grant rules are tested through the API and the domain); operators
        and supervisors are trained (current competence records) unless ``competent`` is False."""
        with self.db.session() as session:
            return insert_user(session, username, role, password, self.hasher, competent=competent).id

    def principal(self, username: str, role: Role | str) -> Principal:
        with self.db.session() as session:
            return person(session, username, role)

    def token(
        self, role: Role | str, name: str = "machine", expires_in: timedelta | None = None, owner: str | None = None
    ) -> str:
        """A token minted by ``owner`` (default: ``owner-admin`` or ``owner-supervisor``, whoever grants ``role``)."""
        with self.db.session() as session:
            return mint_token(session, role, self.clock(), name, expires_in, owner)

    def session_client(
        self, username: str, role: Role | str, *, competent: bool = True
    ) -> tuple[TestClient, dict[str, str]]:
        """A client logged in as ``username`` (created with ``role`` — trained unless ``competent`` is False — if
        needed) and its CSRF header."""
        with self.db.session() as session:
            person(session, username, role, competent=competent)
        client = self.client()
        return client, {"X-CSRF-Token": self.login(client, username)}

    def login(self, client: TestClient, username: str, password: str = PASSWORD) -> str:
        """Log ``client`` in; returns the CSRF token."""
        response = client.post("/api/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        csrf: str = response.json()["csrf_token"]
        return csrf


def make_settings(tmp_path: Path, database_url: str | None = None, **api: object) -> Settings:
    # A short live stream: a test client reads a stream to its end.
    api = {"alert_stream_max_s": 0.2, **api}
    config = ApiConfig.model_validate({"session_secret": SecretStr(secrets.token_urlsafe(40)), **api})
    return Settings(data_dir=tmp_path, database_url=database_url, api=config)


# The fake detector finds the textured blobs of tests.watchlists.helpers.face_image (pixels >= 40).
FAKE_ENGINE = EngineConfig(detector=FakeDetectorConfig(min_brightness=40), embedder=FakeEmbedderConfig())


def fake_engine_factory(settings: Settings) -> Callable[[], FaceEngine]:
    def factory() -> FaceEngine:
        return FaceEngine.from_settings(settings.model_copy(update={"engine": FAKE_ENGINE}))

    return factory


def build_api(settings: Settings, **services: object) -> Iterator[Api]:
    """The app with every service (fake face engine; cameras read files as fast as they decode); keyword
    arguments replace services."""
    db = open_database(settings)
    clock = Clock()
    hasher = fast_hasher()
    store = Store(db, MediaStore(settings.data_dir / "media", settings.media_key))
    bus = AlertBus()
    engines = fake_engine_factory(settings)
    defaults: dict[str, object] = {
        "store": store,
        "bus": bus,
        "cameras": camera_service(
            settings.model_copy(update={"engine": FAKE_ENGINE}), store, bus, engines, realtime_files=False
        ).monitor,
        "enroller": UploadEnroller(store, engines, settings.watchlist.duplicate_threshold),
    }
    app = create_app(
        settings,
        Services(sessions=db.sessions, password_hasher=hasher, clock=clock, **{**defaults, **services}),  # type: ignore[arg-type]
    )
    try:
        yield Api(app, db, clock, settings, hasher)
    finally:
        cameras = app.state.ctx.services.cameras
        if cameras is not None:
            cameras.supervisor.stop_all()
        db.close()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from build_api(make_settings(tmp_path))
