"""Invariants of the audit chain's canonical form and entry hash, for any details an entry may hold."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openlfr.audit.chain import AuditError, _check_details, canonical_json, entry_hash

# What append_audit accepts as details: JSON values of short texts, ints, finite floats, bools and null.
keys = st.text(min_size=1, max_size=12).filter(lambda k: k.lower() not in {"embedding", "vector", "image", "face"})
leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
values = st.recursive(
    leaves, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=5), max_leaves=20
)
details_st = st.dictionaries(keys, values, max_size=6)
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
hashes = st.text("0123456789abcdef", min_size=64, max_size=64)


def _shuffled(value: Any, order: list[int]) -> Any:
    """The same value with every object's keys in another order."""
    if isinstance(value, dict):
        items = list(value.items())
        if items:
            k = order[len(items) % len(order)] % len(items)
            items = items[k:] + items[:k]
            items.reverse()
        return {key: _shuffled(item, order) for key, item in items}
    if isinstance(value, list):
        return [_shuffled(item, order) for item in value]
    return value


def _hash(details: dict[str, Any], **fields: Any) -> str:
    entry: dict[str, Any] = {
        "seq": 1,
        "at": datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
        "actor": "user:ann",
        "action": "thing.done",
        "target_type": "thing",
        "target_id": "t1",
        "prev_hash": "0" * 64,
    }
    entry.update(fields)
    return entry_hash(details_json=canonical_json(details), **entry)


@settings(max_examples=50)
@given(details_st, st.lists(st.integers(0, 100), min_size=1, max_size=4))
def test_canonical_form_ignores_key_order_and_round_trips(details: dict[str, Any], order: list[int]) -> None:
    _check_details(details, "details")  # the generated values are what the chain accepts
    text = canonical_json(details)
    assert canonical_json(_shuffled(details, order)) == text
    assert json.loads(text) == details
    assert canonical_json(json.loads(text)) == text  # a fixed point: re-canonicalising changes nothing


@settings(max_examples=50)
@given(details_st, st.lists(st.integers(0, 100), min_size=1, max_size=4), instants, st.integers(-12, 14))
def test_hash_depends_on_content_not_on_key_order_or_time_zone(
    details: dict[str, Any], order: list[int], at: datetime, offset_h: int
) -> None:
    elsewhere = at.astimezone(timezone(timedelta(hours=offset_h)))
    assert _hash(details, at=at) == _hash(_shuffled(details, order), at=elsewhere)
    digest = _hash(details, at=at)
    assert len(digest) == 64 and int(digest, 16) >= 0


@settings(max_examples=50)
@given(details_st, details_st)
def test_different_details_give_different_hashes(a: dict[str, Any], b: dict[str, Any]) -> None:
    if canonical_json(a) != canonical_json(b):
        assert _hash(a) != _hash(b)


@settings(max_examples=50)
@given(
    details_st,
    st.sampled_from(["seq", "at", "actor", "action", "target_type", "target_id", "prev_hash"]),
    st.integers(2, 10**9),
    st.text(min_size=1, max_size=20),
    hashes,
)
def test_every_hashed_field_changes_the_hash(
    details: dict[str, Any], field: str, seq: int, word: str, prev: str
) -> None:
    changed: dict[str, Any] = {
        "seq": seq,
        "at": datetime(2026, 11, 27, 12, 0, tzinfo=UTC) + timedelta(microseconds=seq),
        "actor": f"user:{word}!",
        "action": f"{word}.done!",
        "target_type": f"{word}!",
        "target_id": None if word == "t1" else f"{word}?",
        "prev_hash": prev if prev != "0" * 64 else "1" * 64,
    }
    assert _hash(details, **{field: changed[field]}) != _hash(details)


@settings(max_examples=50)
@given(st.sampled_from([float("nan"), float("inf"), float("-inf")]))
def test_non_finite_numbers_have_no_canonical_form(value: float) -> None:
    with pytest.raises(ValueError):
        canonical_json({"x": value})
    with pytest.raises(AuditError, match="finite"):
        _check_details({"x": [value]}, "details")
