"""The ``eval`` extra (matplotlib, scipy): the service never needs it; evaluation says which extra to install."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from openlfr.eval.calibrate import fit_tail
from openlfr.eval.metrics import ErrorCurve
from openlfr.eval.plot import plot_det
from openlfr.optional import MissingExtraError
from openlfr.reports.transparency import TransparencyReport, to_html

BLOCK = "import sys; [sys.modules.__setitem__(m, None) for m in ('matplotlib', 'scipy')]; "


@pytest.fixture
def without_eval_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if matplotlib and scipy were not installed (an import of them raises ImportError)."""
    for name in [m for m in sys.modules if m.split(".")[0] in {"matplotlib", "scipy"}]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "scipy", None)


@pytest.mark.slow
def test_the_service_and_the_pipeline_import_without_the_extra() -> None:
    modules = (
        "openlfr.cli, openlfr.api.app, openlfr.api.factory, openlfr.commands.serve, openlfr.service.supervisor, "
        "openlfr.service.monitor, openlfr.pipeline.app"
    )
    code = BLOCK + f"import {modules}; import openlfr.eval.calibrate, openlfr.reports.transparency"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


@pytest.mark.usefixtures("without_eval_extra")
def test_calibration_names_the_extra_it_needs() -> None:
    impostor = np.random.default_rng(0).normal(0.0, 0.1, 5000)
    with pytest.raises(MissingExtraError, match=r"scipy.*pip install 'openlfr\[eval\]'") as caught:
        fit_tail(impostor)
    assert caught.value.code == "extra_missing"


@pytest.mark.usefixtures("without_eval_extra")
def test_det_plot_names_the_extra_it_needs(tmp_path: Path) -> None:
    curve = ErrorCurve(np.array([0.3, 0.5]), np.array([0.1, 0.01]), np.array([0.01, 0.1]))
    with pytest.raises(MissingExtraError, match=r"matplotlib.*openlfr\[eval\]"):
        plot_det({"x": curve}, tmp_path / "det.png", x_label="FAR", y_label="FRR", title="t")
    assert not (tmp_path / "det.png").exists()


@pytest.mark.usefixtures("without_eval_extra")
def test_transparency_report_without_charts_still_carries_every_figure() -> None:
    report = TransparencyReport(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC), (), {"draft": 1})
    page = to_html(report)
    assert "Charts not drawn" in page and "openlfr[eval]" in page
    assert "<table>" in page and "data:image/png" not in page
