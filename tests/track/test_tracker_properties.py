"""Invariants of the face tracker over arbitrary sequences of frames (hypothesis generates the detections)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openlfr.track.tracker import FaceTracker, TrackerConfig, iou_matrix
from openlfr.types import FaceDetections

CONFIG = TrackerConfig()


@st.composite
def frames(draw: st.DrawFn) -> list[FaceDetections]:
    """A short video's detections: faces of 8-120 px anywhere on a 640x480 frame, some confident, some weak,
    the same face drifting a little between frames often enough that tracks continue."""
    count = draw(st.integers(1, 25))
    anchors = draw(st.lists(st.tuples(st.integers(0, 560), st.integers(0, 400), st.integers(8, 120)), max_size=6))
    out = []
    for _ in range(count):
        boxes, scores = [], []
        for x, y, size in anchors:
            if draw(st.booleans()):  # this face is missed in this frame
                continue
            dx, dy = draw(st.integers(-15, 15)), draw(st.integers(-15, 15))
            boxes.append((x + dx, y + dy, x + dx + size, y + dy + size))
            scores.append(draw(st.sampled_from([0.3, 0.6, CONFIG.high_score, 0.9, 0.99])))
        for _ in range(draw(st.integers(0, 2))):  # strangers: a new box anywhere
            x, y, size = draw(st.integers(0, 600)), draw(st.integers(0, 440)), draw(st.integers(8, 120))
            boxes.append((x, y, x + size, y + size))
            scores.append(draw(st.floats(0.0, 1.0, width=32)))
        out.append(detections(boxes, scores))
    return out


def detections(boxes: list[tuple[int, int, int, int]], scores: list[float]) -> FaceDetections:
    if not boxes:
        return FaceDetections.empty()
    n = len(boxes)
    return FaceDetections(np.array(boxes, np.float32), np.array(scores, np.float32), np.zeros((n, 5, 2), np.float32))


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(frames())
def test_assignment_invariants_hold_on_every_frame(video: list[FaceDetections]) -> None:
    tracker = FaceTracker(CONFIG)
    ever_assigned: set[int] = set()
    ended_before: set[int] = set()
    highest = 0
    for dets in video:
        active_before = set(tracker.active)
        update = tracker.update(dets)
        ids = [int(i) for i in update.track_ids]
        assert len(ids) == len(dets) == len(update.confirmed)
        assigned = [i for i in ids if i >= 0]
        assert len(assigned) == len(set(assigned)), "two faces of one frame share a track"
        for index, track_id in enumerate(ids):
            strong = dets.scores[index] >= CONFIG.high_score
            if strong:
                assert track_id >= 1, "a confident detection is always tracked"
            if track_id < 0:
                assert not update.confirmed[index], "an untracked detection cannot be confirmed"
            elif not strong:
                assert track_id in active_before, "a weak detection only continues a live track, never starts one"
            if track_id not in active_before and track_id >= 0:
                assert track_id > highest, "a new track gets a fresh, larger id"
                assert not update.confirmed[index], "a track seen once is not confirmed (min_hits 2)"
        assert not (set(assigned) & ended_before), "an ended track never comes back"
        assert set(update.ended) <= active_before - set(assigned), "only a track unseen this frame ends"
        assert set(tracker.active) == (active_before | set(assigned)) - set(update.ended)
        ever_assigned |= set(assigned)
        ended_before |= set(update.ended)
        highest = max([highest, *assigned])
    assert tracker.tracks_started == len(ever_assigned), "every started track was given to a detection"


@settings(max_examples=30, deadline=None)
@given(frames())
def test_every_track_ends_after_max_age_frames_unseen_and_end_all_clears(video: list[FaceDetections]) -> None:
    tracker = FaceTracker(CONFIG)
    for dets in video:
        tracker.update(dets)
    live = set(tracker.active)
    ended: set[int] = set()
    for step in range(CONFIG.max_age + 1):
        update = tracker.update(FaceDetections.empty())
        ended |= set(update.ended)
        if step < CONFIG.max_age:
            assert set(tracker.active) | ended == live  # nothing is lost or invented while waiting
    assert tracker.active == () and ended == live
    tracker.update(video[0])
    live_now = set(tracker.active)
    assert set(tracker.end_all()) == live_now and tracker.active == ()


boxes_strategy = st.lists(
    st.tuples(st.integers(0, 500), st.integers(0, 500), st.integers(1, 200), st.integers(1, 200)).map(
        lambda b: (b[0], b[1], b[0] + b[2], b[1] + b[3])
    ),
    min_size=1,
    max_size=8,
)


@given(boxes_strategy, boxes_strategy)
def test_iou_is_symmetric_bounded_and_one_on_itself(a: list[tuple[int, ...]], b: list[tuple[int, ...]]) -> None:
    left, right = np.array(a, np.float32), np.array(b, np.float32)
    iou = iou_matrix(left, right)
    assert iou.shape == (len(a), len(b))
    assert np.all(iou >= 0) and np.all(iou <= 1 + 1e-6)
    np.testing.assert_allclose(iou, iou_matrix(right, left).T, atol=1e-6)
    np.testing.assert_allclose(np.diag(iou_matrix(left, left)), 1.0, atol=1e-6)
