"""The watchlist domain writes its own audit entries, in the caller's transaction, whoever calls it: one entry
per change, naming the principal, with the same details from the API and the CLI; a caller without the
permission changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from openlfr.audit import iter_entries
from openlfr.auth.errors import PermissionDeniedError
from openlfr.config.models import Settings
from openlfr.store.db import Database, open_database
from openlfr.store.models import Watchlist
from openlfr.types import ModelContract
from openlfr.watchlists.snapshots import create_snapshot
from openlfr.watchlists.subjects import (
    add_member,
    create_subject,
    create_watchlist,
    delete_watchlist,
    remove_member,
    update_subject,
)
from openlfr.watchlists.types import Category, SubjectChanges, SubjectInfo
from tests.helpers.accounts import person

CONTRACT = ModelContract("fake", "0" * 64, 8, "none")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(Settings(data_dir=tmp_path))
    try:
        yield database
    finally:
        database.close()


def _info(ref: str) -> SubjectInfo:
    return SubjectInfo(ref, Category.WANTED_BY_COURTS, "warrant 1", "custody_image", "typed", date(2099, 1, 1))


def test_each_watchlist_change_is_audited_once_by_the_domain(db: Database) -> None:
    with db.session() as session:
        sgt = person(session, "sgt", "supervisor")
        watchlist = create_watchlist(session, "events", by=sgt)
        subject = create_subject(session, _info("S-1"), by=sgt)
        assert add_member(session, watchlist, subject, by=sgt) is True
        assert add_member(session, watchlist, subject, by=sgt) is False  # already on it: nothing changed
        update_subject(session, subject, SubjectChanges(reason="warrant 2", review_by=date(2099, 6, 1)), by=sgt)
        snapshot = create_snapshot(session, "events", CONTRACT, date(2026, 1, 1), by=sgt)
        remove_member(session, watchlist, subject, by=sgt)
        assert delete_watchlist(session, "events", by=sgt) == 0
    with db.session() as session:
        entries = [e for e in iter_entries(session) if e.action != "subject.create"]
    assert [e.action for e in entries] == [
        "watchlist.create",
        "watchlist.add_member",
        "subject.update",
        "snapshot.create",
        "watchlist.remove_member",
        "watchlist.delete",
    ]
    assert {e.actor for e in entries} == {"user:sgt"}
    by_action = {e.action: e for e in entries}
    assert by_action["subject.update"].details == {"fields": ["reason", "review_by"]}  # names, never values
    assert by_action["snapshot.create"].target_id == snapshot.id
    assert by_action["snapshot.create"].details == {
        "watchlist": "events",
        "fingerprint": snapshot.fingerprint,
        "templates": 0,
        "subjects": 0,
        "excluded": 1,  # S-1 has no template of the model
    }
    assert by_action["watchlist.delete"].details == {"name": "events", "members": 0}


def test_an_operator_changes_no_watchlist(db: Database) -> None:
    with db.session() as session:
        ann = person(session, "ann", "operator")
        with pytest.raises(PermissionDeniedError):
            create_watchlist(session, "events", by=ann)
        with pytest.raises(PermissionDeniedError):
            create_snapshot(session, "events", CONTRACT, date(2026, 1, 1), by=ann)
    with db.session() as session:
        assert session.query(Watchlist).count() == 0
        assert list(iter_entries(session)) == []
