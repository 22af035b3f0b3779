from __future__ import annotations

import numpy as np

from openlfr.track.tracker import FaceTracker, TrackerConfig, iou_matrix
from openlfr.types import FaceDetections


def dets(*boxes: tuple[float, float, float, float], score: float = 0.9) -> FaceDetections:
    if not boxes:
        return FaceDetections.empty()
    array = np.array(boxes, np.float32)
    return FaceDetections(array, np.full(len(boxes), score, np.float32), np.zeros((len(boxes), 5, 2), np.float32))


def test_iou_matrix_known_values() -> None:
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], np.float32)
    np.testing.assert_allclose(iou_matrix(a, b), [[1.0, 50 / 150, 0.0]], rtol=1e-6)


def test_moving_face_keeps_one_track_and_is_confirmed_on_second_hit() -> None:
    tracker = FaceTracker(TrackerConfig(min_hits=2))
    first = tracker.update(dets((0, 0, 40, 40)))
    assert not first.confirmed[0]
    ids = {int(first.track_ids[0])}
    for step in range(1, 20):  # 12 px per frame: IoU with the previous box drops to ~0.5
        update = tracker.update(dets((12 * step, 0, 12 * step + 40, 40)))
        ids.add(int(update.track_ids[0]))
        assert update.confirmed[0]
    assert len(ids) == 1
    assert tracker.tracks_started == 1


def test_two_people_crossing_paths_side_by_side_keep_their_ids() -> None:
    tracker = FaceTracker()
    update = tracker.update(dets((0, 0, 40, 40), (200, 0, 240, 40)))
    left, right = (int(t) for t in update.track_ids)
    for step in range(1, 8):
        update = tracker.update(dets((10 * step, 0, 10 * step + 40, 40), (200 - 10 * step, 0, 240 - 10 * step, 40)))
        assert [int(t) for t in update.track_ids] == [left, right]


def test_track_survives_short_gap_and_ends_after_max_age() -> None:
    tracker = FaceTracker(TrackerConfig(max_age=3))
    track_id = int(tracker.update(dets((0, 0, 40, 40))).track_ids[0])
    for _ in range(3):
        assert tracker.update(dets()).ended == ()
    assert int(tracker.update(dets((2, 0, 42, 40))).track_ids[0]) == track_id
    ended: tuple[int, ...] = ()
    for _ in range(4):
        ended += tracker.update(dets()).ended
    assert ended == (track_id,)
    assert tracker.active == ()


def test_weak_detection_continues_a_track_but_never_starts_one() -> None:
    tracker = FaceTracker(TrackerConfig(high_score=0.75))
    weak_alone = tracker.update(dets((0, 0, 40, 40), score=0.6))
    assert int(weak_alone.track_ids[0]) == -1
    assert tracker.tracks_started == 0
    track_id = int(tracker.update(dets((0, 0, 40, 40), score=0.9)).track_ids[0])
    assert int(tracker.update(dets((3, 0, 43, 40), score=0.6)).track_ids[0]) == track_id


def test_far_or_much_larger_detection_starts_a_new_track() -> None:
    tracker = FaceTracker()
    first = int(tracker.update(dets((0, 0, 40, 40))).track_ids[0])
    assert int(tracker.update(dets((300, 300, 340, 340))).track_ids[0]) != first
    tracker = FaceTracker()
    first = int(tracker.update(dets((0, 0, 40, 40))).track_ids[0])
    assert int(tracker.update(dets((0, 0, 120, 120))).track_ids[0]) != first


def test_end_all_reports_every_live_track() -> None:
    tracker = FaceTracker()
    update = tracker.update(dets((0, 0, 40, 40), (100, 0, 140, 40)))
    assert sorted(tracker.end_all()) == sorted(int(t) for t in update.track_ids)
    assert tracker.active == ()
