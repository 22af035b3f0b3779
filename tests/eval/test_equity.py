"""Per-group error rates and differential flags."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tests.helpers.data import shared_data

from openlfr.cli import main
from openlfr.errors import DatasetError
from openlfr.eval.equity import ProbeGroups, equity_range, group_report, read_groups
from openlfr.eval.identify import ProbeResults


def _results(mated_scores: list[float], correct: list[bool], nonmated: list[float]) -> ProbeResults:
    return ProbeResults(np.array(mated_scores), np.array(correct), np.array(nonmated), ("x",))


def test_rates_per_group_by_hand() -> None:
    # Group a: mated 0.9 (hit), 0.4 (miss at 0.5); non-mated 0.6 (false positive), 0.1.
    # Group b: mated 0.8 (wrong candidate → miss); non-mated 0.2.
    results = _results([0.9, 0.4, 0.8], [True, True, False], [0.6, 0.1, 0.2])
    probes = ProbeGroups(mated=("p1", "p1", "p2"), nonmated=("q1", "q1", "q2"))
    groups = {"sex": {"p1": "a", "q1": "a", "p2": "b", "q2": "b"}}
    report, curves = group_report(groups, probes, results, threshold=0.5)
    a, b = report["sex"]["groups"]["a"], report["sex"]["groups"]["b"]
    assert a["fnir"]["rate"] == 0.5 and a["fnir"]["n"] == 2 and a["fpir"]["rate"] == 0.5
    assert b["fnir"]["rate"] == 1.0 and b["fpir"]["rate"] == 0.0
    assert set(curves["sex"]) == {"a", "b"}
    assert report["sex"]["flags"] == []  # n = 1 or 2: intervals far too wide to tell


def test_clear_differentials_are_flagged() -> None:
    n = 400
    scores = np.full(2 * n, 0.9)
    correct = np.array([True] * n + [True] * (n // 2) + [False] * (n // 2))
    results = ProbeResults(scores, correct, np.zeros(2 * n), ("x",))
    probes = ProbeGroups(mated=("a",) * n + ("b",) * n, nonmated=("a",) * n + ("b",) * n)
    report, _ = group_report({"skin": {"a": "light", "b": "dark"}}, probes, results, threshold=0.5)
    assert report["skin"]["groups"]["dark"]["fnir"]["rate"] == 0.5
    assert len(report["skin"]["flags"]) == 1 and "FNIR differs" in report["skin"]["flags"][0]


def test_unassigned_identities_form_their_own_group() -> None:
    results = _results([0.9], [True], [0.1])
    report, _ = group_report({"age": {}}, ProbeGroups(("p",), ("q",)), results, threshold=0.5)
    assert set(report["age"]["groups"]) == {"unassigned"}


def test_groups_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "g.csv"
    bad.write_text("name,sex\nx,f\n")
    with pytest.raises(DatasetError, match="identity"):
        read_groups(bad)
    with pytest.raises(DatasetError, match="cannot read"):
        read_groups(tmp_path / "missing.csv")


@pytest.mark.model
def test_identify_with_groups_on_real_faces(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    dataset = shared_data() / "faces" / "deepface"
    # No real demographic labels ship with the data: assign groups by identity number, for the test only.
    groups = tmp_path / "groups.csv"
    rows = [f"{p.name},{'odd' if int(p.name[2:]) % 2 else 'even'}" for p in sorted(dataset.iterdir())]
    groups.write_text("identity,fixture_group\n" + "\n".join(rows) + "\n")
    plot = tmp_path / "groups.png"
    args = ["eval", "identify", str(dataset), "--groups", str(groups), "--json", "--plot", str(plot)]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    by_group = report["groups"]["fixture_group"]["groups"]
    assert set(by_group) == {"odd", "even"}
    assert sum(g["fnir"]["n"] for g in by_group.values()) == report["mated_probes"]
    assert sum(g["fpir"]["n"] for g in by_group.values()) == report["nonmated_probes"]
    assert report["group_threshold"] == report["threshold_at_fpir"]["0.01"]
    assert plot.read_bytes()[:4] == b"\x89PNG"


def _two_groups(
    n: int, a_genuine: np.ndarray, b_genuine: np.ndarray, a_impostor: np.ndarray, b_impostor: np.ndarray
) -> tuple[ProbeResults, ProbeGroups]:
    results = ProbeResults(
        np.concatenate([a_genuine, b_genuine]),
        np.ones(2 * n, bool),
        np.concatenate([a_impostor, b_impostor]),
        ("x",),
    )
    probes = ProbeGroups(mated=("a",) * n + ("b",) * n, nonmated=("a",) * n + ("b",) * n)
    return results, probes


def test_equity_range_is_where_no_differential_is_flagged() -> None:
    # Half of each group's genuine scores sit below 0.6: group a's in [0.55, 0.6), group b's spread over
    # [0.3, 0.6). Below 0.55 group b is clearly missed more; from 0.6 on both groups miss alike. Impostor
    # scores are alike (no FPIR differential anywhere).
    n = 400
    grid = np.linspace(0.0, 1.0, n, endpoint=False)
    a_genuine = np.where(grid < 0.5, 0.55 + 0.1 * grid, 0.6 + 0.8 * (grid - 0.5))
    b_genuine = np.where(grid < 0.5, 0.3 + 0.6 * grid, 0.6 + 0.8 * (grid - 0.5))
    impostor = 0.5 * grid
    results, probes = _two_groups(n, a_genuine, b_genuine, impostor, impostor.copy())
    found = equity_range("sex", {"a": "F", "b": "M"}, probes, results)
    assert found.intervals and found.widest is not None
    low, high = found.widest
    assert 0.5 <= low <= 0.6 and high >= 0.85
    assert found.contains(0.7) and not found.contains(0.45)
    block = found.as_dict("lfw")
    assert block is not None and (block["attribute"], block["dataset"]) == ("sex", "lfw")
    assert (block["low"], block["high"]) == found.widest
    assert found.scanned[0] <= low and found.step == 0.005


def test_no_equity_range_when_every_threshold_is_flagged() -> None:
    n = 400
    grid = np.linspace(0.0, 1.0, n, endpoint=False)
    # Group b is always missed (wrong candidate), group a always found: flagged at every threshold.
    results = ProbeResults(
        np.concatenate([0.5 + 0.5 * grid, 0.5 + 0.5 * grid]),
        np.array([True] * n + [False] * n),
        np.concatenate([0.5 * grid, 0.5 * grid]),
        ("x",),
    )
    probes = ProbeGroups(mated=("a",) * n + ("b",) * n, nonmated=("a",) * n + ("b",) * n)
    found = equity_range("sex", {"a": "F", "b": "M"}, probes, results)
    assert found.intervals == () and found.widest is None and found.as_dict("x") is None
