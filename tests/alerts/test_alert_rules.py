from __future__ import annotations

import pytest

from openlfr.alerts.rules import Candidate, DecisionPolicy, Outcome, decide, in_cooldown, passes_margin

POLICY = DecisionPolicy(threshold=0.5, margin=0.05, min_evidence=2, cooldown_s=60.0)


def judge(candidate: Candidate | None, alerted: frozenset[str] = frozenset(), last: dict[str, float] | None = None):
    return decide(candidate, POLICY, alerted_subjects=alerted, last_alert_at=last or {}, now=100.0)


def test_strong_consistent_candidate_alerts() -> None:
    decision = judge(Candidate("alice", 0.62, 0.30, 3))
    assert decision.alert
    assert decision.outcome is Outcome.ALERT


@pytest.mark.parametrize(
    ("candidate", "outcome"),
    [
        (None, Outcome.NO_CANDIDATE),
        (Candidate("alice", 0.49, 0.1, 5), Outcome.BELOW_THRESHOLD),
        (Candidate("alice", 0.60, 0.57, 5), Outcome.AMBIGUOUS),
        (Candidate("alice", 0.60, 0.20, 1), Outcome.INSUFFICIENT_EVIDENCE),
    ],
)
def test_each_rule_blocks_on_its_own(candidate: Candidate | None, outcome: Outcome) -> None:
    decision = judge(candidate)
    assert decision.outcome is outcome
    assert not decision.alert


def test_threshold_is_inclusive_and_single_subject_watchlist_has_no_margin() -> None:
    assert judge(Candidate("alice", 0.5, None, 2)).alert
    assert passes_margin(0.5, None, POLICY)


def test_one_alert_per_track_and_subject() -> None:
    assert judge(Candidate("alice", 0.7, 0.2, 4), alerted=frozenset({"alice"})).outcome is Outcome.ALREADY_ALERTED
    assert judge(Candidate("bob", 0.7, 0.2, 4), alerted=frozenset({"alice"})).alert


def test_cooldown_per_subject() -> None:
    assert judge(Candidate("alice", 0.7, 0.2, 4), last={"alice": 50.0}).outcome is Outcome.COOLDOWN
    assert judge(Candidate("alice", 0.7, 0.2, 4), last={"alice": 39.9}).alert  # 60.1 s ago
    assert judge(Candidate("alice", 0.7, 0.2, 4), last={"bob": 99.0}).alert


def test_cooldown_forgets_when_the_clock_restarts() -> None:
    # A looping file starts its media clock again at 0: the earlier alert must not silence it for ever.
    assert not in_cooldown(500.0, 3.0, POLICY)
    assert in_cooldown(3.0, 5.0, POLICY)
    assert not in_cooldown(None, 5.0, POLICY)
