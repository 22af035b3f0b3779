"""``lfr bench search`` output and the BENCHMARKS.md section update (no timing assertions)."""

from __future__ import annotations

import json

import pytest

from openlfr.bench.search import BEGIN, END, update_section
from openlfr.cli import main


def test_bench_search_json_has_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "search", "--gallery", "2000", "--probes", "200", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("exact_ms_per_probe", "faiss_ms_per_probe", "exact_build_s", "faiss_build_s", "faiss_backend"):
        assert key in result
    assert (result["gallery"], result["probes"]) == (2000, 200)
    assert result["faiss_backend"] == "faiss:IndexFlatIP"
    assert result["faiss_recall_at_1"] == 1.0  # a flat index is exact


def test_update_section_replaces_only_the_search_block() -> None:
    document = f"# Benchmarks\n\n## Engine\nkeep me\n\n{BEGIN}\nold figures\n{END}\n\n## Pipeline\nkeep me too\n"
    updated = update_section(document, "new figures")
    assert updated == document.replace("old figures", "new figures")


def test_update_section_appends_when_missing() -> None:
    assert (
        update_section("# Benchmarks\n\nengine\n", "figures") == f"# Benchmarks\n\nengine\n\n{BEGIN}\nfigures\n{END}\n"
    )
    assert update_section("", "figures").startswith("# Benchmarks")
