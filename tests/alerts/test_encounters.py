"""Grouping alerts into encounters: same subject, camera and deployment, each within the gap of the previous."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from openlfr.alerts.encounters import MemberRow, group

T0 = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)


def row(
    seq: int,
    minute: float,
    subject: str | None = "s1",
    source: str = "cam1",
    deployment: str = "d1",
    score: float = 0.6,
    status: str = "pending",
) -> MemberRow:
    return MemberRow(f"a{seq}", seq, subject, source, deployment, T0 + timedelta(minutes=minute), score, status, 1)


def test_repeats_within_the_gap_are_one_encounter_and_a_long_gap_starts_another() -> None:
    rows = [row(1, 0), row(2, 1), row(3, 5.9), row(4, 12)]  # gaps: 1, 4.9, 6.1 minutes
    encounters = group(rows, gap_s=300)
    assert [[m.seq for m in e.members] for e in encounters] == [[1, 2, 3], [4]]
    assert encounters[0].key == "a1" and encounters[0].newest.seq == 3


def test_alerts_stored_out_of_time_order_still_group_by_their_times() -> None:
    rows = [row(1, 30), row(2, 20), row(3, 19), row(4, 10)]  # newest first in time, as two cameras might store
    assert [[m.seq for m in e.members] for e in group(rows, gap_s=300)] == [[1], [2, 3], [4]]


def test_subject_camera_and_deployment_each_separate_encounters() -> None:
    rows = [row(1, 0), row(2, 0.1, subject="s2"), row(3, 0.2, source="cam2"), row(4, 0.3, deployment="d2"), row(5, 0.4)]
    encounters = group(rows, gap_s=300)
    assert [[m.seq for m in e.members] for e in encounters] == [[1, 5], [2], [3], [4]]


def test_alerts_of_erased_subjects_are_never_grouped() -> None:
    encounters = group([row(1, 0, subject=None), row(2, 0.1, subject=None)], gap_s=300)
    assert [len(e.members) for e in encounters] == [1, 1]


def test_best_face_and_status_that_most_needs_an_officer() -> None:
    encounter = group(
        [row(1, 0, score=0.7, status="rejected"), row(2, 1, score=0.9, status="confirmed"), row(3, 2, score=0.9)], 300
    )[0]
    assert encounter.best.seq == 3  # highest score, newest of equals
    assert encounter.status == "pending"
    decided = group([row(1, 0, status="rejected"), row(2, 1, status="confirmed")], 300)[0]
    assert decided.status == "confirmed"
