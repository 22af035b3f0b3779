"""Invariants of the decision rules for any candidate, policy and history (hypothesis generates them)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from openlfr.alerts.rules import (
    Candidate,
    DecisionPolicy,
    Outcome,
    decide,
    has_evidence,
    in_cooldown,
    passes_margin,
    passes_threshold,
)

SUBJECTS = ("alice", "bob", "carol")
scores = st.floats(-1.0, 1.0, allow_nan=False)
times = st.floats(-1e6, 1e6, allow_nan=False)

policies = st.builds(
    DecisionPolicy,
    threshold=scores,
    margin=st.floats(0.0, 0.5, allow_nan=False),
    min_evidence=st.integers(1, 5),
    cooldown_s=st.floats(0.0, 600.0, allow_nan=False),
)
candidates = st.builds(
    Candidate,
    subject_id=st.sampled_from(SUBJECTS),
    score=scores,
    second_score=st.none() | scores,
    evidence=st.integers(0, 8),
)
histories = st.fixed_dictionaries(
    {
        "alerted_subjects": st.frozensets(st.sampled_from(SUBJECTS)),
        "last_alert_at": st.dictionaries(st.sampled_from(SUBJECTS), times),
        "now": times,
    }
)

# The rules in the order decide() applies them, each with the outcome it names when it fails.
RULES = (
    (Outcome.BELOW_THRESHOLD, lambda c, p, h: passes_threshold(c.score, p)),
    (Outcome.AMBIGUOUS, lambda c, p, h: passes_margin(c.score, c.second_score, p)),
    (Outcome.INSUFFICIENT_EVIDENCE, lambda c, p, h: has_evidence(c.evidence, p)),
    (Outcome.ALREADY_ALERTED, lambda c, p, h: c.subject_id not in h["alerted_subjects"]),
    (Outcome.COOLDOWN, lambda c, p, h: not in_cooldown(h["last_alert_at"].get(c.subject_id), h["now"], p)),
)


@given(candidates, policies, histories)
def test_the_outcome_names_the_first_rule_that_fails_and_only_a_clean_pass_alerts(
    candidate: Candidate, policy: DecisionPolicy, history: dict[str, object]
) -> None:
    decision = decide(candidate, policy, **history)  # type: ignore[arg-type]
    failed = [outcome for outcome, holds in RULES if not holds(candidate, policy, history)]
    assert decision.outcome is (failed[0] if failed else Outcome.ALERT)
    assert decision.alert == (not failed)
    assert decision.candidate is candidate
    if decision.alert:  # never an alert below the threshold, on one face, or twice for one track and subject
        assert candidate.score >= policy.threshold
        assert candidate.evidence >= policy.min_evidence >= 1
        assert candidate.subject_id not in history["alerted_subjects"]  # type: ignore[operator]


@given(policies, histories)
def test_no_candidate_never_alerts(policy: DecisionPolicy, history: dict[str, object]) -> None:
    decision = decide(None, policy, **history)  # type: ignore[arg-type]
    assert decision.outcome is Outcome.NO_CANDIDATE and decision.candidate is None and not decision.alert


@given(candidates, policies, histories, st.floats(0.0, 1.0, allow_nan=False), st.integers(0, 4))
def test_stronger_evidence_never_withdraws_an_alert(
    candidate: Candidate, policy: DecisionPolicy, history: dict[str, object], gain: float, more: int
) -> None:
    """Raising the best score (the runner-up unchanged) or adding faces never turns an alert into none."""
    if not decide(candidate, policy, **history).alert:  # type: ignore[arg-type]
        return
    stronger = Candidate(
        candidate.subject_id, candidate.score + gain, candidate.second_score, candidate.evidence + more
    )
    assert decide(stronger, policy, **history).alert  # type: ignore[arg-type]


@given(candidates, policies, histories, st.floats(0.0, 1.0, allow_nan=False), st.floats(0.0, 0.5, allow_nan=False))
def test_a_stricter_policy_never_adds_an_alert(
    candidate: Candidate, policy: DecisionPolicy, history: dict[str, object], raise_by: float, margin_by: float
) -> None:
    stricter = DecisionPolicy(
        policy.threshold + raise_by, policy.margin + margin_by, policy.min_evidence + 1, policy.cooldown_s * 2
    )
    if decide(candidate, stricter, **history).alert:  # type: ignore[arg-type]
        assert decide(candidate, policy, **history).alert  # type: ignore[arg-type]


@given(st.none() | times, times, policies)
def test_cooldown_only_covers_the_window_after_an_alert_on_a_forward_running_clock(
    last: float | None, now: float, policy: DecisionPolicy
) -> None:
    cooling = in_cooldown(last, now, policy)
    if last is None or now < last or now - last >= policy.cooldown_s:
        assert not cooling  # never alerted, the clock restarted (a looping file), or the window is over
    else:
        assert cooling
