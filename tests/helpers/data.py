"""Where the shared sample data lives (read-only; never copied into the repository)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def shared_data() -> Path:
    """``$LFR_SHARED_DATA`` or ``<repo>/../shared/data``; skips the test when absent (fails under CI)."""
    path = Path(os.environ.get("LFR_SHARED_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"))
    if not path.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"shared sample data not found at {path} (CI must have it)")
        pytest.skip(f"shared sample data not found at {path}")
    return path
