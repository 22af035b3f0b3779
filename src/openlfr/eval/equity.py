"""Per-group error rates (demographic differentials) for open-set identification.

Groups come from a CSV: an ``identity`` column plus one column per attribute (e.g. sex, age_band,
skin_tone). For each attribute and group, at one threshold: FNIR over the group's mated probes and
FPIR over its non-mated probes, each with a Wilson 95 % interval. A differential is *flagged* when
two groups' intervals do not overlap — a conservative test (non-overlap implies a significant
difference; overlap does not prove equality, so small groups are reported with wide intervals).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from openlfr.errors import DatasetError
from openlfr.eval.calibrate import wilson_interval
from openlfr.eval.identify import ProbeResults, Split
from openlfr.eval.metrics import ErrorCurve, open_set_curve

IDENTITY_COLUMN = "identity"


def read_groups(path: Path) -> dict[str, dict[str, str]]:
    """attribute → {identity → group}; identities missing from the file are reported as 'unassigned'."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            fields = reader.fieldnames or []
            if IDENTITY_COLUMN not in fields or len(fields) < 2:
                raise DatasetError(f"{path}: needs an '{IDENTITY_COLUMN}' column and at least one group column")
            attributes = [f for f in fields if f != IDENTITY_COLUMN]
            groups: dict[str, dict[str, str]] = {a: {} for a in attributes}
            for line, row in enumerate(reader, start=2):
                identity = (row.get(IDENTITY_COLUMN) or "").strip()
                if not identity:
                    raise DatasetError(f"{path}:{line}: empty identity")
                for attribute in attributes:
                    groups[attribute][identity] = (row.get(attribute) or "").strip() or "unassigned"
    except OSError as exc:
        raise DatasetError(f"cannot read groups file {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text") from exc
    return groups


@dataclass(frozen=True, slots=True)
class Rate:
    errors: int
    trials: int

    def as_dict(self) -> dict[str, Any]:
        low, high = wilson_interval(self.errors, self.trials)
        return {"rate": self.errors / self.trials if self.trials else None, "ci95": [low, high], "n": self.trials}


@dataclass(frozen=True, slots=True)
class ProbeGroups:
    """Per probe (same order as ProbeResults), the identity it belongs to."""

    mated: tuple[str, ...]
    nonmated: tuple[str, ...]


def probe_identities(split: Split, usable: set[Path]) -> ProbeGroups:
    return ProbeGroups(
        tuple(i.identity for i in split.mated_probes if i.path in usable),
        tuple(i.identity for i in split.nonmated_probes if i.path in usable),
    )


@dataclass(frozen=True, slots=True)
class GroupRows:
    """Per group of one attribute: the rows of its mated and non-mated probes."""

    mated: dict[str, list[int]]
    nonmated: dict[str, list[int]]

    @property
    def names(self) -> list[str]:
        return sorted(set(self.mated) | set(self.nonmated))


def group_rows(assignment: dict[str, str], probes: ProbeGroups) -> GroupRows:
    mated_by: dict[str, list[int]] = defaultdict(list)
    nonmated_by: dict[str, list[int]] = defaultdict(list)
    for row, identity in enumerate(probes.mated):
        mated_by[assignment.get(identity, "unassigned")].append(row)
    for row, identity in enumerate(probes.nonmated):
        nonmated_by[assignment.get(identity, "unassigned")].append(row)
    return GroupRows(dict(mated_by), dict(nonmated_by))


def group_rates(rows: GroupRows, results: ProbeResults, threshold: float) -> dict[str, dict[str, Any]]:
    """Per group: FNIR and FPIR at ``threshold`` with Wilson 95 % intervals."""
    hits = results.mated_top_correct & (results.mated_top_scores >= threshold)
    false_positives = results.nonmated_top_scores >= threshold
    per_group: dict[str, dict[str, Any]] = {}
    for group in rows.names:
        mated_rows, nonmated_rows = rows.mated.get(group, []), rows.nonmated.get(group, [])
        fnir = Rate(int(np.count_nonzero(~hits[mated_rows])), len(mated_rows))
        fpir = Rate(int(np.count_nonzero(false_positives[nonmated_rows])), len(nonmated_rows))
        per_group[group] = {"fnir": fnir.as_dict(), "fpir": fpir.as_dict()}
    return per_group


def group_report(
    groups: dict[str, dict[str, str]], probes: ProbeGroups, results: ProbeResults, threshold: float
) -> tuple[dict[str, Any], dict[str, dict[str, ErrorCurve]]]:
    """Per attribute: per-group FNIR/FPIR at ``threshold`` and flagged differentials; and DET curves."""
    report: dict[str, Any] = {}
    curves: dict[str, dict[str, ErrorCurve]] = {}
    for attribute, assignment in groups.items():
        rows = group_rows(assignment, probes)
        per_group = group_rates(rows, results, threshold)
        curves[attribute] = {}
        for group in rows.names:
            mated_rows, nonmated_rows = rows.mated.get(group, []), rows.nonmated.get(group, [])
            if mated_rows and nonmated_rows:
                curves[attribute][group] = open_set_curve(
                    results.mated_top_scores[mated_rows],
                    results.mated_top_correct[mated_rows],
                    results.nonmated_top_scores[nonmated_rows],
                )
        report[attribute] = {"groups": per_group, "flags": _flags(per_group)}
    return report, curves


# Where the search for an equity range looks: from the threshold at overall FPIR 10 % (below it, a system alerts
# on one passer-by in ten and rates saturate towards "everyone fails alike") up to where overall FNIR reaches
# 90 % (beyond it the system misses nearly everyone, alike). Thresholds in between are the operating region.
EQUITY_SCAN_FPIR = 0.1
EQUITY_SCAN_FNIR = 0.9
EQUITY_SCAN_STEP = 0.005


@dataclass(frozen=True, slots=True)
class EquityRange:
    """The thresholds at which no differential between the groups of ``attribute`` is significant (no flag)."""

    attribute: str
    intervals: tuple[tuple[float, float], ...]
    """every run of scanned thresholds without a flag, ascending"""
    scanned: tuple[float, float]
    step: float

    @property
    def widest(self) -> tuple[float, float] | None:
        return max(self.intervals, key=lambda i: (i[1] - i[0], -i[0])) if self.intervals else None

    def contains(self, threshold: float) -> bool:
        return any(low - 1e-9 <= threshold <= high + 1e-9 for low, high in self.intervals)

    def as_dict(self, dataset: str) -> dict[str, Any] | None:
        """The ``equity_range`` block of ``lfr calibrate --json`` (None when every scanned threshold is flagged)."""
        widest = self.widest
        if widest is None:
            return None
        return {
            "attribute": self.attribute,
            "low": widest[0],
            "high": widest[1],
            "dataset": dataset,
            "intervals": [list(i) for i in self.intervals],
            "scanned": list(self.scanned),
            "step": self.step,
        }


def equity_range(attribute: str, assignment: dict[str, str], probes: ProbeGroups, results: ProbeResults) -> EquityRange:
    """Scan thresholds (``EQUITY_SCAN_STEP`` apart, over the operating region) for flagged differentials."""
    curve = open_set_curve(results.mated_top_scores, results.mated_top_correct, results.nonmated_top_scores)
    low = float(curve.thresholds[np.argmax(curve.false_accept <= EQUITY_SCAN_FPIR)])
    reaching = curve.false_reject >= EQUITY_SCAN_FNIR
    high = float(curve.thresholds[np.argmax(reaching)]) if reaching.any() else float(curve.thresholds[-1])
    rows = group_rows(assignment, probes)
    grid = np.arange(np.ceil(low / EQUITY_SCAN_STEP), np.floor(high / EQUITY_SCAN_STEP) + 1)
    intervals: list[tuple[float, float]] = []
    start: float | None = None
    previous = 0.0
    for threshold in (round(float(g) * EQUITY_SCAN_STEP, 6) for g in grid):
        clear = not _flags(group_rates(rows, results, threshold))
        if clear and start is None:
            start = threshold
        if not clear and start is not None:
            intervals.append((start, previous))
            start = None
        previous = threshold
    if start is not None:
        intervals.append((start, previous))
    return EquityRange(attribute, tuple(intervals), (round(low, 6), round(high, 6)), EQUITY_SCAN_STEP)


def _flags(per_group: dict[str, dict[str, Any]]) -> list[str]:
    flags = []
    names = sorted(per_group)
    for metric in ("fnir", "fpir"):
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                a, b = per_group[first][metric], per_group[second][metric]
                if a["n"] and b["n"] and (a["ci95"][1] < b["ci95"][0] or b["ci95"][1] < a["ci95"][0]):
                    flags.append(
                        f"{metric.upper()} differs between '{first}' ({a['rate']:.4f}) and '{second}' "
                        f"({b['rate']:.4f}) beyond their 95% intervals"
                    )
    return flags
