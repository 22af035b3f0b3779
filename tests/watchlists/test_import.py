"""Bulk import with the fake engine, on SQLite and PostgreSQL: bad input, idempotence, resume."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from openlfr.config.models import Settings
from openlfr.store.context import open_store
from openlfr.store.models import ReferenceImage, Subject, Template
from openlfr.watchlists.enrol import Enroller
from tests.helpers.accounts import stand_in_supervisor
from tests.watchlists.helpers import fake_config, run_cli, write_face

META = ("--category", "suspected_offence", "--reason", "PACE s.64A custody image", "--image-source", "custody_image")


def _counts(url: str, tmp_path: Path) -> tuple[int, int, int]:
    with open_store(Settings(database_url=url, data_dir=tmp_path / "var")) as store, store.db.session() as session:
        return tuple(  # type: ignore[return-value]
            int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Subject, ReferenceImage, Template)
        )


def _media_files(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "var" / "media").rglob("*") if p.is_file()]


def test_csv_import_reports_corrupt_files_and_bad_rows(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    images = tmp_path / "images"
    write_face(images / "a1.png", 1)
    write_face(images / "b1.png", 2)
    (images / "empty.jpg").write_bytes(b"")
    truncated = write_face(images / "truncated.png", 3).read_bytes()
    (images / "truncated.png").write_bytes(truncated[: len(truncated) // 2])
    (images / "notes.jpg").write_text("not an image", encoding="utf-8")
    write_face(images / "two.png", 4, faces=2)
    rows = [
        ["subject_ref", "image_path", "display_name", "category", "reason", "image_source", "review_by"],
        ["A-1", "images/a1.png", "Alice", "", "", "", ""],
        ["B-2", "images/b1.png", "Bob", "wanted_by_courts", "warrant 123", "other_police_image", "2099-01-01"],
        ["C-3", "", "", "", "", "", ""],  # no image path
        ["D-4", "images/a1.png", "", "not_a_category", "", "", ""],  # bad category
        ["E-5", "images/a1.png", "", "", "", "", "31/12/2099"],  # bad date
        ["", "images/a1.png", "", "", "", "", ""],  # no subject
        ["F-6", "images/missing.png", "", "", "", "", ""],
        ["G-7", "images/empty.jpg", "", "", "", "", ""],
        ["G-7", "images/truncated.png", "", "", "", "", ""],
        ["G-7", "images/notes.jpg", "", "", "", "", ""],
        ["H-8", "images/two.png", "", "", "", "", ""],
    ]
    manifest = tmp_path / "import.csv"
    with manifest.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    rejects = tmp_path / "rejects.csv"
    config = fake_config(tmp_path)

    result = run_cli(
        capsys, "--config", config, "watchlist", "import", "wl", "--csv", manifest, *META,
        "--db", database_url, "--rejects", rejects, "--json",
    )  # fmt: skip

    assert result.code == 0, result.err
    summary = result.json()
    assert summary["enrolled"] == 2
    assert summary["rejected"] == {"invalid_row": 4, "missing_file": 1, "unreadable": 3, "multiple_faces": 1}
    assert summary["duplicates"] == 0
    with rejects.open(newline="", encoding="utf-8") as handle:
        reported = list(csv.DictReader(handle))
    assert {(r["subject_ref"], r["code"]) for r in reported} >= {
        ("C-3", "invalid_row"),
        ("D-4", "invalid_row"),
        ("E-5", "invalid_row"),
        ("", "invalid_row"),
        ("F-6", "missing_file"),
        ("G-7", "unreadable"),
        ("H-8", "multiple_faces"),
    }
    assert any("empty file" in r["detail"] for r in reported)
    assert any("truncated" in r["detail"] for r in reported)
    assert any("unknown category 'not_a_category'" in r["detail"] for r in reported)
    # Only the two enrolled images were stored: nothing of a rejected one reached the database or disk.
    assert _counts(database_url, tmp_path) == (2, 2, 2)
    assert len(_media_files(tmp_path)) == 2
    # Metadata from the CSV wins over the command-line defaults.
    shown = run_cli(capsys, "--config", config, "subject", "show", "B-2", "--db", database_url, "--json").json()
    assert (shown["category"], shown["reason"], shown["review_by"]) == ("wanted_by_courts", "warrant 123", "2099-01-01")
    assert shown["watchlists"] == ["wl"]


def test_subject_without_legal_basis_is_not_created(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_face(tmp_path / "in" / "X-1" / "a.png", 1)
    config = fake_config(tmp_path)
    result = run_cli(
        capsys, "--config", config, "watchlist", "import", "wl", tmp_path / "in", "--category", "witness",
        "--image-source", "custody_image", "--db", database_url, "--json",
    )  # fmt: skip
    assert result.code == 0
    assert result.json()["rejected"] == {"invalid_metadata": 1}
    assert _counts(database_url, tmp_path) == (0, 0, 0)
    assert _media_files(tmp_path) == []


def _folder(root: Path, subjects: int = 3, per_subject: int = 2) -> Path:
    for s in range(subjects):
        for i in range(per_subject):
            write_face(root / f"S-{s}" / f"{i}.png", 10 * s + i)
    with (root / "subjects.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["subject_ref", "display_name", "category", "reason", "image_source"])
        writer.writerows(
            [f"S-{s}", f"Person {s}", "missing_at_risk", "s.17 PACE", "other_police_image"] for s in range(subjects)
        )
        writer.writerow(["S-9", "", "nonsense", "", ""])  # a bad metadata row is reported, not fatal
    return root


def test_reimport_is_idempotent_and_an_interrupted_import_resumes(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path / "in")
    config = fake_config(tmp_path)
    command = ("--config", config, "watchlist", "import", "wl", folder, "--db", database_url, "--json")
    real_enrol = Enroller.enrol
    calls = 0

    def interrupted(self: Enroller, request: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise KeyboardInterrupt
        return real_enrol(self, request)  # type: ignore[arg-type]

    monkeypatch.setattr(Enroller, "enrol", interrupted)
    assert run_cli(capsys, *command).code == 130
    assert _counts(database_url, tmp_path) == (2, 3, 3)  # what finished before the interruption is kept
    monkeypatch.undo()
    stand_in_supervisor(monkeypatch)  # undo() also ended the stand-in

    resumed = run_cli(capsys, *command)
    assert resumed.code == 0
    assert resumed.json()["enrolled"] == 3
    assert resumed.json()["already_enrolled"] == 3
    assert resumed.json()["rejected"] == {"invalid_row": 1}
    again = run_cli(capsys, *command).json()
    assert (again["enrolled"], again["already_enrolled"]) == (0, 6)
    assert _counts(database_url, tmp_path) == (3, 6, 6)
    assert len(_media_files(tmp_path)) == 6


def test_a_failure_in_one_file_does_not_lose_the_rest(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path / "in")
    real_enrol = Enroller.enrol

    def flaky(self: Enroller, request: object) -> object:
        if getattr(request, "source_name", "") == "1.png" and getattr(request, "subject_ref", "") == "S-1":
            raise RuntimeError("simulated bug")
        return real_enrol(self, request)  # type: ignore[arg-type]

    monkeypatch.setattr(Enroller, "enrol", flaky)
    result = run_cli(
        capsys, "--config", fake_config(tmp_path), "watchlist", "import", "wl", folder, "--db", database_url, "--json"
    )
    assert result.code == 0
    assert result.json()["enrolled"] == 5
    assert result.json()["rejected"] == {"internal_error": 1, "invalid_row": 1}


def test_same_image_twice_and_possible_duplicate_identity(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = fake_config(tmp_path)
    db = ("--db", database_url)
    first = write_face(tmp_path / "a.png", 1)
    near_copy = write_face(tmp_path / "a-again.png", 1, noise=3)  # other bytes, same "person"
    assert first.read_bytes() != near_copy.read_bytes()
    meta = ("--category", "wanted_by_courts", "--reason", "warrant", "--image-source", "other_police_image")

    assert run_cli(capsys, "--config", config, "subject", "add", "A", "--image", first, *meta, *db).code == 0
    # The same file again for the same subject: nothing new; for another subject: refused.
    again = run_cli(capsys, "--config", config, "subject", "update", "A", "--image", first, *db, "--json")
    assert again.code == 0
    assert again.json()["images"][0]["outcome"] == "already_enrolled"
    other = run_cli(capsys, "--config", config, "subject", "add", "B", "--image", first, *meta, *db, "--json")
    assert other.code == 1
    assert other.json()["images"][0]["code"] == "duplicate_image"
    assert other.json()["subject"] is None  # the refused subject was not created

    # The same picture re-saved in another format: other bytes, identical template: the same image twice.
    resaved = write_face(tmp_path / "a.bmp", 1)
    assert resaved.read_bytes() != first.read_bytes()
    again_resaved = run_cli(capsys, "--config", config, "subject", "update", "A", "--image", resaved, *db, "--json")
    assert again_resaved.code == 1
    assert again_resaved.json()["images"][0]["code"] == "duplicate_image"

    flagged = run_cli(capsys, "--config", config, "subject", "add", "B", "--image", near_copy, *meta, *db)
    assert flagged.code == 1
    assert "possible_duplicate_identity" in flagged.out
    assert "matches subject 'A'" in flagged.out
    assert "lfr: error [enrolment_refused]" in flagged.err
    forced = run_cli(
        capsys, "--config", config, "subject", "add", "B", "--image", near_copy, *meta, *db, "--force", "--json"
    )
    assert forced.code == 0, forced.err
    shown = run_cli(capsys, "--config", config, "subject", "show", "A", *db, "--json").json()
    assert forced.json()["subject"]["images"][0]["duplicate_of"] == shown["id"]


def test_import_flags_duplicates_and_force_enrols_them(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = fake_config(tmp_path)
    write_face(tmp_path / "in" / "A" / "1.png", 7)
    write_face(tmp_path / "in" / "B" / "1.png", 7, noise=2)
    command = ("--config", config, "watchlist", "import", "wl", tmp_path / "in", *META, "--db", database_url, "--json")
    summary = run_cli(capsys, *command).json()
    assert (summary["enrolled"], summary["duplicates"], summary["rejected"]) == (1, 1, {})
    forced = run_cli(capsys, *command, "--force").json()
    assert (forced["enrolled"], forced["already_enrolled"], forced["duplicates"]) == (1, 1, 1)


def test_unreadable_import_files_are_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = fake_config(tmp_path)
    missing = run_cli(capsys, "--config", config, "watchlist", "import", "wl", tmp_path / "nope")
    assert missing.code == 1
    assert "lfr: error [dataset_invalid]" in missing.err
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    result = run_cli(capsys, "--config", config, "watchlist", "import", "wl", "--csv", bad)
    assert result.code == 1
    assert "not a readable UTF-8 CSV" in result.err
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("name,file\nx,y\n", encoding="utf-8")
    result = run_cli(capsys, "--config", config, "watchlist", "import", "wl", "--csv", wrong)
    assert result.code == 1
    assert "needs subject_ref and image_path columns" in result.err


def test_an_import_file_cannot_name_who_added_its_subjects() -> None:
    from openlfr.watchlists.manifest import parse_fields

    with pytest.raises(ValueError, match="added_by column is not accepted"):
        parse_fields({"subject_ref": "A", "added_by": "chief_constable"})
    assert parse_fields({"subject_ref": "A", "added_by": ""}).category is None


def test_rejects_report_neutralises_typed_formulas(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "import.csv"
    with manifest.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(
            [["subject_ref", "image_path"], ['=HYPERLINK("http://evil.example/","x")', "@SUM(1+1).png"]]
        )
    rejects = tmp_path / "rejects.csv"
    result = run_cli(
        capsys, "--config", fake_config(tmp_path), "watchlist", "import", "wl", "--csv", manifest, *META,
        "--db", database_url, "--rejects", rejects,
    )  # fmt: skip
    assert result.code == 0, result.err
    with rejects.open(newline="", encoding="utf-8") as handle:
        (row,) = csv.DictReader(handle)
    assert row["subject_ref"] == '\'=HYPERLINK("http://evil.example/","x")'
    assert row["code"] == "missing_file"
    assert not row["source"].startswith(("=", "+", "-", "@")) and not row["detail"].startswith(("=", "+", "-", "@"))


def test_cli_and_import_refuse_a_review_by_date_already_passed(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = fake_config(tmp_path)
    write_face(tmp_path / "in" / "P-1" / "a.png", 1)
    past = "2001-01-01"
    imported = run_cli(
        capsys, "--config", config, "watchlist", "import", "wl", tmp_path / "in", *META, "--review-by", past,
        "--db", database_url, "--json",
    )  # fmt: skip
    assert imported.code == 0, imported.err
    assert imported.json()["rejected"] == {"invalid_metadata": 1}
    assert _counts(database_url, tmp_path) == (0, 0, 0)
    assert _media_files(tmp_path) == []  # nothing of the refused entry kept
    added = run_cli(
        capsys, "--config", config, "subject", "add", "P-2", *META, "--review-by", past, "--db", database_url
    )
    assert added.code != 0 and "review-by date 2001-01-01 has passed" in added.err
