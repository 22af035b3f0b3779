"""An app on a fresh SQLite database with a movable clock, a cheap argon2 hasher, and helpers that make
accounts and tokens directly in the store."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from openlfr.api import Services, create_app
from openlfr.auth.roles import Role
from openlfr.auth.tokens import create_token
from openlfr.auth.users import create_user
from openlfr.config.api import ApiConfig
from openlfr.config.models import Settings
from openlfr.store.db import Database, open_database

PASSWORD = "correct horse battery staple"


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 26, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def fast_hasher() -> PasswordHasher:
    # The production parameters cost ~100 ms per hash; the tests log in hundreds of times.
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@dataclass
class Api:
    app: FastAPI
    db: Database
    clock: Clock
    settings: Settings
    hasher: PasswordHasher

    def client(self, *, https: bool = False) -> TestClient:
        return TestClient(self.app, base_url="https://testserver" if https else "http://testserver")

    def user(self, username: str, role: Role | str, password: str = PASSWORD) -> str:
        with self.db.session() as session:
            return create_user(session, self.hasher, username, password, role).id

    def token(self, role: Role | str, name: str = "machine", expires_in: timedelta | None = None) -> str:
        with self.db.session() as session:
            return create_token(session, name, str(role), "test", self.clock(), expires_in).token

    def login(self, client: TestClient, username: str, password: str = PASSWORD) -> str:
        """Log ``client`` in; returns the CSRF token."""
        response = client.post("/api/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        csrf: str = response.json()["csrf_token"]
        return csrf


def make_settings(tmp_path: Path, database_url: str | None = None, **api: object) -> Settings:
    config = ApiConfig.model_validate({"session_secret": SecretStr(secrets.token_urlsafe(40)), **api})
    return Settings(data_dir=tmp_path, database_url=database_url, api=config)


def build_api(settings: Settings, **services: object) -> Iterator[Api]:
    db = open_database(settings)
    clock = Clock()
    hasher = fast_hasher()
    app = create_app(settings, Services(sessions=db.sessions, password_hasher=hasher, clock=clock, **services))  # type: ignore[arg-type]
    try:
        yield Api(app, db, clock, settings, hasher)
    finally:
        db.close()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from build_api(make_settings(tmp_path))
