"""The watchlist and subject commands around enrolment: lifecycle, reports, clear errors."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.watchlists.helpers import fake_config, run_cli, write_face


def test_watchlist_and_subject_lifecycle(database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = fake_config(tmp_path)

    def lfr(*args: str | Path) -> tuple[int, str, str]:
        result = run_cli(capsys, "--config", config, *args, "--db", database_url)
        return result.code, result.out, result.err

    assert lfr("watchlist", "create", "events", "--description", "Notting Hill, 2026-08-30")[0] == 0
    code, _, err = lfr("watchlist", "create", "events")
    assert (code, "[conflict]" in err) == (1, True)
    image = write_face(tmp_path / "p.png", 3)
    code, out, err = lfr(
        "subject", "add", "CUST/2026/0042", "--image", image, "--name", "J. Doe", "--category", "wanted_by_courts",
        "--reason", "failed to appear (Bail Act s.6)", "--image-source", "custody_image",
        "--review-by", "2099-01-31", "--watchlist", "events", "--json",
    )  # fmt: skip
    assert code == 0, err
    code, out, _ = lfr("watchlist", "list", "--json")
    assert [(w["name"], w["subjects"]) for w in run_json(out)["watchlists"]] == [("events", 1)]

    code, out, _ = lfr("watchlist", "export-report", "events")
    (row,) = csv.DictReader(io.StringIO(out))
    # added_by is whoever is signed in, never a typed name (there is no option for one any more)
    assert (row["external_ref"], row["added_by"], row["templates"]) == ("CUST/2026/0042", "tester", "1")
    assert "digest" not in out  # the report carries no biometric reference

    code, out, _ = lfr("subject", "update", "CUST/2026/0042", "--reason", "warrant issued", "--json")
    assert run_json(out)["subject"]["reason"] == "warrant issued"
    assert lfr("subject", "remove", "CUST/2026/0042", "--watchlist", "events")[0] == 0
    code, out, _ = lfr("subject", "show", "CUST/2026/0042", "--json")
    assert run_json(out)["watchlists"] == []  # off the list, still on record
    code, _, err = lfr("subject", "remove", "CUST/2026/0042", "--watchlist", "events")
    assert (code, "[not_found]" in err) == (1, True)

    assert lfr("watchlist", "delete", "events")[0] == 1  # needs --yes
    assert lfr("watchlist", "delete", "events", "--yes")[0] == 0
    code, _, err = lfr("watchlist", "show", "events")
    assert (code, "no watchlist named 'events'" in err) == (1, True)


def test_subject_add_validates_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = fake_config(tmp_path)
    base = (
        "--config",
        config,
        "subject",
        "add",
        "X",
        "--category",
        "witness",
        "--image-source",
        "other",
        "--image-source-note",
        "s",
    )
    blank = run_cli(capsys, *base, "--reason", "  ")
    assert blank.code == 1
    assert "reason (legal basis) is required" in blank.err
    with pytest.raises(SystemExit):  # argparse: bad date / unknown category → usage error (exit 2)
        run_cli(capsys, *base, "--reason", "r", "--review-by", "tomorrow")
    assert "is not a date" in capsys.readouterr().err
    missing = run_cli(capsys, *base, "--reason", "r", "--image", tmp_path / "nope.jpg")
    assert missing.code == 1
    assert "unreadable" in missing.out


def test_keygen_prints_a_usable_key(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from pydantic import SecretStr

    from openlfr.store.media import MediaStore

    result = run_cli(capsys, "watchlist", "keygen")
    assert result.code == 0
    MediaStore(tmp_path, SecretStr(result.out.strip())).put(b"x")


def run_json(text: str) -> dict[str, object] | dict[str, list[dict[str, object]]] | dict[str, object]:
    import json

    payload = json.loads(text)
    assert isinstance(payload, dict)
    return payload


def test_review_report_csv_neutralises_typed_formulas(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = fake_config(tmp_path)
    link = '=HYPERLINK("http://evil.example/","open")'
    assert run_cli(capsys, "--config", config, "watchlist", "create", "events", "--db", database_url).code == 0
    result = run_cli(
        capsys, "--config", config, "subject", "add", "@SUM(1+1)", "--image", write_face(tmp_path / "p.png", 3),
        "--category", "wanted_by_courts", "--reason", link, "--image-source", "other",
        "--image-source-note", "+custody",
        "--review-by", "2099-01-31", "--watchlist", "events", "--db", database_url,
    )  # fmt: skip
    assert result.code == 0, result.err
    result = run_cli(capsys, "--config", config, "watchlist", "export-report", "events", "--db", database_url)
    (row,) = csv.DictReader(io.StringIO(result.out))
    assert (row["external_ref"], row["reason"], row["image_source_note"]) == ("'@SUM(1+1)", "'" + link, "'+custody")
    assert row["templates"] == "1"
