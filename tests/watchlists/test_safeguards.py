"""What the authorising officer must be able to trust about a watchlist: image sources from a controlled list,
children only with a recorded justification (and counted), a size cap, and the composition shown and kept
when a deployment is authorised."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from openlfr.config.governance import GovernanceConfig
from openlfr.config.models import Settings
from openlfr.deployments.service import (
    authorise_deployment,
    create_deployment,
    deployment_composition,
    get_deployment,
)
from openlfr.deployments.types import DeploymentError, DeploymentStateError
from openlfr.reports.deployment import build_record
from openlfr.store.db import Database, open_database
from openlfr.watchlists.subjects import create_subject, update_subject, validate_info
from openlfr.watchlists.types import Category, ImageSource, SubjectChanges, SubjectInfo
from tests.api.conftest import Api, build_api, make_settings
from tests.deployments.helpers import T0, make_snapshot, plan, planner, sgt


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(Settings(data_dir=tmp_path))
    try:
        yield database
    finally:
        database.close()


def _info(**changes: object) -> SubjectInfo:
    values: dict[str, object] = {
        "external_ref": "K-14",
        "category": Category.MISSING_AT_RISK,
        "reason": "missing, at risk of exploitation",
        "image_source": ImageSource.OTHER_POLICE_IMAGE,
        "added_by": "sgt",
        "review_by": date(2099, 1, 1),
    }
    values.update(changes)
    return SubjectInfo(**values)  # type: ignore[arg-type]


def test_image_source_comes_from_the_controlled_list() -> None:
    with pytest.raises(ValueError, match="not one of: custody_image, other_police_image, other"):
        validate_info(_info(image_source="found it on a social network"))
    with pytest.raises(ValueError, match="needs a note"):
        validate_info(_info(image_source="other"))
    assert validate_info(_info(image_source="other", image_source_note="family photo, given by the mother"))


def test_a_child_needs_a_recorded_justification_by_date_of_birth_or_flag() -> None:
    fourteen = date.today().replace(year=date.today().year - 14)
    with pytest.raises(ValueError, match="under 18 needs a recorded justification"):
        validate_info(_info(date_of_birth=fourteen))
    with pytest.raises(ValueError, match="under 18 needs a recorded justification"):
        validate_info(_info(under_18=True))
    adult = date.today().replace(year=date.today().year - 30)
    assert validate_info(_info(date_of_birth=adult)).is_minor(date.today()) is False
    ok = validate_info(_info(date_of_birth=fourteen, minor_justification="missing child at risk of CSE"))
    assert ok.is_minor(date.today())


def test_an_update_cannot_remove_a_childs_justification(db: Database) -> None:
    with db.session() as session:
        subject = create_subject(
            session, _info(under_18=True, minor_justification="missing child at risk"), by=sgt(session)
        )
        with pytest.raises(ValueError, match="under 18"):
            update_subject(session, subject, SubjectChanges(minor_justification=""), by=sgt(session))
        with pytest.raises(ValueError, match="not one of"):
            update_subject(session, subject, SubjectChanges(image_source="the internet"), by=sgt(session))


def test_composition_is_shown_kept_and_children_counted(db: Database) -> None:
    with db.session() as session:
        snapshot = make_snapshot(session, templates=5, minors=("missing child at risk",))
        deployment = create_deployment(
            session, plan(snapshot.id), by=planner(session), config=GovernanceConfig(), now=T0 - timedelta(days=1)
        )
        shown = deployment_composition(session, deployment, T0)
        assert (shown.subjects, shown.templates, shown.under_18, shown.under_18_unjustified) == (5, 5, 1, 0)
        assert shown.by_category == {"wanted_by_courts": 5} and shown.by_image_source == {"custody_image": 5}
        authorise_deployment(
            session,
            deployment.id,
            by=sgt(session),
            text="ok",
            config=GovernanceConfig(),
            now=T0,
            composition_digest=shown.digest,
        )
        stored = get_deployment(session, deployment.id)
        assert stored.authorisation_composition == shown.as_dict()
        assert build_record(session, deployment.id).subjects_under_18 == 1


def test_authorising_refuses_an_unjustified_child_and_a_changed_watchlist(db: Database) -> None:
    with db.session() as session:
        snapshot = make_snapshot(session, templates=3, minors=("",))  # entered around the checks
        deployment = create_deployment(
            session, plan(snapshot.id), by=planner(session), config=GovernanceConfig(), now=T0 - timedelta(days=1)
        )
        with pytest.raises(DeploymentError, match="under 18 have no recorded justification"):
            authorise_deployment(session, deployment.id, by=sgt(session), text="ok", config=GovernanceConfig(), now=T0)
        with pytest.raises(DeploymentStateError, match="changed since its composition was shown"):
            authorise_deployment(
                session,
                deployment.id,
                by=sgt(session),
                text="ok",
                config=GovernanceConfig(),
                now=T0,
                composition_digest="0" * 64,
            )


def test_the_watchlist_size_cap_refuses_a_larger_list(db: Database) -> None:
    with db.session() as session:
        snapshot = make_snapshot(session, templates=4)
        with pytest.raises(DeploymentError, match="more than the configured cap of 3"):
            create_deployment(
                session,
                plan(snapshot.id),
                by=planner(session),
                config=GovernanceConfig(max_watchlist_subjects=3),
                now=T0 - timedelta(days=1),
            )


def test_subject_api_refuses_a_child_without_justification(tmp_path: Path) -> None:
    for api in build_api(make_settings(tmp_path)):
        _child_over_http(api)


def _child_over_http(api: Api) -> None:
    headers = {"Authorization": f"Bearer {api.token('supervisor', name='sup-desk')}"}
    client = api.client()
    body = {
        "external_ref": "K-14",
        "category": "missing_at_risk",
        "reason": "missing, at risk",
        "image_source": "other_police_image",
        "review_by": "2099-01-01",
        "date_of_birth": date.today().replace(year=date.today().year - 14).isoformat(),
    }
    refused = client.post("/api/subjects", json=body, headers=headers)
    assert refused.status_code == 422 and "under 18" in refused.json()["error"]["message"]
    free_text = client.post("/api/subjects", json={**body, "image_source": "facebook"}, headers=headers)
    assert free_text.status_code == 422
    made = client.post("/api/subjects", json={**body, "minor_justification": "missing child"}, headers=headers)
    assert made.status_code == 201, made.text
    assert (made.json()["date_of_birth"], made.json()["minor_justification"]) == (
        body["date_of_birth"],
        "missing child",
    )


def test_free_text_image_sources_migrate_to_other_with_their_words_kept(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from openlfr.store.db import MIGRATIONS_DIR

    url = f"sqlite+pysqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0351")
        connection.execute(
            text(
                "INSERT INTO subject (id, external_ref, display_name, category, reason, image_source, added_by, "
                "review_by, created_at, updated_at) VALUES ('s1', 'R-1', '', 'witness', 'r', 'statement photo', "
                "'pc', '2099-01-01', '2026-01-01', '2026-01-01'), ('s2', 'R-2', '', 'witness', 'r', "
                "'custody_image', 'pc', '2099-01-01', '2026-01-01', '2026-01-01')"
            )
        )
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        rows = connection.execute(text("SELECT id, image_source, image_source_note FROM subject ORDER BY id")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("s1", "other", "statement photo"), ("s2", "custody_image", "")]


def test_a_review_by_date_already_passed_is_refused_on_entry_and_renewal(db: Database) -> None:
    """Whichever door: an entry made overdue would sit on the list excluded from every snapshot, and a renewal
    to a past date would settle nothing. Due today is allowed (not yet overdue); an overdue entry may still be
    corrected in other fields."""
    today = date(2026, 11, 26)
    with db.session() as session:
        with pytest.raises(ValueError, match="review-by date 2026-11-25 has passed"):
            create_subject(session, _info(review_by=date(2026, 11, 25)), by=sgt(session), today=today)
        subject = create_subject(session, _info(review_by=today), by=sgt(session), today=today)
        later = today + timedelta(days=40)
        with pytest.raises(ValueError, match="has passed"):
            update_subject(session, subject, SubjectChanges(review_by=date(2026, 11, 1)), by=sgt(session), today=later)
        update_subject(session, subject, SubjectChanges(reason="warrant renewed"), by=sgt(session), today=later)
        update_subject(session, subject, SubjectChanges(review_by=later), by=sgt(session), today=later)
        assert (subject.reason, subject.review_by) == ("warrant renewed", later)
    with pytest.raises(ValueError, match="has passed"):
        validate_info(_info(review_by=date.today() - timedelta(days=1)))  # the default clock: today's UTC date


def test_subject_api_refuses_a_review_by_date_already_passed(tmp_path: Path) -> None:
    for api in build_api(make_settings(tmp_path)):  # the server's clock says 2026-11-26
        client = api.client()
        headers = {"Authorization": f"Bearer {api.token('supervisor', name='sup-desk')}"}
        body = {"external_ref": "R-1", "category": "wanted_by_courts", "reason": "warrant",
                "image_source": "custody_image", "review_by": "2026-11-25"}  # fmt: skip
        refused = client.post("/api/subjects", json=body, headers=headers)
        assert (refused.status_code, refused.json()["error"]["code"]) == (422, "invalid_metadata")
        assert "2026-11-25 has passed" in refused.json()["error"]["message"]
        made = client.post("/api/subjects", json={**body, "review_by": "2026-11-26"}, headers=headers)
        assert made.status_code == 201, made.text
        renewal = client.patch(f"/api/subjects/{made.json()['id']}", json={"review_by": "2026-01-01"}, headers=headers)
        assert renewal.status_code == 422
        assert client.get(f"/api/subjects/{made.json()['id']}", headers=headers).json()["review_by"] == "2026-11-26"
