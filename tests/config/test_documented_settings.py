"""Every setting the docs promise can be set: the YAML snippets load, every ``LFR_*`` variable and every dotted
key named in the docs exists in the configuration, and every settings table (marked ``<!-- settings: SECTION -->``)
names real fields — and documents all of them. A knob the docs name but the code refuses fails here."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from openlfr.config.loader import load_settings
from openlfr.config.models import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([*ROOT.glob("docs/*.md"), ROOT / "README.md"])
SECTIONS = tuple(Settings.model_fields)

# LFR_* variables that are not settings: the config file itself, the CLI's token, test-only switches.
NOT_SETTINGS = {"LFR_CONFIG", "LFR_TOKEN", "LFR_CONSOLE_SCREENSHOT_DIR", "LFR_SHARED_DATA", "LFR_TEST_POSTGRES_URL"}
# Dotted names in the docs that are audit actions, not settings (e.g. `watchlist.import`).
SRC = ROOT / "src" / "openlfr"
AUDIT_ACTIONS = {
    m.group(1) for p in SRC.rglob("*.py") for m in re.finditer(r'action="([a-z_.]+)"', p.read_text(encoding="utf-8"))
}


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models a field's type can hold (through Optional, unions, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, typing.Annotated):
        return [m for arg in typing.get_args(annotation) for m in _models(arg)]
    return []


def resolves(path: list[str]) -> bool:
    """Whether ``path`` names a field of the settings tree (a union field: of any of its members)."""
    models: list[type[BaseModel]] = [Settings]
    for depth, part in enumerate(path):
        fields = [m.model_fields[part] for m in models if part in m.model_fields]
        if not fields:
            return False
        if depth == len(path) - 1:
            return True
        models = [m for field in fields for m in _models(field.annotation)]
    return True


def _nest(path: list[str], value: Any) -> dict[str, Any]:
    for part in reversed(path):
        value = {part: value}
    return value  # type: ignore[no-any-return]


def _docs() -> Iterator[tuple[str, str]]:
    for path in DOCS:
        yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")


def yaml_snippets() -> list[tuple[str, str]]:
    return [
        (f"{name}#{i}", block)
        for name, text in _docs()
        for i, block in enumerate(re.findall(r"^ *```yaml\n(.*?)^ *```", text, re.S | re.M))
    ]


def settings_tables() -> list[tuple[str, str, list[str]]]:
    """(doc, section, rows) of every table marked ``<!-- settings: SECTION [SECTION…] -->``."""
    found = []
    for name, text in _docs():
        for match in re.finditer(r"<!-- settings: ([a-z_. ]+) -->\n((?:\|.*\n)+)", text):
            rows = match.group(2).splitlines()[2:]  # below the header and its rule
            found += [(name, section, rows) for section in match.group(1).split()]
    return found


@pytest.mark.parametrize(("where", "snippet"), yaml_snippets(), ids=lambda v: v if "#" in str(v) else "")
def test_every_yaml_snippet_of_the_docs_loads(where: str, snippet: str, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(snippet, encoding="utf-8")
    load_settings(config)  # ConfigError (extra keys, bad values) fails the test


def test_the_pipeline_snippet_is_among_them_and_reaches_the_settings(tmp_path: Path) -> None:
    where = {w for w, snippet in yaml_snippets() if "context_frames: false" in snippet}
    assert any(w.startswith("docs/PIPELINE.md") for w in where)
    config = tmp_path / "config.yaml"
    config.write_text("pipeline:\n  context_frames: false\n  embed_budget: 3\n", encoding="utf-8")
    settings = load_settings(config)
    assert settings.pipeline.context_frames is False and settings.pipeline.embed_budget == 3


def test_pipeline_settings_come_from_the_environment_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LFR_PIPELINE__CONTEXT_FRAMES", "false")
    monkeypatch.setenv("LFR_PIPELINE__GIVE_UP_AFTER_S", "2.5")
    settings = load_settings()
    assert settings.pipeline.context_frames is False and settings.pipeline.give_up_after_s == 2.5
    with pytest.raises(ValidationError, match="Extra inputs"):
        Settings.model_validate({"pipeline": {"no_such_knob": 1}})  # still strict


def test_every_lfr_variable_in_the_docs_names_a_setting() -> None:
    named = {m.group(0) for _, text in _docs() for m in re.finditer(r"LFR_[A-Z0-9_]+", text)}
    settings_vars = sorted(named - NOT_SETTINGS)
    assert "LFR_PIPELINE__" in settings_vars  # docs/PIPELINE.md, "Settings"
    unknown = [v for v in settings_vars if not resolves([p.lower() for p in v[4:].rstrip("_").split("__")])]
    assert unknown == []


def test_every_dotted_setting_named_in_the_docs_exists() -> None:
    pattern = re.compile(rf"`((?:{'|'.join(SECTIONS)})(?:\.[a-z_]+)+)`")
    named = {m.group(1) for _, text in _docs() for m in pattern.finditer(text)} - AUDIT_ACTIONS
    assert {"sources.allowed_hosts", "governance.alert_retention_days", "api.trusted_proxies"} <= named
    assert sorted(n for n in named if not resolves(n.split("."))) == []


@pytest.mark.parametrize(("doc", "section", "rows"), settings_tables(), ids=lambda v: v if "/" in str(v) else "")
def test_every_settings_table_names_real_fields(doc: str, section: str, rows: list[str]) -> None:
    base = section.split(".")
    assert resolves(base), f"{doc}: no section {section}"
    for row in rows:
        first = row.split("|")[1]
        keys = re.findall(r"`([^`]+)`", first)
        assert keys, f"{doc}: a row of the {section} table names no setting: {row}"
        assignments = [k for k in keys if ": " in k]
        if assignments:  # `key: value` cells: the combination must be a valid configuration
            default: Any = Settings()
            for part in base:
                default = getattr(default, part)
            # A backend section (detector, embedder) is a union told apart by its `type`: the default's.
            merged: dict[str, Any] = {"type": default.type} if hasattr(default, "type") else {}
            for key in assignments:
                merged.update(yaml.safe_load(key))
            Settings.model_validate(_nest(base, merged))
            continue
        parent: list[str] = []
        for key in keys:
            path = [*parent, *key.lstrip(".").split(".")] if key.startswith(".") else key.split(".")
            assert resolves([*base, *path]), f"{doc}: {section}.{'.'.join(path)} is not a setting"
            parent = path[:-1]


@pytest.mark.parametrize("section", ["pipeline", "sources"])
def test_the_settings_tables_document_every_field(section: str) -> None:
    (rows,) = [rows for _, s, rows in settings_tables() if s == section]
    documented = {key for row in rows for key in re.findall(r"`([a-z_]+)`", row.split("|")[1])}
    fields = set(Settings.model_fields[section].annotation.model_fields)  # type: ignore[union-attr]
    assert fields - documented == set()


def test_the_cluster_settings_tables_document_every_field() -> None:
    from openlfr.config.cluster import ClusterConfig, ClusterTlsConfig

    for section, model in (("cluster", ClusterConfig), ("cluster.tls", ClusterTlsConfig)):
        (rows,) = [rows for _, s, rows in settings_tables() if s == section]
        documented = {key for row in rows for key in re.findall(r"`([a-z_]+)`", row.split("|")[1])}
        assert set(model.model_fields) - documented == set(), section
