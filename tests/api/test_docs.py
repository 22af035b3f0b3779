"""docs/API.md carries the permission matrix generated from the code; they must not drift apart."""

from __future__ import annotations

from pathlib import Path

from openlfr.api.permissions import matrix_markdown
from tests.api.conftest import Api

DOC = Path(__file__).resolve().parents[2] / "docs" / "API.md"
BEGIN, END = "<!-- permission-matrix:begin -->\n", "<!-- permission-matrix:end -->"


def test_api_doc_matrix_matches_the_code(api: Api) -> None:
    text = DOC.read_text(encoding="utf-8")
    embedded = text[text.index(BEGIN) + len(BEGIN) : text.index(END)]
    assert embedded == matrix_markdown(api.app), (
        "docs/API.md is stale: regenerate the table with `python -m openlfr.api.docgen`"
    )
