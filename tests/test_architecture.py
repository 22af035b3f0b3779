"""docs/ARCHITECTURE.md draws the layers the import contracts enforce: every contract of pyproject.toml is in
its table, and every package of ``openlfr`` is placed in its drawing."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")


def test_every_import_contract_is_in_the_architecture_doc() -> None:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    for contract in contracts["contracts"]:
        assert f"| {contract['name']} |" in DOC, f"docs/ARCHITECTURE.md lacks the contract {contract['name']!r}"
        for module in [*contract["source_modules"], *contract["forbidden_modules"]]:
            assert f"`{module.removeprefix('openlfr.')}`" in DOC


def test_every_package_is_placed_in_the_drawing() -> None:
    packages = sorted(p.name for p in (ROOT / "src" / "openlfr").iterdir() if (p / "__init__.py").is_file())
    drawing = DOC[DOC.index("```") : DOC.index("```", DOC.index("```") + 3)]
    assert [p for p in packages if f"{p}/" not in drawing] == []
