"""Loads settings from an optional YAML file; environment variables override it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from openlfr.config.models import Settings
from openlfr.errors import ConfigError


def load_settings(path: Path | None = None) -> Settings:
    """Settings from ``path`` (or ``$LFR_CONFIG``), with ``LFR_*`` environment overrides applied on top."""
    source = path or (Path(os.environ["LFR_CONFIG"]) if os.environ.get("LFR_CONFIG") else None)
    data: dict[str, Any] = {}
    if source is not None:
        try:
            loaded = yaml.safe_load(source.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config file {source}: {exc.strerror}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {source} is not valid YAML: {exc}") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"config file {source} must hold a mapping at the top level")
        data = loaded or {}
    try:
        # pydantic-settings gives init kwargs priority over env; we want env to win over the file.
        from_env = Settings()
        merged = _deep_merge(data, from_env.model_dump(exclude_unset=True))
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration: {exc}") from exc


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
